/**
 * The inbound endpoint `/hooks/{tenant_id}/{flow_id}[/{node_id}]`, and the test URL
 * `/hooks-test/…` (docs/api.md §3.13): the same checks against the flow's draft (else the live
 * flow), even when the flow is disabled, starting a test run — no listen window, no de-duplication.
 *
 * Checks run in the order of docs/api.md §3.4: resolve → enabled → allowlist → GET verification (or a
 * preset's GET handshake) → method → credential → body size → body parse → a preset's signed
 * handshake → required parameters → idempotency (or a preset's de-duplication) → persist →
 * respond. An open listen window captures the request right after the allowlist, even for a
 * disabled flow. Only the last steps touch the database, and an accepted
 * request is answered only after the transaction holding its run has committed.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ParsedBody, parseBody } from '../core/body.ts';
import {
  checkParameterTypes,
  findMissingParameters,
  type Parameter,
  type RequestParts,
} from '../core/fields.ts';
import { newId } from '../core/ids.ts';
import {
  getPreset,
  type HandshakeAnswer,
  PRESET_DEDUPE_WINDOW_S,
  type Preset,
  type PresetRequest,
} from '../core/presets/index.ts';
import { renderDeep, type TemplateContext } from '../core/templates.ts';
import { verificationNeedsBody, verifyRequest } from '../core/verify/index.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import type { ResponseWaiter, WaitResult } from '../flows/responses.ts';
import { captureSample } from '../flows/store.ts';
import type { IngestMetrics } from '../metrics/metrics.ts';
import type { WebhookConfig } from '../nodes/webhook/index.ts';
import type { HookCache, HookNode } from './cache.ts';
import type { RunGroupCommitter } from './groupCommit.ts';
import { acceptIdempotent, type StoredResponse } from './idempotency.ts';

export type IngestDeps = {
  database: Database;
  responses: ResponseWaiter;
  cache: HookCache;
  committer: RunGroupCommitter;
  metrics: IngestMetrics;
  maxBodyBytes: number;
  now: () => number;
  /**
   * `PUBLIC_URL` (config.publicUrl, no trailing `/`): with the path and query as received, the URL
   * the sender called, which twilio and square sign. Without it those checks fail.
   */
  publicUrl?: string;
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The flow a /hooks request resolved to (null: unknown), for the per-flow metrics label. */
    hookflowFlowId: string | null;
  }
}

export const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export type Answer = { status: number; headers: Record<string, string>; body: Buffer };

export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: Buffer.from(JSON.stringify(value)),
});
export const problem = (status: number, code: string, msg: string, extra: Record<string, unknown> = {}) =>
  json(status, { msg, code, ...extra });

export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  app.register(async (scope) => {
    // Bodies are read here, by hand, so the size limit applies while streaming and the exact bytes
    // are kept for signature checks.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.decorateRequest('hookflowFlowId', null);
    // Every answered request, whatever answered it (a 500 from the error handler included).
    scope.addHook('onResponse', (request, reply, done) => {
      deps.metrics.inboundAnswered(request.hookflowFlowId ?? undefined, reply.statusCode);
      done();
    });

    const handlerOf =
      (test: boolean) =>
      async (
        request: FastifyRequest<{ Params: { tenant: string; flow: string; node?: string } }>,
        reply: FastifyReply,
      ) => {
        const answer = await handleHook(request, deps, test);
        reply.code(answer.status).headers(answer.headers);
        return reply.send(answer.body);
      };
    const handler = handlerOf(false);
    const testHandler = handlerOf(true);
    scope.route({ method: [...ROUTE_METHODS], url: '/hooks/:tenant/:flow', handler });
    scope.route({ method: [...ROUTE_METHODS], url: '/hooks/:tenant/:flow/:node', handler });
    scope.route({ method: [...ROUTE_METHODS], url: '/hooks-test/:tenant/:flow', handler: testHandler });
    scope.route({ method: [...ROUTE_METHODS], url: '/hooks-test/:tenant/:flow/:node', handler: testHandler });
  });
}

