/**
 * Secrets at rest and API keys. AES-256-GCM with a random 96-bit IV per value and the owning
 * row's identity as additional data, so a ciphertext copied to another row does not decrypt.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 1;

export function encryptSecret(key: Buffer, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/** Throws when the key is wrong or the value was tampered with. */
export function decryptSecret(key: Buffer, sealed: Buffer, aad: string): string {
  if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('unknown secret format');
  const iv = sealed.subarray(1, 13);
  const tag = sealed.subarray(13, 29);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
}

/** A new API key: `hf_` + 32 random bytes; high entropy, so a plain SHA-256 is a safe stored form. */
export function newApiKey(): string {
  return `hf_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Constant-time string equality (hashes first so lengths never leak). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * The token of a run's resume URL for one wait node (docs/api.md §4.7): the tenant (so the run can
 * be found by its key), then an HMAC-SHA256 under the instance's secret key of tenant, run and node.
 * Unguessable without the key, nothing to store, and checked in constant time.
 */
export function resumeToken(key: Buffer, tenantId: string, runId: string, nodeId: string): string {
  const mac = createHmac('sha256', key).update(`hookflow-resume\0${tenantId}\0${runId}\0${nodeId}`).digest();
  return `${Buffer.from(tenantId).toString('base64url')}.${mac.toString('base64url')}`;
}

/** The tenant a resume token was made for, when it is genuine for that run and node; else undefined. */
export function checkResumeToken(
  key: Buffer,
  token: string,
  runId: string,
  nodeId: string,
): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const tenantId = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
  return safeEqual(resumeToken(key, tenantId, runId, nodeId), token) ? tenantId : undefined;
}
