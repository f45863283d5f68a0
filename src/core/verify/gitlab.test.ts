import { describe, expect, it } from 'vitest';
import { credentialDataSchemas, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request } from './testing.ts';

// docs.gitlab.com "Webhooks — Validate payloads by using a secret token": GitLab sends the token
// as given in X-Gitlab-Token; there is no signature, so the body plays no part.
const TOKEN = 'glwht-3f1c9a7e5b2d4c68';
const BODY = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', commits: [] });
const verify = (headers: Record<string, string | string[] | undefined>, token = TOKEN, body = BODY) =>
  verifyRequest(
    'gitlab',
    { token },
    request({ headers: { 'x-gitlab-event': 'Push Hook', ...headers }, body }),
  );

describe('gitlab verifier', () => {
  it('accepts the right token (header name in any case)', () => {
    expectAccepted(verify({ 'x-gitlab-token': TOKEN }));
    expectAccepted(verify({ 'X-Gitlab-Token': TOKEN }));
  });

  it('rejects a wrong token without revealing the right one', () => {
    for (const bad of [`${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase(), ` ${TOKEN}`, '']) {
      expectRejected(verify({ 'x-gitlab-token': bad }), 'Invalid X-Gitlab-Token', [TOKEN]);
    }
    expectRejected(verify({ 'x-gitlab-token': TOKEN }, 'another-token'), 'Invalid X-Gitlab-Token', [TOKEN]);
  });

  it('rejects a missing or repeated X-Gitlab-Token, and does not take the token from elsewhere', () => {
    expectRejected(verify({}), 'Missing X-Gitlab-Token header');
    expectRejected(verify({ authorization: `Bearer ${TOKEN}` }), 'Missing X-Gitlab-Token header');
    expectRejected(verify({ 'x-gitlab-token': [TOKEN, TOKEN] }), /Multiple/);
  });

  it('needs no body: any body passes with the right token', () => {
    expectAccepted(verify({ 'x-gitlab-token': TOKEN }, TOKEN, ''));
    expectAccepted(verify({ 'x-gitlab-token': TOKEN }, TOKEN, BODY.replace('main', 'evil')));
  });

  it('validates credential data', () => {
    expect(credentialDataSchemas.gitlab.safeParse({ token: TOKEN }).success).toBe(true);
    expect(credentialDataSchemas.gitlab.safeParse({ token: '' }).success).toBe(false);
    expect(credentialDataSchemas.gitlab.safeParse({ secret: TOKEN }).success).toBe(false);
  });
});