async function handleHook(
  request: FastifyRequest<{ Params: { tenant: string; flow: string; node?: string } }>,
  deps: IngestDeps,
  test = false,
): Promise<Answer> {
  const receivedAt = performance.now();
  const { tenant: tenantId, flow: flowId } = request.params;
  const method = request.method.toUpperCase();
  const entry = test ? await deps.cache.testFlow(tenantId, flowId) : await deps.cache.flow(tenantId, flowId);
  if (entry) request.hookflowFlowId = flowId;
  const nodeId = request.params.node ?? entry?.firstNodeId;
  const hook = nodeId ? entry?.nodes.get(nodeId) : undefined;
  if (!entry || !hook) return problem(404, 'webhook_not_found', 'Webhook not found');

  const capturing =
    !test &&
    !!hook.listeningUntil &&
    hook.listeningUntil > deps.now() &&
    method !== 'HEAD' &&
    method !== 'OPTIONS';
  // docs/api.md §3.4 answers "flow disabled" before the allowlist; an open listen window still captures.
  // The test URL runs a disabled flow too: trying it out before switching it on is what it is for.
  if (!entry.enabled && !capturing && !test) return flowDisabled();

  const tenant = await deps.cache.tenant(tenantId);
  if (tenant?.allowlist && !tenant.allowlist(request.ip))
    return problem(
      403,
      'ip_not_allowed',
      `Requests from ${request.ip} are not allowed by this tenant's IP allowlist`,
    );

  const config = hook.config;
  const maxBody = config.max_body_bytes ?? deps.maxBodyBytes;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = new BodyReader(request.raw, maxBody);

  if (capturing) {
    const captured = await tryCapture(request, deps, hook, body, query);
    if (captured) return captured;
  }

  if (!entry.enabled && !test) return flowDisabled();

  const allowed = new Set<string>(config.methods);
  allowed.add('GET');
  const verifying = (method === 'GET' || method === 'HEAD') && !config.methods.includes('GET');
  const preset = getPreset(config.preset);
  const credential = hook.credential;
  // The node's credential data for the preset's handshakes, when it is of the preset's type.
  const presetCredential =
    credential && preset?.credential_type && credential.type === preset.credential_type
      ? credential.data
      : undefined;
  // A preset's GET handshake goes before the default verification answer, not a configured one.
  if (preset?.answerBeforeAuth && !(verifying && config.verification)) {
    const shake = preset.answerBeforeAuth({ method, headers: request.headers, query }, presetCredential);
    if (shake) return handshakeAnswer(shake);
  }
  if (verifying) return verificationAnswer(request, config, query);
  if (method === 'OPTIONS')
    return { status: 204, headers: { allow: [...allowed, 'OPTIONS'].join(', ') }, body: Buffer.alloc(0) };
  if (!(config.methods as string[]).includes(method))
    return withHeader(
      problem(405, 'method_not_allowed', `This webhook does not accept ${method}`),
      'allow',
      [...allowed].join(', '),
    );

  const authType = config.auth.type;
  // Schemes whose check covers the body are checked after it is read, the others before.
  const bodySigned = verificationNeedsBody(authType);
  const url = deps.publicUrl && request.url.startsWith('/') ? deps.publicUrl + request.url : undefined;
  if (authType !== 'none') {
    if (!credential || credential.type !== authType)
      return challenge(
        authType,
        problem(401, 'unauthorized', 'The credential this webhook requires is not configured'),
      );
    if (!bodySigned) {
      const r = verifyRequest(authType, credential.data, {
        rawBody: Buffer.alloc(0),
        headers: request.headers,
        query: query as Record<string, string>,
        nowMs: deps.now(),
        url,
      });
      if (!r.ok)
        return challenge(authType, problem(401, 'unauthorized', `Authentication failed: ${r.reason}`));
    }
  }

  const raw = await body.read();
  if (raw === 'too_large') return tooLarge(maxBody);
  if (raw === 'aborted')
    return problem(400, 'body_incomplete', 'The request body was not received completely');

  if (authType !== 'none' && bodySigned && credential) {
    const r = verifyRequest(authType, credential.data, {
      rawBody: raw,
      headers: request.headers,
      query: query as Record<string, string>,
      nowMs: deps.now(),
      url,
    });
    if (!r.ok) return problem(401, 'unauthorized', `Signature verification failed: ${r.reason}`);
  }

  const parsed = await parseBody(raw, request.headers['content-type']);
  if (!parsed.ok) return problem(400, parsed.error.code, parsed.error.msg);
  const queryProblem = checkStorableQuery(query);
  if (queryProblem) return problem(400, 'invalid_query', queryProblem);

  const parts: RequestParts = { body: parsed.body.value, query, headers: request.headers };
  const shake = preset?.answerAfterAuth?.({ method, ...parts }, presetCredential);
  if (shake) return handshakeAnswer(shake);
  const badParameters = parameterProblem(config.parameters, parts);
  if (badParameters) return problem(400, badParameters.code, badParameters.msg, badParameters.details);

  const runId = newId('run');
  const trigger = buildTrigger(request, hook, parsed.body, raw, query);
  const ctx: TemplateContext = {
    Webhook: {
      Body: parsed.body.value,
      Headers: request.headers,
      Query: query,
      Method: method,
      Path: request.url,
    },
    run: { id: runId },
    flow: { id: flowId },
    tenant: { id: tenantId },
  };
  let response: Answer;
  try {
    response = await acceptedAnswer(config, ctx, runId);
  } catch (err) {
    return problem(
      500,
      'response_template_failed',
      `The configured response could not be rendered: ${(err as Error).message}`,
    );
  }
  const run = {
    tenantId,
    id: runId,
    flowId,
    triggerNodeId: hook.node.id,
    trigger: JSON.stringify(trigger),
    rawBody: raw.length ? raw : null,
    waitResponse: config.response.mode === 'flow',
    // A limit counted across processes (flow max_concurrency, tenant max_concurrent_runs) is only
    // kept by the workers' counting claim: such runs are never handed over at insert.
    local: entry.maxConcurrency === null && (tenant?.maxConcurrentRuns ?? null) === null,
    // A test run pins what the test URL served: the draft's revision, else the live version.
    ...(test
      ? {
          mode: 'test' as const,
          ...(entry.draftRevision !== undefined
            ? { draftRevision: entry.draftRevision }
            : { flowVersion: entry.version }),
        }
      : {}),
  };
  // Registered before the run exists, so an answer from a fast worker cannot slip past.
  const waiting = config.response.mode === 'flow' ? deps.responses.register(tenantId, runId) : undefined;

  // A test request is never de-duplicated (nor does it use up a key production will send).
  const idem = test ? undefined : idempotencyKey(config, preset, { method, ...parts });
  try {
    if (idem) {
      const outcome = await acceptIdempotent(deps.database, {
        run,
        key: idem.key.slice(0, 500),
        windowS: idem.windowS,
        response: { status: response.status, headers: response.headers, body: response.body },
      });
      if (outcome.replayed) {
        waiting?.cancel();
        return replay(outcome.response);
      }
    } else {
      await deps.committer.insert(run);
    }
    deps.metrics.runStored((performance.now() - receivedAt) / 1000);
  } catch (err) {
    waiting?.cancel();
    if (isDataError(err))
      return problem(
        400,
        'unstorable_request',
        'The request contains data that cannot be stored (invalid text encoding)',
      );
    // Not stored, so not accepted: the sender should try again (a database restart, say).
    request.log.warn({ err: (err as Error).message, run_id: runId }, 'storing an inbound request failed');
    return withHeader(
      problem(
        503,
        isDatabaseUnavailable(err) ? 'database_unavailable' : 'not_stored',
        'The request could not be stored and was not accepted; try again shortly',
      ),
      'retry-after',
      '1',
    );
  }
  if (waiting && config.response.mode === 'flow')
    return flowAnswer(await waiting.wait(config.response.timeout_ms), config, ctx, runId);
  return response;
}

