/**
 * Delivery workers: claim due deliveries in batches under a lease (`SKIP LOCKED`), sign and send
 * each message through the SSRF-guarded keep-alive client, record every attempt, and move the
 * delivery on: delivered (2xx), retried on the schedule with jitter (Retry-After on 429/503
 * honoured within [scheduled, 2 × scheduled]), or failed when the schedule is exhausted. A 410
 * disables the endpoint; so does an endpoint whose every attempt has failed for N days. Rate limits
 * per endpoint are counted in the database, so they hold across worker processes.
 */
import { hostname } from 'node:os';
import { newId } from '../core/ids.ts';
import { delayAfterFailureMs } from '../core/retry.ts';
import { renderDeep } from '../core/templates.ts';
import { Wakeable } from '../core/wakeable.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { NotifiedCache, subscribeToCacheNotifications } from '../db/notifiedCache.ts';
import type { DeliveryMetrics } from '../metrics/metrics.ts';
import { getTenant } from '../tenants/store.ts';
import { buildEndpointRequest } from './endpoints/outbound.ts';
import { type EndpointForSending, loadEndpointForSending } from './endpoints/store.ts';
import { type OutboundClient, OutboundError } from './httpClient.ts';
import {
  type AttemptResult,
  type ClaimedDelivery,
  claimDueDeliveries,
  closeDeliveries,
  DELIVERIES_CHANNEL,
  disableEndpointForFailures,
  postponeDeliveries,
  recordAttempts,
  takeRateSlots,
} from './store.ts';

type Log = {
  info(o: unknown, m?: string): void;
  warn(o: unknown, m?: string): void;
  error(o: unknown, m?: string): void;
};

export type DeliveryWorkerOptions = {
  database: Database;
  secretKey: Buffer;
  client: OutboundClient;
  log: Log;
  /** Outcomes, attempt durations and delivery lag (for /metrics). */
  metrics?: DeliveryMetrics;
  /** Seconds between attempts (HOOKFLOW_RETRY_SCHEDULE); an endpoint's own schedule wins. */
  retrySchedule: number[];
  /** An endpoint whose attempts have all failed this long is disabled. */
  disableAfterMs: number;
  /** Mail to the tenant's notification addresses (endpoint disabled). */
  notify?: (tenantId: string, to: string[], subject: string, text: string) => void;
  now?: () => number;
  random?: () => number;
  workerId?: string;
  batchSize?: number;
  leaseMs?: number;
  pollMs?: number;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  maxBatchesInFlight?: number;
};

const RESPONSE_BODY_LIMIT = 4096;
/**
 * Rate-limited sends are not started in the last quarter of a second: they could arrive in the next
 * second, on top of that second's own budget. A quarter (not less) because a busy process can take
 * that long from the grant to the request reaching the receiver; the cost is at most 250 ms of
 * extra wait, and only for rate-limited endpoints.
 */
const RATE_SECOND_MARGIN_MS = 250;
const FAILURE_EVENTS = new Set(['message.attempt.exhausted', 'endpoint.disabled']);

