/**
 * The master key for secrets at rest (HOOKFLOW_SECRET_KEY). When it is not configured, one is
 * generated into DATA_DIR/secret.key (0600) on first start. The database remembers a check value
 * sealed with the key, so a process started with a different key stops at boot with a clear
 * sentence instead of failing later on every credential.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeKey } from './config.ts';
import { decryptSecret, encryptSecret } from './core/crypto.ts';
import type { Database } from './db/connect.ts';

const CHECK_TEXT = 'hookflow-secret-key-check';

export class SecretKeyError extends Error {}

export function resolveSecretKey(
  configured: string | undefined,
  dataDir: string,
): { key: Buffer; generatedAt?: string } {
  if (configured) return { key: decodeKey(configured)! };
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) {
    const key = decodeKey(readFileSync(file, 'utf8').trim());
    if (!key)
      throw new SecretKeyError(`${file} does not hold a 32-byte key; restore it or set HOOKFLOW_SECRET_KEY`);
    return { key };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generatedAt: file };
}

/** Stores the check value on first use; afterwards proves the key is the one the data was sealed with. */
export async function checkSecretKey(database: Database, key: Buffer): Promise<void> {
  const row = await database.db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'secret_key_check')
    .executeTakeFirst();
  if (!row) {
    const sealed = encryptSecret(key, CHECK_TEXT, 'meta:secret_key_check').toString('base64');
    await database.db
      .insertInto('meta')
      .values({ key: 'secret_key_check', value: JSON.stringify(sealed) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return checkSecretKey(database, key).catch(() => {
      throw new SecretKeyError(
        'Another process initialised the database with a different HOOKFLOW_SECRET_KEY.',
      );
    });
  }
  try {
    if (decryptSecret(key, Buffer.from(String(row.value), 'base64'), 'meta:secret_key_check') === CHECK_TEXT)
      return;
  } catch {}
  throw new SecretKeyError(
    'HOOKFLOW_SECRET_KEY does not match the key this database was set up with, so stored secrets cannot be read. Start with the original key (every process sharing a DATABASE_URL needs the same HOOKFLOW_SECRET_KEY).',
  );
}