/** The answer of a `flow`-mode request: the respond node's, the run's end, or the timeout fallback. */
async function flowAnswer(
  result: WaitResult,
  config: WebhookConfig,
  ctx: TemplateContext,
  runId: string,
): Promise<Answer> {
  if (result.kind === 'response') {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.response.headers ?? {})) headers[k] = safeHeaderValue(v);
    return { status: result.response.status, headers, body: Buffer.from(result.response.body ?? '') };
  }
  if (result.kind === 'ended') {
    if (result.status === 'succeeded') return json(200, { status: 'succeeded', run_id: runId });
    if (result.status === 'cancelled')
      return problem(409, 'run_cancelled', 'The run was cancelled', { run_id: runId });
    return problem(500, 'flow_failed', `The flow failed: ${result.error ?? 'unknown error'}`, {
      run_id: runId,
    });
  }
  const fallback = config.response.mode === 'flow' ? config.response.fallback : undefined;
  if (!fallback?.body)
    return json(fallback?.status ?? 504, { msg: 'Flow did not respond in time', run_id: runId });
  try {
    const body = await renderDeep(fallback.body, ctx);
    return {
      status: fallback.status,
      headers: { 'content-type': safeHeaderValue(await renderDeep(fallback.content_type, ctx)) },
      body: Buffer.from(toText(body)),
    };
  } catch {
    return json(fallback.status, { msg: 'Flow did not respond in time', run_id: runId });
  }
}

