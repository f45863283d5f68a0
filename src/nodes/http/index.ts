/**
 * `http`: calls any HTTP API through the SSRF-guarded client (docs/api.md §4.3). At-least-once: the
 * answer is checkpointed right after the call, so a finished call is never repeated, but a call in
 * flight when a worker dies is made again. Credentials are applied to the request and redacted
 * from the recorded input.
 */
import { z } from 'zod';
import { signHmac } from '../../core/verify/index.ts';
import { applyEndpointAuth } from '../../delivery/endpoints/outbound.ts';
import type { ResolvedEndpointAuth } from '../../delivery/endpoints/store.ts';
import type { EngineEffects } from '../../flows/engine.ts';
import type { NodeDefinition } from '../types.ts';
import {
  HTTP_METHODS,
  headersSchema,
  NodeFailure,
  parseResponseBody,
  render,
  renderHeaders,
  templateString,
  toBody,
} from '../util.ts';

const schema = z
  .object({
    method: z.enum(HTTP_METHODS).default('GET'),
    url: templateString.min(1),
    headers: headersSchema.default({}),
    query: z.record(z.string(), templateString).optional(),
    body: z.unknown().optional(),
    credential_id: z.string().min(1).optional(),
    timeout_ms: z.number().int().min(1).max(300_000).default(15_000),
    /** A 4xx/5xx answer fails the node (and the run) unless this is false. */
    fail_on_error_status: z.boolean().default(true),
  })
  .strict();
export type HttpConfig = z.infer<typeof schema>;

/** Credential types an `http` node can authenticate with. */
export const OUTBOUND_CREDENTIAL_TYPES = ['basic', 'bearer', 'api_key', 'hmac'] as const;

export const httpNode: NodeDefinition<HttpConfig> = {
  type: 'http',
  catalog: {
    label: 'HTTP request',
    description: 'Calls any HTTP API; the answer lands in steps.<id>',
    category: 'action',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: { method: 'GET', url: 'https://', headers: {}, timeout_ms: 15000 },
    fields: [
      {
        key: 'method',
        label: 'Method',
        kind: 'select',
        options: HTTP_METHODS.map((m) => ({ value: m, label: m })),
        default: 'GET',
      },
      { key: 'url', label: 'URL', kind: 'template' },
      {
        key: 'headers',
        label: 'Headers',
        kind: 'key_value',
        key_placeholder: 'x-header',
        value_placeholder: 'value or ${vars.token}',
      },
      { key: 'body', label: 'Body', kind: 'body', optional: true },
      {
        key: 'credential_id',
        label: 'Credential',
        kind: 'credential',
        optional: true,
        credential_types: [...OUTBOUND_CREDENTIAL_TYPES],
      },
      {
        key: 'timeout_ms',
        label: 'Timeout (ms)',
        kind: 'number',
        min: 1,
        max: 300000,
        optional: true,
        default: 15000,
      },
      {
        key: 'fail_on_error_status',
        label: 'A 4xx or 5xx answer fails the run',
        kind: 'boolean',
        default: true,
      },
    ],
    panel: null,
    summary: ['{method} {url}', 'GET {url}'],
    note: 'The answer is in steps.<this node>: status, headers and body.',
    output: '{status, headers, body}; body parsed when the answer is JSON',
  },
  schema,
  credentialRefs: (config) =>
    config.credential_id
      ? [{ field: 'credential_id', id: config.credential_id, types: OUTBOUND_CREDENTIAL_TYPES }]
      : [],
  execute: async ({ config, ctx, state, effects }) => {
    const method = String(await render(config.method ?? 'GET', ctx, 'method')).toUpperCase();
    const url = new URL(String(await render(config.url, ctx, 'url')));
    for (const [k, v] of Object.entries(
      (await render(config.query ?? {}, ctx, 'query')) as Record<string, unknown>,
    ))
      url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    const headers = await renderHeaders(config.headers, ctx);
    const body =
      method === 'GET' || method === 'HEAD'
        ? undefined
        : toBody(await render(config.body, ctx, 'body'), headers);
    const secret = config.credential_id
      ? await applyCredential(effects, state.tenantId, config.credential_id, url, headers, body)
      : { params: [], headers: [] };
    const input = {
      method,
      url: redactUrl(url, secret.params),
      headers: redactHeaders(headers, secret.headers),
      body,
    };
    let res: Awaited<ReturnType<typeof effects.http>>;
    try {
      res = await effects.http({
        method,
        url: url.toString(),
        headers,
        body,
        timeoutMs: config.timeout_ms,
        maxResponseBytes: 5 * 1024 * 1024,
        onOversize: 'error',
        maxRedirects: 5,
      });
    } catch (err) {
      // Kept with the failure: what was sent (a replay answers the same request with the same failure).
      throw new NodeFailure(err instanceof Error ? err.message : String(err), { input });
    }
    const output = {
      status: res.status,
      headers: res.headers,
      body: parseResponseBody(res),
      ...(res.error ? { error: res.error } : {}),
    };
    if (res.error && config.fail_on_error_status !== false)
      throw new NodeFailure(`${method} ${url.host}${url.pathname}: ${res.error}`, { input, output });
    if ((res.status < 200 || res.status >= 300) && config.fail_on_error_status !== false)
      throw new NodeFailure(`${method} ${url.host}${url.pathname} answered ${res.status}`, { input, output });
    return { kind: 'done', input, output, checkpoint: true };
  },
};

async function applyCredential(
  effects: EngineEffects,
  tenantId: string,
  credentialId: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ params: string[]; headers: string[] }> {
  const cred = await effects.credential(tenantId, credentialId);
  if (!cred) throw new NodeFailure(`credential "${credentialId}" does not exist`);
  const d = cred.data as Record<string, string>;
  switch (cred.type) {
    case 'basic':
    case 'bearer':
    case 'api_key':
      // Stored credential data has the shape endpoint auth is sent with: one way to apply it.
      applyEndpointAuth({ type: cred.type, ...d } as ResolvedEndpointAuth, url, headers);
      return cred.type !== 'api_key'
        ? { params: [], headers: [] }
        : d.in === 'query'
          ? { params: [d.name as string], headers: [] }
          : { params: [], headers: [(d.name as string).toLowerCase()] };
    case 'hmac':
      headers[String(d.header).toLowerCase()] = signHmac(cred.data as any, Buffer.from(body ?? ''));
      return { params: [], headers: [] };
    default:
      throw new NodeFailure(`a ${cred.type} credential cannot authenticate an outbound call`);
  }
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']);

function redactHeaders(h: Record<string, string>, extra: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    out[k] = SECRET_HEADERS.has(k) || extra.includes(k) ? '[redacted]' : v;
  return out;
}

function redactUrl(url: URL, secretParams: string[]): string {
  if (!secretParams.length) return url.toString();
  const copy = new URL(url);
  for (const p of secretParams) if (copy.searchParams.has(p)) copy.searchParams.set(p, '[redacted]');
  return copy.toString();
}