export class DeliveryWorker {
  readonly workerId: string;
  private readonly now: () => number;
  private readonly endpoints: NotifiedCache<EndpointForSending | null>;
  private stopping = false;
  private loopDone?: Promise<void>;
  private readonly waiting = new Wakeable();
  private unlisten?: () => Promise<void>;
  private unsubscribeCache?: () => Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${newId('dw').slice(-6)}`;
    this.now = opts.now ?? Date.now;
    this.endpoints = new NotifiedCache(5_000, this.now);
  }

  async start(): Promise<void> {
    this.unsubscribeCache = await subscribeToCacheNotifications(
      this.opts.database,
      (p) => this.endpoints.invalidate(p),
      () => this.endpoints.clear(),
    );
    this.unlisten = await this.opts.database.listen(
      DELIVERIES_CHANNEL,
      () => this.poke(),
      () => this.poke(),
    );
    this.loopDone = this.loop();
  }

  /** Stops claiming and waits for the batch in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.loopDone;
    await this.unlisten?.();
    await this.unsubscribeCache?.();
  }

  poke(): void {
    this.waiting.poke();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopping) {
      this.waiting.arm();
      let claimed: ClaimedDelivery[];
      try {
        claimed = await claimDueDeliveries(this.opts.database.db, {
          workerId: this.workerId,
          now: new Date(this.now()),
          leaseMs: this.opts.leaseMs ?? 60_000,
          limit: this.opts.batchSize ?? 200,
        });
        backoff = 100;
      } catch (err) {
        if (this.stopping) break;
        this.opts.log.warn({ err: (err as Error).message }, 'claiming deliveries failed; retrying');
        await this.waiting.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      if (claimed.length) {
        // Several batches in flight: one slow receiver does not hold up the next claims.
        const p: Promise<void> = this.deliverBatch(claimed)
          .catch((err) =>
            // An outage is expected news (warn); anything else is a bug to look at (error).
            this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
              { err, deliveries: claimed.length, delivery_ids: claimed.slice(0, 20).map((d) => d.id) },
              'delivery batch failed; its leases will bring the deliveries back',
            ),
          )
          .finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
        if (this.inFlight.size >= (this.opts.maxBatchesInFlight ?? 4)) await Promise.race(this.inFlight);
        continue;
      }
      await this.waiting.sleep(this.opts.pollMs ?? 1000);
    }
    await Promise.allSettled(this.inFlight);
  }

  private endpoint(tenantId: string, id: string): Promise<EndpointForSending | null> {
    return this.endpoints.get(`${tenantId}:${id}`, async () => {
      try {
        return (
          (await loadEndpointForSending(this.opts.database, this.opts.secretKey, tenantId, id, this.now())) ??
          null
        );
      } catch (err) {
        this.opts.log.warn(
          { err: (err as Error).message, endpoint_id: id },
          'endpoint cannot be loaded for sending',
        );
        return null;
      }
    });
  }

  private async deliverBatch(batch: ClaimedDelivery[]): Promise<void> {
    const db = this.opts.database.db;
    const now = new Date(this.now());
    const gone: ClaimedDelivery[] = [];
    const disabled: ClaimedDelivery[] = [];
    const postponed: ClaimedDelivery[] = [];
    const byEndpoint = new Map<string, { endpoint: EndpointForSending; items: ClaimedDelivery[] }>();
    for (const d of batch) {
      const ep = await this.endpoint(d.tenant_id, d.endpoint_id);
      if (!ep) gone.push(d);
      else if (!ep.enabled && !d.manual) disabled.push(d);
      else {
        const key = `${d.tenant_id}:${d.endpoint_id}`;
        const group = byEndpoint.get(key) ?? { endpoint: ep, items: [] };
        group.items.push(d);
        byEndpoint.set(key, group);
      }
    }
    await closeDeliveries(
      db,
      this.workerId,
      gone.map(ref),
      'cancelled',
      'The endpoint no longer exists',
      now,
    );
    await closeDeliveries(db, this.workerId, disabled.map(ref), 'failed', 'The endpoint is disabled', now);
    const metrics = this.opts.metrics;
    metrics?.deliveryMovedOn('cancelled', gone.length);
    metrics?.deliveryMovedOn('failed', disabled.length);

    const sends: Promise<AttemptResult>[] = [];
    /** What each send is for, in the same order. */
    const sent: ClaimedDelivery[] = [];
    let postponeTo = 0;
    for (const { endpoint, items } of byEndpoint.values()) {
      let allowed = items;
      if (endpoint.rateLimitPerS) {
        // The second the sends count in is the one they go out in: read the clock now (not at the
        // start of the batch), and send only when the grant is in hand well before that second
        // ends; otherwise the requests wait for the next second.
        const at = this.now();
        const second = Math.floor(at / 1000);
        const cutoff = (second + 1) * 1000 - RATE_SECOND_MARGIN_MS;
        let granted = 0;
        if (at < cutoff) {
          granted = await takeRateSlots(
            db,
            endpoint.tenantId,
            endpoint.id,
            second,
            endpoint.rateLimitPerS,
            items.length,
          );
          if (this.now() >= cutoff) granted = 0;
        }
        allowed = items.slice(0, granted);
        postponed.push(...items.slice(granted));
        postponeTo = Math.max(postponeTo, (second + 1) * 1000);
      }
      for (const d of allowed) {
        sends.push(this.send(endpoint, d));
        sent.push(d);
      }
    }
    if (postponed.length) {
      await postponeDeliveries(db, this.workerId, postponed.map(ref), new Date(postponeTo));
      metrics?.deliveryMovedOn('rate_limited', postponed.length);
    }
    const results = await Promise.all(sends);
    const recordedAt = this.now();
    const failingSince = await recordAttempts(
      db,
      this.workerId,
      new Date(recordedAt),
      results,
      (r) =>
        // News of a failure does not make more news: two failing endpoints must not feed each other
        // an endless chain of exhausted events.
        r.status === 'failed' && !r.manual && r.responseStatus !== 410 && !FAILURE_EVENTS.has(r.eventType),
    );
    if (metrics)
      results.forEach((r, i) => {
        metrics.attemptFinished(r.durationMs / 1000);
        metrics.deliveryMovedOn(r.status === 'pending' ? 'retrying' : r.status);
        if (r.status === 'delivered')
          metrics.delivered((recordedAt - new Date(sent[i].event_created_at).getTime()) / 1000);
      });
    await this.afterAttempts(results, failingSince);
  }

  private async send(endpoint: EndpointForSending, d: ClaimedDelivery): Promise<AttemptResult> {
    const started = performance.now();
    const base = {
      eventType: d.event_type,
      tenantId: d.tenant_id,
      deliveryId: d.id,
      messageId: d.message_id,
      endpointId: d.endpoint_id,
      manual: d.manual,
    };
    let status: number | null = null;
    let body: string | null = null;
    let error: string | null = null;
    let retryAfter: string | undefined;
    try {
      const payload = await this.payload(endpoint, d);
      const req = buildEndpointRequest(endpoint, {
        id: d.message_id,
        timestamp: new Date(this.now()),
        payload,
      });
      const res = await this.opts.client.request({
        method: endpoint.method,
        url: req.url,
        headers: req.headers,
        body: payload,
        timeoutMs: this.opts.timeoutMs ?? 15_000,
        maxResponseBytes: RESPONSE_BODY_LIMIT,
        onOversize: 'truncate',
        maxRedirects: 0,
      });
      status = res.status;
      body = res.body.toString('utf8').replace(/\0/g, '');
      retryAfter = res.headers['retry-after'];
      if (status < 200 || status >= 300) error = `The endpoint answered ${status}`;
    } catch (err) {
      error = err instanceof OutboundError ? err.message : `Could not send: ${(err as Error).message}`;
    }
    const durationMs = Math.round(performance.now() - started);
    const ok = error === null;
    if (ok)
      return {
        ...base,
        ok,
        responseStatus: status,
        responseBody: body,
        durationMs,
        error,
        status: 'delivered',
        nextAttemptAt: null,
      };
    // A manual retry is tried once and not rescheduled; a 410 ends it (the endpoint is disabled).
    const delay =
      d.manual || status === 410
        ? undefined
        : delayAfterFailureMs({
            schedule: endpoint.retrySchedule ?? this.opts.retrySchedule,
            attemptsMade: d.attempts + 1,
            status: status ?? undefined,
            retryAfter,
            nowMs: this.now(),
            random: this.opts.random,
          });
    return {
      ...base,
      ok,
      responseStatus: status,
      responseBody: body,
      durationMs,
      error,
      status: delay === undefined ? 'failed' : 'pending',
      nextAttemptAt: delay === undefined ? null : new Date(this.now() + delay),
    };
  }

  private async payload(endpoint: EndpointForSending, d: ClaimedDelivery): Promise<string> {
    const { to_default: _, ...context } = d.context ?? {};
    const eventTime = new Date(d.event_created_at).toISOString();
    if (endpoint.body?.type !== 'template')
      // The envelope, with the stored data spliced in as JSON text (data is the last key).
      return `{"event_time":"${eventTime}","event_type":${JSON.stringify(d.event_type)},"current_context":${JSON.stringify(context)},"data":${d.data_json}}`;
    const envelope = {
      event_time: eventTime,
      event_type: d.event_type,
      current_context: context,
      data: JSON.parse(d.data_json),
    };
    const rendered = await renderDeep((endpoint.body as { template: string }).template, {
      event: envelope,
      tenant: { id: d.tenant_id },
    });
    return typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
  }

  /** 410 → disable; exhausted → message.attempt.exhausted; failing too long → disable and mail. */
  private async afterAttempts(results: AttemptResult[], failingSince: Map<string, Date>): Promise<void> {
    const db = this.opts.database.db;
    const now = new Date(this.now());
    const disabledNow = new Set<string>();
    for (const r of results) {
      if (r.ok) continue;
      if (r.status === 'failed')
        this.opts.log.warn(
          {
            delivery_id: r.deliveryId,
            message_id: r.messageId,
            endpoint_id: r.endpointId,
            tenant_id: r.tenantId,
            response_status: r.responseStatus,
            error: r.error,
            manual: r.manual,
          },
          'delivery failed; no further attempts',
        );
      const key = `${r.tenantId}:${r.endpointId}`;
      let reason: string | undefined;
      if (r.responseStatus === 410) reason = 'The endpoint answered 410 Gone';
      else {
        const since = failingSince.get(key);
        if (since && now.getTime() - since.getTime() >= this.opts.disableAfterMs)
          reason = `Every attempt has failed since ${since.toISOString()}`;
      }
      if (!reason || disabledNow.has(key)) continue;
      disabledNow.add(key);
      // The endpoint.disabled event is written in the transaction that disables the endpoint.
      if (!(await disableEndpointForFailures(db, r.tenantId, r.endpointId, reason, now))) continue;
      this.endpoints.invalidate(`endpoint:${key}`);
      this.opts.log.warn({ endpoint_id: r.endpointId, tenant_id: r.tenantId, reason }, 'endpoint disabled');
      const tenant = await getTenant(this.opts.database, r.tenantId);
      const to = tenant?.settings?.notify?.emails ?? [];
      if (to.length && this.opts.notify)
        this.opts.notify(
          r.tenantId,
          to,
          `[Hookflow] Endpoint ${r.endpointId} was disabled`,
          `Hookflow disabled the outbound endpoint ${r.endpointId}: ${reason}.\nMessages to it are no longer sent. Fix the receiver, enable the endpoint again and use "recover" to resend what failed.`,
        );
    }
  }
}

const ref = (d: ClaimedDelivery) => ({ tenantId: d.tenant_id, id: d.id });
