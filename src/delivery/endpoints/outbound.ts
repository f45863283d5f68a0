/**
 * How a request to an endpoint is put together, shared by webhook_call and deliveries: Standard
 * Webhooks signature headers (one signature per valid secret, space-separated), the endpoint's
 * custom headers, and its auth.
 *
 * The signature is the Standard Webhooks scheme — `v1,` + base64(HMAC-SHA256(key, "id.ts.body"))
 * with the key the base64 part of `whsec_…` — computed with node:crypto (native; the
 * `standardwebhooks` package hashes in JavaScript at about three times the cost). Tests verify
 * every kind of request with the `standardwebhooks` package itself.
 */
import { createHmac } from 'node:crypto';
import type { EndpointForSending, ResolvedEndpointAuth } from './store.ts';

/** `v1,<base64>` for each secret, space-separated (the `webhook-signature` header). */
export function signPayload(
  secrets: readonly string[],
  msgId: string,
  timestamp: Date,
  payload: string,
): string {
  const signed = `${msgId}.${Math.floor(timestamp.getTime() / 1000)}.${payload}`;
  let out = '';
  for (const s of secrets) {
    if (out) out += ' ';
    out += `v1,${createHmac('sha256', signingKey(s)).update(signed).digest('base64')}`;
  }
  return out;
}

/** Decoded keys by secret: decoding is worth doing once, not per message. */
const keys = new Map<string, Buffer>();
function signingKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
    if (key.length === 0) throw new Error("A signing secret can't be empty");
    if (keys.size > 10_000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** Sets the auth header (or query parameter) on a request being built. */
export function applyEndpointAuth(
  auth: ResolvedEndpointAuth,
  url: URL,
  headers: Record<string, string>,
): void {
  switch (auth.type) {
    case 'basic':
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      return;
    case 'bearer':
      headers.authorization = `Bearer ${auth.token}`;
      return;
    case 'api_key':
      if (auth.in === 'query') url.searchParams.set(auth.name, auth.value);
      else headers[auth.name.toLowerCase()] = auth.value;
      return;
    default:
      return;
  }
}

/**
 * URL and headers for one signed request to an endpoint: custom headers first, then auth, then
 * the content type and the signature headers (which nothing may override).
 */
export function buildEndpointRequest(
  endpoint: Pick<EndpointForSending, 'url' | 'headers' | 'auth' | 'secrets'>,
  msg: { id: string; timestamp: Date; payload: string; contentType?: string },
): { url: string; headers: Record<string, string> } {
  const url = new URL(endpoint.url);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoint.headers)) headers[k.toLowerCase()] = v;
  applyEndpointAuth(endpoint.auth, url, headers);
  headers['content-type'] = msg.contentType ?? 'application/json';
  headers['webhook-id'] = msg.id;
  headers['webhook-timestamp'] = String(Math.floor(msg.timestamp.getTime() / 1000));
  headers['webhook-signature'] = signPayload(endpoint.secrets, msg.id, msg.timestamp, msg.payload);
  return { url: url.toString(), headers };
}