/**
 * The key a request is accepted once per: the node's `idempotency` header, else its preset's
 * delivery id (24 h). No key: not de-duplicated.
 */
function idempotencyKey(
  config: WebhookConfig,
  preset: Preset | undefined,
  req: PresetRequest,
): { key: string; windowS: number } | undefined {
  if (config.idempotency) {
    const key = headerValue(req.headers as IncomingMessage['headers'], config.idempotency.header);
    return key ? { key, windowS: config.idempotency.window_s } : undefined;
  }
  const key = preset?.dedupeKey?.(req);
  return key ? { key, windowS: PRESET_DEDUPE_WINDOW_S } : undefined;
}

function handshakeAnswer(a: HandshakeAnswer): Answer {
  if ('json' in a) return json(a.status, a.json);
  return {
    status: a.status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...a.headers },
    body: Buffer.from(a.text),
  };
}

function flowDisabled(): Answer {
  return problem(409, 'flow_disabled', 'This flow is disabled; enable it to accept webhooks');
}

/**
 * A 401 of a Basic or Bearer check says which scheme to answer with (RFC 9110 §11.6.1): Twilio and
 * other senders only send their Basic credentials after that challenge.
 */
function challenge(authType: string, a: Answer): Answer {
  if (authType === 'basic') return withHeader(a, 'www-authenticate', 'Basic realm="hookflow"');
  if (authType === 'bearer') return withHeader(a, 'www-authenticate', 'Bearer realm="hookflow"');
  return a;
}

export function withHeader(a: Answer, name: string, value: string): Answer {
  return { ...a, headers: { ...a.headers, [name]: value } };
}

export function tooLarge(limit: number): Answer {
  // The rest of the body is not read; close the connection rather than leave it unusable.
  return withHeader(
    problem(413, 'body_too_large', `The request body is larger than the limit of ${limit} bytes`, {
      limit_bytes: limit,
    }),
    'connection',
    'close',
  );
}

function replay(r: StoredResponse): Answer {
  return { status: r.status, headers: { ...r.headers, 'idempotent-replayed': 'true' }, body: r.body };
}

