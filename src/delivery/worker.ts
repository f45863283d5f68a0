/**
 * Delivery workers: claim due deliveries in batches under a lease (`SKIP LOCKED`), sign and send
 * each message through the SSRF-guarded keep-alive client, record every attempt, and move the
 * delivery on: delivered (2xx), retried on the schedule with jitter (Retry-After on 429/503
 * honoured within [scheduled, 2 × scheduled]), or failed when the schedule is exhausted. A 410
 * disables the endpoint; so does an endpoint whose every attempt has failed for N days. Rate limits
 * per endpoint are counted in the database, so they hold across worker processes.
 */
import { hostname } from 'node:os';
import { Batcher } from '../core/batcher.ts';
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
  type CircuitRules,
  type ClaimedDelivery,
  claimDueDeliveries,
  closeDeliveries,
  DEFAULT_CIRCUIT,
  DELIVERIES_CHANNEL,
  disableEndpointForFailures,
  type EndpointKey,
  postponeDeliveries,
  recordAttempts,
  releaseDeliveries,
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
  /** When circuits open and for how long (default 5 failures, 30 s doubling to 10 min). */
  circuit?: CircuitRules;
  /** Mail to the tenant's notification addresses (endpoint disabled). */
  notify?: (tenantId: string, to: string[], subject: string, text: string) => void;
  now?: () => number;
  random?: () => number;
  workerId?: string;
  /** Deliveries one claim takes at most. */
  batchSize?: number;
  /** Deliveries this process holds at most (claimed and not yet recorded). */
  maxInFlight?: number;
  leaseMs?: number;
  pollMs?: number;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** On stop: how long attempts in flight may take to end before their leases are given back. */
  stopGraceMs?: number;
  /** After an idle wait ends, this long before claiming, so that a burst of events shares a claim. */
  coalesceMs?: number;
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

type Held = { delivery: ClaimedDelivery; key: string; abort: AbortController; released: boolean };
type Finished = { result: AttemptResult; delivery: ClaimedDelivery };

/**
 * Every delivery is on its own (docs/api.md §5.7): a claim starts each attempt at once, and each is
 * recorded when it ends — attempts that end at about the same time share one write (group
 * commit), but none waits for another. Per endpoint at most `max_in_flight` attempts are in flight
 * in this process (the claim gives an endpoint only what it has room for); the circuit breaker
 * lives in the endpoint's row, so every process sees it.
 */
