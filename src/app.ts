/**
 * createApp(deps) → a fastify instance with every route; it never listens (tests use inject or
 * listen on port 0 themselves; server.ts listens in production).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { registerAuth } from './api/auth.ts';
import { renderDocsPage } from './api/docsPage.ts';
import { HttpError } from './api/errors.ts';
import { registerHealthRoutes } from './api/health.ts';
import { ApiDocs } from './api/http.ts';
import { registerNodeTypeRoutes } from './api/nodeTypes.ts';
import { registerPresetRoutes } from './api/presets.ts';
import { requestIdFor } from './api/requestId.ts';
import type { Config } from './config.ts';
import { registerCredentialRoutes } from './credentials/routes.ts';
import type { Database } from './db/connect.ts';
import { isDatabaseUnavailable } from './db/errors.ts';
import { registerEndpointRoutes } from './delivery/endpoints/routes.ts';
import { registerEventRoutes } from './delivery/events.ts';
import { OutboundClient } from './delivery/httpClient.ts';
import { registerMessageRoutes } from './delivery/messages.ts';
import { createWebhookCaller } from './delivery/webhookCall.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { registerDraftRoutes } from './flows/draftRoutes.ts';
import { registerPortableFlowRoutes } from './flows/portableRoutes.ts';
import { ResponseWaiter } from './flows/responses.ts';
import { registerFlowRoutes } from './flows/routes.ts';
import { registerRunNowRoute } from './flows/runNowRoute.ts';
import { registerRunRoutes } from './flows/runsRoutes.ts';
import { registerScheduleRoutes } from './flows/scheduleRoutes.ts';
import { Scheduler } from './flows/scheduler.ts';
import { type FinishedRun, RunWorker } from './flows/worker.ts';
import { HookCache } from './ingest/cache.ts';
import { RunGroupCommitter } from './ingest/groupCommit.ts';
import { registerResumeRoutes } from './ingest/resume.ts';
import { registerIngestRoutes } from './ingest/route.ts';
import { HookflowMetrics } from './metrics/metrics.ts';
import { readQueueSnapshot } from './metrics/queues.ts';
import { registerMetricsRoute } from './metrics/route.ts';
import { Mailer, runNotification } from './notify/mailer.ts';
import { ReplayCoordinator } from './replay/coordinator.ts';
import { registerReplayRoutes } from './replay/routes.ts';
import { registerTenantRoutes } from './tenants/routes.ts';
import { registerUiRoutes } from './ui/static.ts';
import { VERSION } from './version.ts';

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request did not arrive completely in time'],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are too large'],
};

/** Answers a connection-level client error (if nothing was answered yet) and closes the connection. */
function answerClientError(err: Error, socket: Socket): void {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNRESET' || socket.destroyed) return;
  const [status, errorCode, msg] = CLIENT_ERRORS[code] ?? [
    400,
    'bad_request',
    'The request is not valid HTTP',
  ];
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const body = JSON.stringify({ msg, code: errorCode });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** E-mail per flow settings (notify.on_failure / on_success); never blocks or fails the run. */
function notifyRunFinished(mailer: Mailer, publicUrl: string, run: FinishedRun): void {
  // Test and replay runs send no e-mail (docs/api.md §3.13, §3.14).
  if (run.mode) return;
  const to = run.status === 'failed' ? run.settings?.notify?.on_failure : run.settings?.notify?.on_success;
  if (!to?.length) return;
  const mail = runNotification({
    flowName: run.flowName,
    flowId: run.flowId,
    runId: run.runId,
    status: run.status,
    error: run.error,
    publicUrl,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  });
  mailer.enqueue({ to, ...mail });
}

export type Role = 'all' | 'api' | 'worker';

export type AppDeps = {
  config: Config;
  database: Database;
  secretKey: Buffer;
  now?: () => number;
  logger?: boolean | Record<string, unknown>;
  /** all (default): API, inbound and run workers; api: no workers; worker: workers and health only. */
  role?: Role;
  /** Worker tuning (tests shorten the lease and the poll). */
  worker?: { leaseMs?: number; pollMs?: number; batchSize?: number; maxInFlight?: number };
  /** Delivery worker tuning (tests: a short poll, a deterministic jitter). */
  delivery?: {
    pollMs?: number;
    leaseMs?: number;
    random?: () => number;
    timeoutMs?: number;
    stopGraceMs?: number;
  };
  /** Mail for run notifications (default: from SMTP_URL). */
  mailer?: Mailer;
  /** The admin UI's build folder (default: web/dist of this checkout). */
  uiDir?: string;
};

export type App = FastifyInstance & {
  hookflow: {
    cache: HookCache;
    committer: RunGroupCommitter;
    worker?: RunWorker;
    /** The schedule triggers' ticks (docs/api.md §4.8): beside the run worker. */
    scheduler?: Scheduler;
    /** Shadow replays (docs/api.md §3.14): beside the run worker. */
    replays?: ReplayCoordinator;
    delivery?: DeliveryWorker;
    client: OutboundClient;
    metrics: HookflowMetrics;
  };
};

export async function createApp(deps: AppDeps): Promise<App> {
  const { config, database, secretKey } = deps;
  const now = deps.now ?? Date.now;
  const app = fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // A request must arrive whole within the timeout (no slowloris holding a connection open by
    // dripping its body); Node checks at intervals, so the interval follows the timeout.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: 60_000,
    http: {
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.requestTimeoutMs / 4))),
    },
    // Errors found before a request reaches a route (a timeout, oversized headers, broken HTTP):
    // in the API's error shape, not fastify's.
    clientErrorHandler: answerClientError,
    // Our own 503 while closing (below), in the API's error shape.
    return503OnClosing: false,
    // Per-request lines cost throughput on the ingest path; LOG_LEVEL=debug turns them on.
    logController: new LogController({
      disableRequestLogging: !['debug', 'trace'].includes(config.logLevel),
    }),
    // Logged as `reqId` on every line of the request (request.log) and echoed in x-request-id.
    genReqId: requestIdFor,
    // The router's own errors in the API's error shape: an id too long to exist is not found (for
    // a hook, docs/api.md §3.4's 404 "Webhook not found"); a malformed %-escape is a bad request.
    frameworkErrors: (err, request, reply) => {
      const answer = (status: number, body: { msg: string; code: string }) =>
        (reply as unknown as FastifyReply).code(status).send(body);
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
        return request.url.startsWith('/hooks/')
          ? answer(404, { msg: 'Webhook not found', code: 'webhook_not_found' })
          : answer(404, { msg: 'Not found', code: 'not_found' });
      if (err.code === 'FST_ERR_BAD_URL')
        return answer(400, { msg: 'The URL has a malformed %-escape', code: 'bad_url' });
      return answer(500, { msg: 'Internal error', code: 'internal_error' });
    },
  }) as unknown as App;

  // Node keeps only the first 2,000 header lines (1,000 headers) and drops the rest silently — Host
  // included, which then fails the request with a bare 400. The header block's size limit (16 KiB,
  // 431 above it) is bound enough.
  app.server.maxHeadersCount = 0;

  const role = deps.role ?? 'all';
  const cache = new HookCache(database, secretKey, 30_000, now);
  const committer = new RunGroupCommitter(database);
  const responses = new ResponseWaiter(database);
  const client = new OutboundClient({ allowPrivateTargets: config.allowPrivateTargets });
  const mailer = deps.mailer ?? new Mailer({ smtpUrl: config.smtpUrl, log: app.log });
  const metrics = new HookflowMetrics({
    readQueues: () => readQueueSnapshot(database.db, new Date(now())),
    now,
  });
  const worker =
    role === 'api'
      ? undefined
      : new RunWorker({
          database,
          secretKey,
          publicUrl: config.publicUrl,
          client,
          webhookCall: createWebhookCaller({ database, secretKey, client, now }),
          now,
          log: app.log.child({ component: 'run_worker' }),
          metrics,
          leaseMs: deps.worker?.leaseMs,
          pollMs: deps.worker?.pollMs,
          batchSize: deps.worker?.batchSize,
          maxInFlight: deps.worker?.maxInFlight,
          onRunFinished: (run) => {
            if (run.mode === 'replay') replays?.poke();
            notifyRunFinished(mailer, config.publicUrl, run);
          },
        });
  const replays = worker
    ? new ReplayCoordinator({ database, now, log: app.log.child({ component: 'replays' }) })
    : undefined;
  const scheduler = worker
    ? new Scheduler({ database, now, log: app.log.child({ component: 'scheduler' }) })
    : undefined;
  const delivery =
    role === 'api'
      ? undefined
      : new DeliveryWorker({
          database,
          secretKey,
          client,
          log: app.log.child({ component: 'delivery_worker' }),
          metrics,
          retrySchedule: config.retrySchedule,
          disableAfterMs: config.disableEndpointAfterMs,
          circuit: {
            failures: config.circuitFailures,
            cooldownS: config.circuitCooldownS,
            maxCooldownS: 600,
          },
          notify: (_tenantId, to, subject, text) => mailer.enqueue({ to, subject, text }),
          now,
          random: deps.delivery?.random,
          pollMs: deps.delivery?.pollMs,
          stopGraceMs: deps.delivery?.stopGraceMs,
          leaseMs: deps.delivery?.leaseMs ?? config.deliveryLeaseMs,
          // A request always ends before its lease does, so no other worker sends it meanwhile.
          timeoutMs:
            deps.delivery?.timeoutMs ??
            Math.min(15_000, (deps.delivery?.leaseMs ?? config.deliveryLeaseMs) - 1000),
        });
  // Runs this process accepts go straight to its own run worker while it has room.
  if (worker) committer.setLocalRunner(worker.localRunner());
  app.decorate('hookflow', { cache, committer, worker, scheduler, replays, delivery, client, metrics });
  app.addHook('onReady', async () => {
    await cache.start();
    await responses.start();
    await worker?.start();
    await scheduler?.start();
    await replays?.start();
    await delivery?.start();
  });
  app.addHook('onClose', async () => {
    await committer.drain();
    await scheduler?.stop();
    await replays?.stop();
    // Side by side: the run grace and the delivery request timeout must both fit the shutdown limit.
    await Promise.all([worker?.stop(), delivery?.stop()]);
    await responses.stop();
    await cache.stop();
    await mailer.close();
    await client.close();
  });
  // JSON bodies must be UTF-8: broken bytes are refused, not silently replaced. Prototype
  // poisoning keys are refused as before (fastify's own parser does the parsing).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  // The API speaks JSON only: text bodies get 415, not a confusing validation error.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new HttpError(400, 'invalid_utf8', 'The body is not valid UTF-8'), undefined);
    }
    parseJson(request, text, done);
  });

  // Shutting down: requests still arriving on open connections are turned away (a load balancer
  // sends them elsewhere), and the connection is closed.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (closing)
      return reply
        .code(503)
        .header('connection', 'close')
        .header('retry-after', '1')
        .send({ msg: 'Hookflow is shutting down; try again', code: 'shutting_down' });
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send(err.toJSON());
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      const code = (err as FastifyError).code ?? '';
      const mapped =
        code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? { code: 'body_too_large', msg: 'The request body is too large' }
          : code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? { code: 'unsupported_media_type', msg: 'Send JSON with Content-Type: application/json' }
            : code.startsWith('FST_ERR_CTP') || err instanceof SyntaxError
              ? { code: 'invalid_json', msg: `The body is not valid JSON: ${err.message}` }
              : { code: 'bad_request', msg: err.message };
      return reply.code(status).send(mapped);
    }
    // Text PostgreSQL cannot hold (a NUL character in a name, an id, a query value) is the
    // client's mistake, not an internal error.
    const pgCode = (err as { code?: unknown }).code;
    if (pgCode === '22021' || pgCode === '22P05')
      return reply.code(400).send({
        msg: 'The request contains characters that cannot be stored (such as NUL)',
        code: 'invalid_characters',
      });
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ err: (err as Error).message }, 'request failed: the database is unavailable');
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ msg: 'The database is unavailable; try again shortly', code: 'database_unavailable' });
    }
    request.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .send({ msg: 'Internal error; the request id is in the x-request-id header', code: 'internal_error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ msg: `No route ${request.method} ${request.url.split('?')[0]}`, code: 'route_not_found' }),
  );

  registerHealthRoutes(app, database);
  registerMetricsRoute(app, metrics, { token: config.metricsToken });
  if (role === 'worker') return app;
  registerIngestRoutes(app, {
    database,
    cache,
    committer,
    responses,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    now,
    publicUrl: config.publicUrl,
  });
  registerResumeRoutes(app, { database, secretKey, maxBodyBytes: config.maxBodyBytes, now });

  const docs = new ApiDocs();
  await app.register(async (api) => {
    registerAuth(api, database);
    registerTenantRoutes(api, docs, database);
    registerCredentialRoutes(api, docs, database, secretKey);
    registerFlowRoutes(api, docs, database, config.publicUrl, now);
    registerPortableFlowRoutes(api, docs, database, config.publicUrl, now);
    registerDraftRoutes(api, docs, database, config.publicUrl, now);
    registerReplayRoutes(api, docs, database, { onCreated: () => replays?.poke() });
    registerScheduleRoutes(api, docs, now);
    registerRunNowRoute(api, docs, database, { maxBodyBytes: config.maxBodyBytes });
    registerPresetRoutes(api, docs);
    registerNodeTypeRoutes(api, docs);
    registerRunRoutes(api, docs, database, now, metrics);
    registerEndpointRoutes(api, docs, database, secretKey, now);
    registerEventRoutes(api, docs, database, now);
    registerMessageRoutes(api, docs, database, now);
  });
  app.get('/api/openapi.json', async () => docs.document(config.publicUrl, VERSION));
  app.get('/api/docs', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(renderDocsPage(docs.document(config.publicUrl, VERSION))),
  );
  // Last: the admin UI answers the GET paths no route above has (a worker never gets here).
  registerUiRoutes(app, { dir: deps.uiDir });
  return app;
}