/** PostgreSQL data exceptions (class 22): the row itself is unstorable, not the database down. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('22');
}

async function acceptedAnswer(config: WebhookConfig, ctx: TemplateContext, runId: string): Promise<Answer> {
  const r = config.response;
  if (r.mode !== 'custom') return json(200, { status: 'accepted', run_id: runId });
  const headers = (await renderDeep(r.headers, ctx)) as Record<string, unknown>;
  const contentType = String((await renderDeep(r.content_type, ctx)) ?? 'application/json');
  const rendered = await renderDeep(r.body, ctx);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = safeHeaderValue(v);
  out['content-type'] = safeHeaderValue(contentType);
  return { status: r.status, headers: out, body: Buffer.from(toText(rendered)) };
}

async function verificationAnswer(
  request: FastifyRequest,
  config: WebhookConfig,
  query: Record<string, unknown>,
): Promise<Answer> {
  const v = config.verification;
  if (!v) return json(200, { status: 'ok' });
  const ctx: TemplateContext = {
    Webhook: {
      Body: null,
      Headers: request.headers,
      Query: query,
      Method: request.method,
      Path: request.url,
    },
  };
  try {
    const rendered = await renderDeep(v.body, ctx);
    const headers: Record<string, string> = {};
    for (const [k, val] of Object.entries((await renderDeep(v.headers, ctx)) as Record<string, unknown>))
      headers[k.toLowerCase()] = safeHeaderValue(val);
    headers['content-type'] = safeHeaderValue(await renderDeep(v.content_type, ctx));
    return { status: v.status, headers, body: Buffer.from(toText(rendered)) };
  } catch (err) {
    return problem(
      500,
      'response_template_failed',
      `The verification answer could not be rendered: ${(err as Error).message}`,
    );
  }
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * Header values from templates: stringified; control characters (CR/LF included, so no header can
 * be injected) become spaces, and non-ASCII text goes out as its UTF-8 bytes. Node refuses any
 * other header value, which would fail the answer after the run was already stored.
 */
