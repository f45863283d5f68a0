/**
 * Prometheus metrics of one app instance (`GET /metrics`). Each app gets its own registry (tests
 * run several apps in one process); process-wide metrics (CPU, memory, event loop, GC) are
 * collected once per process into a registry of their own and appended to every app's output.
 *
 * The ingest route and the workers see only the small interfaces below, never prom-client.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueSnapshot } from './queues.ts';

/** What the inbound route (`/hooks/...`) reports. */
export interface IngestMetrics {
  /**
   * One answered inbound request. `flowId` is given only for a flow that exists (an unknown id
   * is counted as `unknown`, so strangers cannot grow the label set).
   */
  inboundAnswered(flowId: string | undefined, status: number): void;
  /** A request's run is committed: seconds since the request was received. */
  runStored(seconds: number): void;
}

/** What the run workers report. */
export interface RunMetrics {
  /** A run's end was committed by this process. */
  runFinished(status: 'succeeded' | 'failed', seconds: number): void;
}

/** What the management API reports about runs. */
export interface RunApiMetrics {
  /** A queued or running run was cancelled through this process's API. */
  runCancelled(): void;
}

/**
 * How a delivery moved on: delivered (2xx), retrying (the attempt failed, another is scheduled),
 * failed (given up: schedule exhausted, 410, a failed manual retry, or the endpoint is disabled),
 * cancelled (the endpoint no longer exists), rate_limited (put off to the next second, no attempt).
 */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'cancelled' | 'rate_limited';
const DELIVERY_OUTCOMES: DeliveryOutcome[] = ['delivered', 'retrying', 'failed', 'cancelled', 'rate_limited'];

/** What the delivery workers report. */
export interface DeliveryMetrics {
  deliveryMovedOn(outcome: DeliveryOutcome, count?: number): void;
  /** One HTTP attempt (request sent → response or error). */
  attemptFinished(seconds: number): void;
  /** A message reached an endpoint: seconds since its event was created. */
  delivered(lagSeconds: number): void;
}

/** Buckets: ingest is a commit away (ms), an attempt is an HTTP call (up to the 15 s timeout). */
const INGEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
/** Event created → delivered spans the retry schedule: seconds to hours. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400];
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

export type MetricsOptions = {
  /** Reads the queues at scrape time (cached briefly, see `queueCacheMs`). */
  readQueues?: () => Promise<QueueSnapshot>;
  now?: () => number;
  /** Scrapes within this many milliseconds share one query (default 1000). */
  queueCacheMs?: number;
  /** Append process metrics (default true). */
  processMetrics?: boolean;
};

export class HookflowMetrics implements IngestMetrics, RunMetrics, RunApiMetrics, DeliveryMetrics {
  readonly registry = new Registry();
  /**
   * Inbound counts per flow and status, kept as plain numbers: the hot path does two Map lookups
   * and an add, no label hashing or allocation; the counter is filled from them at scrape time.
   */
  private readonly inbound = new Map<string, Map<number, number>>();
  private readonly ingestSeconds: Histogram;
  private readonly runsFinished: Counter<'status'>;
  private readonly runSeconds: Histogram;
  private readonly deliveries: Counter<'outcome'>;
  private readonly attemptSeconds: Histogram;
  private readonly deliveryLagSeconds: Histogram;
  private readonly now: () => number;
  private queues?: { at: number; value: Promise<QueueSnapshot | undefined> };

