/**
 * How a request to an endpoint is put together, shared by webhook_call and deliveries: Standard
 * Webhooks signature headers (made by the `standardwebhooks` package, one signature per valid
 * secret, space-separated), the endpoint's custom headers, and its auth.
 */
import { Webhook } from 'standardwebhooks';
import type { EndpointForSending, ResolvedEndpointAuth } from './store.ts';

/** `v1,<base64>` for each secret, space-separated (the `webhook-signature` header). */
export function signPayload(
  secrets: readonly string[],
  msgId: string,
  timestamp: Date,
  payload: string,
): string {
  return secrets.map((s) => signer(s).sign(msgId, timestamp, payload)).join(' ');
}

/** Signers by secret: building one decodes the secret, which is worth doing once, not per message. */
const signers = new Map<string, Webhook>();
function signer(secret: string): Webhook {
  let w = signers.get(secret);
  if (!w) {
    if (signers.size > 10_000) signers.clear();
    w = new Webhook(secret);
    signers.set(secret, w);
  }
  return w;
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