function safeHeaderValue(v: unknown): string {
  let s = '';
  for (const ch of toText(v)) {
    const c = ch.codePointAt(0)!;
    s += (c < 0x20 && c !== 0x09) || c === 0x7f ? ' ' : ch;
  }
  return /[^\x20-\x7e\t]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

export function headerValue(headers: IncomingMessage['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function checkStorableQuery(query: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(query)) {
    for (const s of [k, ...(Array.isArray(v) ? v : [v])]) {
      if (typeof s === 'string' && (s.includes('\0') || (/[\uD800-\uDFFF]/.test(s) && !isWellFormed(s))))
        return `Query parameter "${k.replace(/\0/g, '')}" contains characters that cannot be stored (NUL or broken UTF-16)`;
    }
  }
  return undefined;
}

function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * The stored trigger: what a run and the API show. The header or query parameter that carried a
 * password-like credential (basic, bearer, api_key, gitlab's token) is redacted; signatures are kept.
 */
function buildTrigger(
  request: FastifyRequest,
  hook: HookNode,
  body: ParsedBody,
  raw: Buffer,
  query: Record<string, unknown>,
): Record<string, unknown> {
  const { headers, query: q } = redactCredential(hook, request.headers, query);
  return storedTrigger({
    method: request.method,
    path: request.url.split('?')[0],
    headers,
    query: q,
    body,
    contentType: request.headers['content-type'] ?? null,
    ip: request.ip,
    raw,
    fullBody: hook.config.full_body_parameter,
  });
}

/**
 * The trigger a run stores (docs/api.md §4.2), from a request's parts: the inbound endpoint's
 * and the run-now API's (src/flows/runNowRoute.ts, `ip: null` and `manual` there).
 */
export function storedTrigger(r: {
  method: string;
  path: string;
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  body: ParsedBody;
  contentType: string | null;
  ip: string | null;
  raw: Buffer;
  fullBody?: boolean;
}): Record<string, unknown> {
  const trigger: Record<string, unknown> = {
    method: r.method,
    path: r.path,
    headers: r.headers,
    query: r.query,
    body: r.body.value,
    body_kind: r.body.kind,
    content_type: r.contentType,
    ip: r.ip,
    received_at: new Date().toISOString(),
    size_bytes: r.raw.length,
  };
  if (r.fullBody) trigger.raw_text = r.raw.toString('utf8');
  return trigger;
}

/**
 * A request's required parameters (§3.4 row 12), then their declared types (row 13): the 400 it
 * gets, or undefined. The run-now API checks its input with the same.
 */
export function parameterProblem(
  params: Parameter[],
  parts: RequestParts,
): { code: string; msg: string; details: Record<string, unknown> } | undefined {
  const missing = findMissingParameters(params, parts);
  if (missing.length)
    return { code: 'missing_parameters', msg: 'Missing required parameter(s)', details: { missing } };
  const invalid = checkParameterTypes(params, parts);
  if (invalid.length)
    return { code: 'invalid_parameters', msg: 'Parameter(s) of the wrong type', details: { invalid } };
  return undefined;
}

/** Copies of headers and query with the password-like credential of the hook (if any) redacted. */
function redactCredential(
  hook: HookNode,
  requestHeaders: IncomingMessage['headers'],
  query: Record<string, unknown>,
): { headers: Record<string, unknown>; query: Record<string, unknown> } {
  const headers: Record<string, unknown> = { ...requestHeaders };
  const q: Record<string, unknown> = { ...query };
  const cred = hook.credential;
  if (cred) {
    if (cred.type === 'basic' || cred.type === 'bearer') {
      if (headers.authorization) headers.authorization = '[redacted]';
    } else if (cred.type === 'gitlab') {
      if (headers['x-gitlab-token'] !== undefined) headers['x-gitlab-token'] = '[redacted]';
    } else if (cred.type === 'api_key') {
      const name = String(cred.data.name ?? '');
      if (cred.data.in === 'query' && name in q) q[name] = '[redacted]';
      else if (headers[name.toLowerCase()] !== undefined) headers[name.toLowerCase()] = '[redacted]';
    }
  }
  return { headers, query: q };
}

async function tryCapture(
  request: FastifyRequest<{ Params: { tenant: string; flow: string; node?: string } }>,
  deps: IngestDeps,
  hook: HookNode,
  body: BodyReader,
  query: Record<string, unknown>,
): Promise<Answer | undefined> {
  const raw = await body.read();
  if (raw === 'too_large') return tooLarge(body.limit);
  if (raw === 'aborted')
    return problem(400, 'body_incomplete', 'The request body was not received completely');
  const parsed = await parseBody(raw, request.headers['content-type']);
  // A sample is shown in the API and UI: the same credential redaction as a run's trigger.
  const redacted = redactCredential(hook, request.headers, query);
  const sample = {
    method: request.method,
    path: request.url.split('?')[0],
    headers: redacted.headers,
    query: redacted.query,
    body: parsed.ok ? parsed.body.value : raw.toString('base64'),
    body_kind: parsed.ok ? parsed.body.kind : 'base64',
    parse_error: parsed.ok ? undefined : parsed.error,
    content_type: request.headers['content-type'] ?? null,
  };
  let won = false;
  try {
    won = await captureSample(
      deps.database,
      request.params.tenant,
      request.params.flow,
      hook.node.id,
      sample,
    );
  } catch (err) {
    if (!isDataError(err)) throw err;
    sample.body = raw.toString('base64');
    sample.body_kind = 'base64';
    won = await captureSample(
      deps.database,
      request.params.tenant,
      request.params.flow,
      hook.node.id,
      sample,
    );
  }
  hook.listeningUntil = undefined;
  return won ? json(200, { status: 'sample captured' }) : undefined;
}

/** Reads the request body once, stopping (without buffering further) as soon as it passes the limit. */
export class BodyReader {
  private result?: Promise<Buffer | 'too_large' | 'aborted'>;
  constructor(
    private readonly req: IncomingMessage,
    readonly limit: number,
  ) {}

  read(): Promise<Buffer | 'too_large' | 'aborted'> {
    this.result ??= this.consume();
    return this.result;
  }

  private consume(): Promise<Buffer | 'too_large' | 'aborted'> {
    const req = this.req;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limit) return Promise.resolve('too_large');
    if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onError);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.limit) {
          cleanup();
          req.pause();
          resolve('too_large');
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      };
      const onError = () => {
        cleanup();
        resolve('aborted');
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onError);
    });
  }
}