  constructor(private readonly opts: MetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    // Started now, not at the first scrape: CPU time and event-loop delay count from the start.
    if (opts.processMetrics !== false) processRegistry();
    const registers = [this.registry];
    const inbound = this.inbound;
    new Counter({
      name: 'hookflow_inbound_requests_total',
      help: 'Inbound webhook requests answered, by flow id ("unknown" when the hook did not resolve) and HTTP status',
      labelNames: ['flow', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [flow, byStatus] of inbound)
          for (const [status, n] of byStatus) this.inc({ flow, status: String(status) }, n);
      },
    });
    this.ingestSeconds = new Histogram({
      name: 'hookflow_ingest_duration_seconds',
      help: 'Inbound request received → its run committed (ack and custom modes answer right after)',
      buckets: INGEST_BUCKETS,
      registers,
    });
    this.runsFinished = new Counter({
      name: 'hookflow_runs_finished_total',
      help: "Runs ended, by final status: succeeded and failed by this process's run workers, cancelled through this process's API",
      labelNames: ['status'],
      registers,
    });
    for (const status of ['succeeded', 'failed', 'cancelled']) this.runsFinished.inc({ status }, 0);
    this.runSeconds = new Histogram({
      name: 'hookflow_run_duration_seconds',
      help: 'Run started → ended (time asleep in a delay included)',
      buckets: RUN_BUCKETS,
      registers,
    });
    this.deliveries = new Counter({
      name: 'hookflow_deliveries_total',
      help: "Deliveries moved on by this process's delivery workers, by outcome (delivered, retrying, failed, cancelled, rate_limited)",
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of DELIVERY_OUTCOMES) this.deliveries.inc({ outcome }, 0);
    this.attemptSeconds = new Histogram({
      name: 'hookflow_delivery_attempt_duration_seconds',
      help: 'One outbound delivery attempt: request sent → response received or error',
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    this.deliveryLagSeconds = new Histogram({
      name: 'hookflow_delivery_lag_seconds',
      help: 'Event created → delivered to an endpoint (retries included)',
      buckets: LAG_BUCKETS,
      registers,
    });

    if (opts.readQueues) {
      const gauge = (name: string, help: string, pick: (q: QueueSnapshot, nowMs: number) => number) => {
        const self = this;
        new Gauge({
          name,
          help,
          registers,
          async collect() {
            const q = await self.queueSnapshot();
            // No reading, no sample (rather than a made-up 0); hookflow_database_up says why.
            if (q) this.set(pick(q, self.now()));
            else this.remove({});
          },
        });
      };
      const age = (d: Date | null, nowMs: number) => (d ? Math.max(0, (nowMs - d.getTime()) / 1000) : 0);
      gauge(
        'hookflow_run_queue_depth',
        'Runs due now that no worker holds (counted up to 100000)',
        (q) => q.runsDue,
      );
      gauge(
        'hookflow_run_queue_oldest_age_seconds',
        'How long the oldest due run has been waiting for a worker (0 when none)',
        (q, n) => age(q.oldestRunDueAt, n),
      );
      gauge(
        'hookflow_delivery_queue_depth',
        'Deliveries due now that no worker holds (counted up to 100000)',
        (q) => q.deliveriesDue,
      );
      gauge(
        'hookflow_delivery_queue_oldest_age_seconds',
        'How long the oldest due delivery has been waiting for a worker (0 when none)',
        (q, n) => age(q.oldestDeliveryDueAt, n),
      );
      gauge(
        'hookflow_endpoint_circuit_open',
        'Endpoints whose circuit breaker is open or half open (their deliveries wait; docs/api.md §5.7)',
        (q) => q.circuitsOpen,
      );
      const self = this;
      new Gauge({
        name: 'hookflow_database_up',
        help: '1 when the queue gauges could be read from the database at this scrape, else 0',
        registers,
        async collect() {
          this.set((await self.queueSnapshot()) ? 1 : 0);
        },
      });
    }
  }

  inboundAnswered(flowId: string | undefined, status: number): void {
    const flow = flowId ?? 'unknown';
    let byStatus = this.inbound.get(flow);
    if (!byStatus) {
      byStatus = new Map();
      this.inbound.set(flow, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  runStored(seconds: number): void {
    this.ingestSeconds.observe(seconds);
  }

  runCancelled(): void {
    this.runsFinished.inc({ status: 'cancelled' });
  }

  runFinished(status: 'succeeded' | 'failed', seconds: number): void {
    this.runsFinished.inc({ status });
    this.runSeconds.observe(Math.max(0, seconds));
  }

  deliveryMovedOn(outcome: DeliveryOutcome, count = 1): void {
    if (count > 0) this.deliveries.inc({ outcome }, count);
  }

  attemptFinished(seconds: number): void {
    this.attemptSeconds.observe(seconds);
  }

  delivered(lagSeconds: number): void {
    this.deliveryLagSeconds.observe(Math.max(0, lagSeconds));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition: this app's metrics, then the process's. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    if (this.opts.processMetrics === false) return own;
    return `${own}\n${await processRegistry().metrics()}`;
  }

  /** One database read per `queueCacheMs`, shared by every gauge of a scrape; undefined if it failed. */
  private queueSnapshot(): Promise<QueueSnapshot | undefined> {
    const read = this.opts.readQueues;
    if (!read) return Promise.resolve(undefined);
    const at = performance.now();
    const cached = this.queues;
    if (cached && at - cached.at < (this.opts.queueCacheMs ?? 1000)) return cached.value;
    const value = read().catch(() => undefined);
    this.queues = { at, value };
    return value;
  }
}

let processMetrics: Registry | undefined;

/** Process-wide metrics, collected once per process however many apps it runs. */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, prefix: 'hookflow_' });
  }
  return processMetrics;
}