export class DeliveryWorker {
  readonly workerId: string;
  private readonly now: () => number;
  private readonly endpoints: NotifiedCache<EndpointForSending | null>;
  private stopping = false;
  private loopDone?: Promise<void>;
  private readonly waiting = new Wakeable();
  private unlisten?: () => Promise<void>;
  private unsubscribeCache?: () => Promise<void>;
  /** HTTP attempts in flight per endpoint (tenant:endpoint). */
  private readonly busy = new Map<string, number>();
  /** Deliveries claimed and not yet recorded, closed or given back. */
  private outstanding = 0;
  /** Deliveries whose attempt is in flight, by id. */
  private readonly held = new Map<string, Held>();
  /** Dispatches of claimed batches still loading endpoints or taking rate slots. */
  private readonly dispatching = new Set<Promise<void>>();
  /** Attempts that ended in the same turn of the event loop share one record (group commit). */
  private readonly records: Batcher<Finished, undefined>;
  private readonly attemptsIdle: (() => void)[] = [];
  /** Where the next claim's walk over endpoints starts (round-robin when there are many). */
  private cursor: EndpointKey | null = null;
  private retryTimer?: NodeJS.Timeout;
  private retryTimerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${newId('dw').slice(-6)}`;
    this.now = opts.now ?? Date.now;
    this.endpoints = new NotifiedCache(5_000, this.now);
    this.records = new Batcher((batch) => this.write(batch), {
      maxBatch: 500,
      maxInFlight: opts.database.kind === 'pglite' ? 1 : 2,
    });
  }

  private get maxInFlight(): number {
    return this.opts.maxInFlight ?? 1000;
  }

  private get batchSize(): number {
    return this.opts.batchSize ?? 200;
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

  /**
   * Stops claiming; attempts in flight get `stopGraceMs` (default 2 s) to end and be recorded, then
   * the rest are cut off and their leases given back, so another process sends them at once
   * rather than after the lease (docs/api.md §8).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.loopDone;
    await Promise.allSettled(this.dispatching);
    if (this.held.size) {
      const grace = new Promise<void>((r) => setTimeout(r, this.opts.stopGraceMs ?? 2000).unref());
      await Promise.race([this.attemptsEnded(), grace]);
    }
    const cut = [...this.held.values()];
    for (const h of cut) {
      h.released = true;
      h.abort.abort();
    }
    await this.records.drain();
    if (cut.length) {
      try {
        await releaseDeliveries(
          this.opts.database.db,
          this.workerId,
          cut.map((h) => ref(h.delivery)),
        );
        this.opts.log.info({ deliveries: cut.length }, 'gave back the leases of deliveries still in flight');
      } catch (err) {
        this.opts.log.warn(
          { err: (err as Error).message },
          'giving back delivery leases failed; they run out',
        );
      }
    }
    clearTimeout(this.retryTimer);
    await this.unlisten?.();
    await this.unsubscribeCache?.();
  }

  poke(): void {
    this.waiting.poke();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopping) {
      const room = this.maxInFlight - this.outstanding;
      this.waiting.arm();
      if (room <= 0) {
        // Woken when writes give room back.
        await this.waiting.sleep(this.opts.pollMs ?? 1000);
        continue;
      }
      let claimed: ClaimedDelivery[];
      try {
        claimed = await this.claim(Math.min(this.batchSize, room));
        backoff = 100;
      } catch (err) {
        if (this.stopping) break;
        this.opts.log.warn({ err: (err as Error).message }, 'claiming deliveries failed; retrying');
        await this.waiting.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      if (claimed.length) {
        this.dispatch(claimed);
        continue;
      }
      await this.waiting.sleep(this.opts.pollMs ?? 1000);
      // Events come one commit at a time; a short wait lets a burst share the next claim rather
      // than each paying for one (planning a claim costs PGlite's single thread ~10 ms).
      if (!this.stopping) await new Promise((r) => setTimeout(r, this.coalesceMs));
    }
  }

  private get coalesceMs(): number {
    return this.opts.coalesceMs ?? (this.opts.database.kind === 'pglite' ? 40 : 5);
  }

  /** One claim, or two when the walk over endpoints wraps around (see claimDueDeliveries). */
  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const base = {
      workerId: this.workerId,
      now: new Date(this.now()),
      leaseMs: this.opts.leaseMs ?? 60_000,
      busy: [...this.busy].map(([key, inFlight]) => {
        const i = key.indexOf(':');
        return { tenantId: key.slice(0, i), endpointId: key.slice(i + 1), inFlight };
      }),
    };
    const first = await claimDueDeliveries(this.opts.database.db, { ...base, limit, after: this.cursor });
    this.take(first.deliveries);
    const wrapFrom = this.cursor;
    this.cursor = first.walkEnd;
    if (first.walkEnd || !wrapFrom || first.deliveries.length >= limit) return first.deliveries;
    // The walk reached the last endpoint: the ones before where it started get their turn too.
    const second = await claimDueDeliveries(this.opts.database.db, {
      ...base,
      limit: limit - first.deliveries.length,
      after: null,
      upTo: wrapFrom,
    });
    this.take(second.deliveries);
    this.cursor = second.walkEnd;
    return [...first.deliveries, ...second.deliveries];
  }

  /** Counts claimed deliveries at once, so the next claim sees them as this process's. */
  private take(claimed: ClaimedDelivery[]): void {
    this.outstanding += claimed.length;
    for (const d of claimed) {
      const key = `${d.tenant_id}:${d.endpoint_id}`;
      this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    }
  }

  /** A claimed delivery that will not be attempted now (closed, postponed) or whose write is done. */
  private untake(d: ClaimedDelivery, attemptEnded: boolean): void {
    if (!attemptEnded) this.freeSlot(`${d.tenant_id}:${d.endpoint_id}`);
    const before = this.outstanding;
    this.outstanding = Math.max(0, this.outstanding - 1);
    if (before >= this.maxInFlight && this.outstanding < this.maxInFlight) this.poke();
  }

  /**
   * An endpoint has one more free slot. With `maxInFlight` known, the loop is woken when a quarter
   * of the endpoint's room is free again (a claim skipped it while full), so a saturated endpoint
   * is topped up in batches rather than one claim per finished attempt.
   */
  private freeSlot(key: string, maxInFlight?: number): void {
    const n = (this.busy.get(key) ?? 1) - 1;
    if (n <= 0) this.busy.delete(key);
    else this.busy.set(key, n);
    if (maxInFlight === undefined || n === maxInFlight - Math.max(1, Math.floor(maxInFlight / 4)))
      this.poke();
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

  private dispatch(batch: ClaimedDelivery[]): void {
    const p: Promise<void> = this.startAttempts(batch)
      .catch((err) =>
        // An outage is expected news (warn); anything else is a bug to look at (error).
        this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
          { err, deliveries: batch.length, delivery_ids: batch.slice(0, 20).map((d) => d.id) },
          'starting deliveries failed; their leases will bring them back',
        ),
      )
      .finally(() => this.dispatching.delete(p));
    this.dispatching.add(p);
  }

  /** Closes what cannot be sent, postpones what is over a rate limit, and starts every other attempt. */
  private async startAttempts(batch: ClaimedDelivery[]): Promise<void> {
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
    const settled = new Set<string>();
    try {
      let postponeTo = 0;
      for (const { endpoint, items } of byEndpoint.values()) {
        let allowed = items;
        if (endpoint.rateLimitPerS) {
          // The second the sends count in is the one they go out in: read the clock now (not at the
          // claim), and send only when the grant is in hand well before that second ends; otherwise
          // the requests wait for the next second.
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
          this.attempt(endpoint, d);
          settled.add(d.id);
        }
      }
      const metrics = this.opts.metrics;
      await closeDeliveries(
        db,
        this.workerId,
        gone.map(ref),
        'cancelled',
        'The endpoint no longer exists',
        now,
      );
      metrics?.deliveryMovedOn('cancelled', gone.length);
      await closeDeliveries(db, this.workerId, disabled.map(ref), 'failed', 'The endpoint is disabled', now);
      metrics?.deliveryMovedOn('failed', disabled.length);
      if (postponed.length) {
        await postponeDeliveries(db, this.workerId, postponed.map(ref), new Date(postponeTo));
        metrics?.deliveryMovedOn('rate_limited', postponed.length);
      }
    } finally {
      for (const d of batch) if (!settled.has(d.id)) this.untake(d, false);
    }
  }

  /** Starts one attempt; it is recorded when it ends, whatever the others do. */
  private attempt(endpoint: EndpointForSending, d: ClaimedDelivery): void {
    const key = `${d.tenant_id}:${d.endpoint_id}`;
    const held: Held = { delivery: d, key, abort: new AbortController(), released: false };
    this.held.set(d.id, held);
    void this.send(endpoint, d, held.abort.signal).then((result) => {
      this.held.delete(d.id);
      this.freeSlot(key, endpoint.maxInFlight);
      if (this.held.size === 0) for (const w of this.attemptsIdle.splice(0)) w();
      if (held.released) {
        // Cut off at shutdown: its lease is given back, nothing is recorded.
        this.untake(d, true);
        return;
      }
      void this.records.add({ result, delivery: d });
    });
  }

  private attemptsEnded(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((r) => this.attemptsIdle.push(r));
  }

  /** Records finished attempts; a write that fails leaves them to their leases (it never throws). */
  private async write(batch: Finished[]): Promise<undefined[]> {
    const results = batch.map((f) => f.result);
    try {
      const recordedAt = this.now();
      const recorded = await recordAttempts(
        this.opts.database.db,
        this.workerId,
        new Date(recordedAt),
        results,
        (r) =>
          // News of a failure does not make more news: two failing endpoints must not feed each other
          // an endless chain of exhausted events.
          r.status === 'failed' && !r.manual && r.responseStatus !== 410 && !FAILURE_EVENTS.has(r.eventType),
        this.opts.circuit ?? DEFAULT_CIRCUIT,
      );
      const metrics = this.opts.metrics;
      let soonest = Number.POSITIVE_INFINITY;
      for (const { result: r, delivery: d } of batch) {
        if (recorded.lost.has(r.deliveryId)) continue;
        metrics?.attemptFinished(r.durationMs / 1000);
        metrics?.deliveryMovedOn(r.status === 'pending' ? 'retrying' : r.status);
        if (r.status === 'delivered')
          metrics?.delivered((recordedAt - new Date(d.event_created_at).getTime()) / 1000);
        if (r.nextAttemptAt) soonest = Math.min(soonest, r.nextAttemptAt.getTime());
      }
      if (recorded.lost.size)
        this.opts.log.warn(
          { deliveries: recorded.lost.size, delivery_ids: [...recorded.lost].slice(0, 20) },
          'attempts ended after their lease was taken over; not recorded',
        );
      for (const c of recorded.circuits)
        this.opts.log[c.state === 'open' ? 'warn' : 'info'](
          {
            tenant_id: c.tenantId,
            endpoint_id: c.endpointId,
            consecutive_failures: c.failures,
            until: c.until?.toISOString() ?? null,
          },
          c.state === 'open' ? 'endpoint circuit opened' : 'endpoint circuit closed',
        );
      this.wakeFor(soonest);
      await this.afterAttempts(
        results.filter((r) => !recorded.lost.has(r.deliveryId)),
        recorded.failingSince,
      );
    } catch (err) {
      this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
        { err, deliveries: batch.length, delivery_ids: batch.slice(0, 20).map((f) => f.delivery.id) },
        'recording attempts failed; their leases will bring the deliveries back',
      );
    } finally {
      for (const f of batch) this.untake(f.delivery, true);
    }
    return batch.map(() => undefined);
  }

  /** A retry due before the next poll (an immediate first retry) is claimed when it comes due. */
  private wakeFor(atMs: number): void {
    const poll = this.opts.pollMs ?? 1000;
    const inMs = atMs - this.now();
    if (!Number.isFinite(atMs) || inMs >= poll || atMs >= this.retryTimerAt) return;
    if (inMs <= 0) {
      this.poke();
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimerAt = atMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimerAt = Number.POSITIVE_INFINITY;
      this.poke();
    }, inMs);
    this.retryTimer.unref();
  }

  private async send(
    endpoint: EndpointForSending,
    d: ClaimedDelivery,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const started = performance.now();
    const base = {
      eventType: d.event_type,
      tenantId: d.tenant_id,
      deliveryId: d.id,
      messageId: d.message_id,
      endpointId: d.endpoint_id,
      manual: d.manual,
      probe: d.probe,
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
        signal,
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
