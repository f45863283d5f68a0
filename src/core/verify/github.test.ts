import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

const SECRET = "It's a Secret to Everybody";
const PAYLOAD = JSON.stringify({ action: 'opened', issue: { number: 1, title: 'Héllo wörld ✓' } });
const data = { secret: SECRET };

const verify = (
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer = PAYLOAD,
  d = data,
) => verifyRequest('github', d, request({ headers: { 'x-github-event': 'issues', ...headers }, body }));

describe('github verifier', () => {
  it("accepts a request signed with @octokit/webhooks-methods' sign", async () => {
    const signature = await sign(SECRET, PAYLOAD);
    expectAccepted(verify({ 'x-hub-signature-256': signature }));
  });

  it("matches GitHub's documented example signature", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expectAccepted(verify({ 'x-hub-signature-256': sig }, 'Hello, World!'));
  });

  it('accepts upper-case hex', async () => {
    const signature = await sign(SECRET, PAYLOAD);
    expectAccepted(verify({ 'x-hub-signature-256': 'sha256=' + signature.slice(7).toUpperCase() }));
  });

  it('rejects a signature made with the wrong secret without revealing the secret', async () => {
    const signature = await sign('wrong secret', PAYLOAD);
    expectRejected(verify({ 'x-hub-signature-256': signature }), 'Signature does not match', [SECRET]);
  });

  it('rejects a tampered body', async () => {
    const signature = await sign(SECRET, PAYLOAD);
    expectRejected(verify({ 'x-hub-signature-256': signature }, PAYLOAD.replace('opened', 'closed')));
    expectRejected(
      verify({ 'x-hub-signature-256': signature }, JSON.stringify(JSON.parse(PAYLOAD), null, 2)),
    );
  });

  it('rejects a missing X-Hub-Signature-256 header, and does not fall back to SHA-1', async () => {
    expectRejected(verify({}), 'Missing X-Hub-Signature-256 header');
    const sha1 = 'sha1=' + (await sign(SECRET, PAYLOAD)).slice(7, 47);
    expectRejected(verify({ 'x-hub-signature': sha1 }), 'Missing X-Hub-Signature-256 header');
  });

  it('rejects malformed X-Hub-Signature-256 headers', async () => {
    const signature = await sign(SECRET, PAYLOAD);
    const hex = signature.slice(7);
    for (const bad of [
      hex, // no scheme
      'sha1=' + hex,
      'sha256=' + hex.slice(0, -1),
      'sha256=' + hex + '0',
      'sha256=' + 'g'.repeat(64),
      'sha256=' + Buffer.from(hex, 'hex').toString('base64'),
      'garbage',
    ]) {
      expectRejected(verify({ 'x-hub-signature-256': bad }), 'Malformed X-Hub-Signature-256 header');
    }
    expectRejected(verify({ 'x-hub-signature-256': [signature, signature] }), /Multiple/);
  });

  it('validates credential data', () => {
    expect(credentialDataSchemas.github.safeParse(data).success).toBe(true);
    expect(credentialDataSchemas.github.safeParse({ secret: '' }).success).toBe(false);
    expect(credentialDataSchemas.github.safeParse({}).success).toBe(false);
  });
});
