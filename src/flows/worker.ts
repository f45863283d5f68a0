/**
 * Run workers: claim due runs from PostgreSQL in batches under a lease, execute them with the graph
 * executor, and write checkpoints and completions back in batched statements (with the events they
 * produce, in the same transaction). Woken by NOTIFY on new runs, with a polling fallback that also
 * picks up delayed runs coming due and runs whose lease ran out because their worker died.
 */

import { hostname } from 'node:os';
import { resumeToken } from '../core/crypto.ts';
import { type FlowNode, webhookNodes } from '../core/flowDocument.ts';
import { newId } from '../core/ids.ts';
import { Wakeable } from '../core/wakeable.ts';
import { loadCredential } from '../credentials/store.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import type { OutboundClient } from '../delivery/httpClient.ts';
import { SubscriptionCache } from '../delivery/subscriptions.ts';
import type { LocalRunner } from '../ingest/groupCommit.ts';
import type { RunMetrics } from '../metrics/metrics.ts';
import { CodeSandbox } from '../nodes/code/sandbox.ts';
import { replayEffects } from '../replay/effects.ts';
import { recordedNodes } from '../replay/store.ts';
import {
  advanceRun,
  type EngineEffects,
  type FlowForRun,
  type NodeRecord,
  type PendingEvent,
  type RunResponse,
  type RunState,
  type SubflowTarget,
} from './engine.ts';
import { FlowPlanCache } from './planCache.ts';
import { signalRunResponse } from './responses.ts';
import {
  type Claimed,
  type ClaimedRun,
  claimRuns,
  extendLeases,
  findResume,
  getChildRun,
  type LocalClaim,
  type NewRun,
  type ProgressEvent,
  RUNS_CHANNEL,
  type RunProgress,
  releaseLeases,
  type WrittenRun,
  writeRunProgress,
} from './runsStore.ts';
import { getFlow } from './store.ts';

/** `${Webhook::Method}` of an error run (docs/api.md §4.4): no webhook can be called with it. */
export const ERROR_METHOD = 'ERROR';
/** A failed run's trigger body is passed to its error run up to this size (its JSON), else left out. */
export const ERROR_TRIGGER_BODY_MAX = 256 * 1024;

export type FinishedRun = {
  tenantId: string;
  runId: string;
  flowId: string;
  flowName: string;
  status: 'succeeded' | 'failed';
  error: string | null;
  settings: FlowForRun['settings'] | null;
  startedAt: Date;
  finishedAt: Date;
  /** A test or replay run: no e-mail (docs/api.md §3.13); a replay run's end moves its replay on. */
  mode: 'test' | 'replay' | null;
  replayId: string | null;
};

/**
 * Fair slots (docs/api.md §4.4). A worker has `slots` = maxInFlight run slots. A run holds its slot
 * while it waits on I/O, so without a rule one tenant's slow runs could take every slot and keep
 * the other tenants' runs from starting. The rule, applied to every new slot (a claim or a local
 * hand-off at ingest; runs already in flight are never pre-empted):
 *
 * - headroom H = max(1, ceil(slots / 10)), keep = ceil(H / 2);
 * - k = the tenants holding a slot here (in flight or reserved), the asking tenant included;
 * - a tenant's fair share = max(1, floor((slots − H) / k)): alone it may use slots − H (180 of
 *   200), with k tenants here none takes a new slot once it holds its share;
 * - a tenant that already holds slots here never takes the last `keep` free ones: they are for
 *   tenants with nothing here, each of which may always start at least one run while a slot is free.
 *
 * So a tenant with nothing in flight here starts a run at once even when another tenant's runs,
 * all waiting on an unanswering server, took every slot they were allowed.
 */
export function fairShare(o: { slots: number; used: number; holders: number; held: number }): number {
  const free = o.slots - o.used;
  if (free <= 0) return 0;
  const headroom = Math.max(1, Math.ceil(o.slots / 10));
  const keep = Math.ceil(headroom / 2);
  const k = o.held > 0 ? o.holders : o.holders + 1;
  const share = Math.max(1, Math.floor((o.slots - headroom) / k));
  if (o.held >= share) return 0;
  const take = Math.min(share - o.held, free - keep);
  return o.held === 0 ? Math.max(1, take) : Math.max(0, take);
}

/** Claims of one run before it is failed for good (a run that crashes its worker every time). */
const MAX_ATTEMPTS = 10;

type Log = {
  info(o: unknown, m?: string): void;
  warn(o: unknown, m?: string): void;
  error(o: unknown, m?: string): void;
};

export type RunWorkerOptions = {
  database: Database;
  secretKey: Buffer;
  /** `PUBLIC_URL` (no trailing `/`): where wait nodes' resume URLs point (docs/api.md §4.7). */
  publicUrl?: string;
  client: OutboundClient;
  webhookCall: EngineEffects['webhookCall'];
  /** Where code nodes run (QuickJS on worker threads); by default the worker's own, closed on stop. */
  sandbox?: CodeSandbox;
  /** Called after a run's end is committed (notifications). Must not throw. */
  onRunFinished?: (run: FinishedRun) => void;
  /** Run ends by status and duration (for /metrics). */
  metrics?: RunMetrics;
  now?: () => number;
  log: Log;
  workerId?: string;
  batchSize?: number;
  maxInFlight?: number;
  leaseMs?: number;
  pollMs?: number;
};

type Write = {
  progress: RunProgress;
  events: ProgressEvent[];
  /** What was stored of the run; null when it was not (no longer this worker's). */
  resolve: (written: WrittenRun | null) => void;
  reject: (e: unknown) => void;
};

export class RunWorker {
  readonly workerId: string;
  private readonly plans: FlowPlanCache;
  /** webhook.received and run.started are written only when some endpoint takes them. */
  private readonly subscriptions: SubscriptionCache;
  private readonly now: () => number;
  private readonly sandbox: CodeSandbox;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopping = false;
  private loopDone?: Promise<void>;
  private readonly waiting = new Wakeable();
  private unlisten?: () => Promise<void>;
  private heartbeat?: NodeJS.Timeout;
  private writes: Write[] = [];
  private writing = false;
  /** Slots promised to runs being inserted by this process's ingest (see adopt). */
  private reserved = 0;
  /** Slots each tenant holds here: runs in flight plus slots reserved for its runs (see fairShare). */
  private readonly held = new Map<string, number>();
  /** The last claim left due runs behind because of fairness or a concurrency limit. */
  private claimHeldBack = false;

  constructor(private readonly opts: RunWorkerOptions) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${newId('wrk').slice(-6)}`;
    this.now = opts.now ?? Date.now;
    this.plans = new FlowPlanCache(opts.database, 30_000, this.now);
    this.subscriptions = new SubscriptionCache(opts.database, 30_000, this.now);
    this.sandbox = opts.sandbox ?? new CodeSandbox();
  }

  get leaseMs(): number {
    return this.opts.leaseMs ?? 30_000;
  }

  private get maxInFlight(): number {
    return this.opts.maxInFlight ?? 200;
  }

  /**
   * How many more runs of `tenantId` may start here now (claimed or handed over), per fairShare;
   * without a tenant, how many a tenant holding nothing here may start.
   */
  allowance(tenantId?: string): number {
    return fairShare({
      slots: this.maxInFlight,
      used: this.inFlight.size + this.reserved,
      holders: this.held.size,
      held: tenantId === undefined ? 0 : (this.held.get(tenantId) ?? 0),
    });
  }

  private hold(tenantId: string, n: number): void {
    const next = (this.held.get(tenantId) ?? 0) + n;
    if (next > 0) this.held.set(tenantId, next);
    else this.held.delete(tenantId);
  }

  /** This worker as the ingest side's LocalRunner (see RunGroupCommitter). */
  localRunner(): LocalRunner {
    return {
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      now: () => this.now(),
      reserve: (tenantId, n) => this.reserve(tenantId, n),
      unreserve: (tenantId, n) => this.unreserve(tenantId, n),
      adopt: (runs, claim) => this.adopt(runs, claim),
    };
  }

  /**
   * LocalRunner: room for `n` runs of `tenantId` this process is storing as claimed by this worker
   * — no more than the tenant's fair share allows (see fairShare). Returns how many it took.
   */
  reserve(tenantId: string, n: number): number {
    if (this.stopping || !this.loopDone) return 0;
    const take = Math.max(0, Math.min(n, this.allowance(tenantId)));
    this.reserved += take;
    this.hold(tenantId, take);
    return take;
  }

  /** LocalRunner: the runs were not stored after all; their slots are free again. */
  unreserve(tenantId: string, n: number): void {
    this.release(tenantId, n);
    this.poke();
  }

  private release(tenantId: string, n: number): void {
    const take = Math.min(n, this.held.get(tenantId) ?? 0, this.reserved);
    this.reserved -= take;
    this.hold(tenantId, -take);
  }

  /** LocalRunner: runs committed as claimed by this worker (lease from `claim`), run from memory. */
  adopt(runs: NewRun[], claim: LocalClaim): void {
    // Their reserved slots become slots in flight.
    for (const r of runs) this.release(r.tenantId, 1);
    for (const r of runs)
      this.track({
        tenant_id: r.tenantId,
        id: r.id,
        flow_id: r.flowId,
        trigger_node_id: r.triggerNodeId,
        trigger: JSON.parse(r.trigger),
        nodes: [],
        vars: {},
        flow_key: {},
        response: null,
        wait_response: r.waitResponse === true,
        started_at: claim.now,
        attempts: 1,
        mode: r.mode ?? null,
        draft_revision: r.draftRevision ?? null,
        flow_version: r.flowVersion ?? null,
      });
  }

  private track(run: ClaimedRun): void {
    this.hold(run.tenant_id, 1);
    const p = this.process(run)
      .catch((err) =>
        // An outage is expected news (warn); anything else is a bug to look at (error).
        this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
          { err, run_id: run.id, flow_id: run.flow_id, tenant_id: run.tenant_id },
          'run processing failed; the lease will bring it back',
        ),
      )
      .finally(() => {
        // Every slot was taken, or the last claim left due runs behind (a tenant at its share, a
        // concurrency limit reached): the slot freed now may let one start — look at once.
        const wake = this.inFlight.size + this.reserved >= this.maxInFlight || this.claimHeldBack;
        this.inFlight.delete(run.id);
        this.hold(run.tenant_id, -1);
        if (wake) this.poke();
      });
    this.inFlight.set(run.id, p);
  }

  async start(): Promise<void> {
    await this.plans.start();
    await this.subscriptions.start();
    this.unlisten = await this.opts.database.listen(
      RUNS_CHANNEL,
      () => this.poke(),
      () => this.poke(),
    );
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(500, this.leaseMs / 3));
    this.heartbeat.unref();
    this.loopDone = this.loop();
  }

  /** Stops claiming, lets runs in flight finish (up to `graceMs`), gives back the rest's leases. */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.loopDone;
    const timer = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), timer]);
    clearInterval(this.heartbeat);
    if (this.inFlight.size)
      await releaseLeases(this.opts.database.db, this.workerId, [...this.inFlight.keys()]).catch(() => {});
    await this.unlisten?.();
    await this.plans.stop();
    await this.subscriptions.stop();
    if (!this.opts.sandbox) await this.sandbox.close();
  }

  /** Look for due work now (new runs, a fake clock moved forward). */
  poke(): void {
    this.waiting.poke();
  }

  private async loop(): Promise<void> {
    const batch = this.opts.batchSize ?? 100;
    let backoff = 100;
    while (!this.stopping) {
      this.waiting.arm();
      const room = this.maxInFlight - this.inFlight.size - this.reserved;
      if (room <= 0) {
        // Every slot is taken (some perhaps only reserved by this process's ingest): a run that
        // ends or a reservation given back pokes (track, unreserve), and so does stop(). Never a
        // wait on the runs themselves: they may hang, and a reserved slot is no run yet.
        await this.waiting.sleep(this.opts.pollMs ?? 1000);
        continue;
      }
      // Each tenant holding slots here may take what its fair share leaves it (0 at its share);
      // any other tenant what a newcomer may take.
      const tenants = new Map<string, number>();
      for (const tenantId of this.held.keys()) tenants.set(tenantId, this.allowance(tenantId));
      let claimed: Claimed;
      try {
        claimed = await claimRuns(this.opts.database.db, {
          workerId: this.workerId,
          now: new Date(this.now()),
          leaseMs: this.leaseMs,
          limit: Math.min(batch, room),
          tenants,
          otherTenants: this.allowance(),
        });
        backoff = 100;
        this.claimHeldBack = claimed.heldBack;
      } catch (err) {
        if (this.stopping) break;
        this.opts.log.warn({ err: (err as Error).message }, 'claiming runs failed; retrying');
        await this.waiting.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      for (const run of claimed) this.track(run);
      if (claimed.length === 0) await this.waiting.sleep(this.opts.pollMs ?? 1000);
    }
  }

  private async extendLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      await extendLeases(
        this.opts.database.db,
        this.workerId,
        [...this.inFlight.keys()],
        new Date(this.now() + this.leaseMs),
      );
    } catch (err) {
      this.opts.log.warn(
        {
          err: (err as Error).message,
          run_ids: [...this.inFlight.keys()].slice(0, 20),
          runs: this.inFlight.size,
        },
        'extending run leases failed',
      );
    }
  }

  private async process(run: ClaimedRun): Promise<void> {
    // A run goes on with the version of its flow it started on (null: it starts now, on the current).
    // A test or replay run of a draft runs the revision it was started with.
    const flow = await this.plans.get(
      run.tenant_id,
      run.flow_id,
      run.trigger_node_id,
      run.flow_version,
      run.draft_revision,
    );
    const state: RunState = {
      id: run.id,
      tenantId: run.tenant_id,
      flowId: run.flow_id,
      triggerNodeId: run.trigger_node_id,
      trigger: run.trigger,
      nodes: (run.nodes ?? []) as NodeRecord[],
      vars: run.vars ?? {},
      flowKey: run.flow_key ?? {},
      startedAtMs: new Date(run.started_at).getTime(),
      waitResponse: run.wait_response,
      response: (run.response as RunResponse | null) ?? null,
      mode: run.mode ?? null,
      ...(run.mode === 'replay' ? { replay: { id: run.replay_id ?? null, of: run.replay_of ?? null } } : {}),
    };
    // A run's first write carries webhook.received and run.started (exactly once: same transaction).
    const firstEvents: ProgressEvent[] = [];
    if (state.nodes.length === 0)
      for (const e of startEvents(state, this.now()))
        if (await this.subscriptions.wants(state.tenantId, e.eventType)) firstEvents.push(e);
    if (!flow) {
      await this.finish(
        state,
        null,
        'failed',
        'The flow (or its trigger node) no longer exists',
        [],
        firstEvents,
      );
      return;
    }
    if (run.attempts > MAX_ATTEMPTS) {
      // A run that keeps taking its worker down (or keeps failing to be written) must not loop forever.
      await this.finish(
        state,
        flow,
        'failed',
        `Gave up after ${MAX_ATTEMPTS} attempts to execute this run`,
        [],
        firstEvents,
      );
      return;
    }
    let effects = this.effects(firstEvents, flow.draftRevision === undefined ? flow.version : undefined);
    if (state.mode === 'replay')
      // Answered from what the original run (and its sub-flow runs) recorded; nothing goes out.
      effects = replayEffects(effects, {
        nodes: state.replay?.of
          ? await recordedNodes(this.opts.database, state.tenantId, state.replay.of)
          : [],
      });
    const outcome = await advanceRun(flow, state, effects);
    if (outcome.kind !== 'finished') return;
    try {
      await this.finish(state, flow, outcome.status, outcome.error, outcome.events, firstEvents);
    } catch (err) {
      if (!String((err as { code?: string }).code ?? '').startsWith('22')) throw err;
      // The run produced a value PostgreSQL cannot store (say, a NUL in a response body): end it as
      // failed with what can be stored, rather than retrying it forever.
      state.nodes = state.nodes.map(({ output: _o, input: _i, ...rest }) => rest);
      state.vars = {};
      state.flowKey = {};
      state.response = null;
      await this.finish(
        state,
        flow,
        'failed',
        `The run produced data that cannot be stored: ${(err as Error).message}`,
        [],
        firstEvents,
      );
    }
  }

  /** `firstEvents` go out with whichever write comes first (checkpoint or completion). */
  private effects(firstEvents: ProgressEvent[], flowVersion: number | undefined): EngineEffects {
    const { database, secretKey, client } = this.opts;
    return {
      now: this.now,
      http: (req) => client.request(req),
      webhookCall: this.opts.webhookCall,
      runCode: (tenantId, job) => this.sandbox.run(tenantId, job),
      resumeUrl: (tenantId, runId, nodeId) =>
        `${this.opts.publicUrl ?? ''}/resume/${encodeURIComponent(runId)}/${encodeURIComponent(nodeId)}/${resumeToken(secretKey, tenantId, runId, nodeId)}`,
      resumed: (tenantId, runId, nodeId) => findResume(database.db, tenantId, runId, nodeId),
      credential: (tenantId, id) => loadCredential(database, secretKey, tenantId, id),
      subflowTarget: (tenantId, flowId) => subflowTarget(database, tenantId, flowId),
      childRun: async (tenantId, runId) => {
        const r = await getChildRun(database.db, tenantId, runId);
        return r
          ? { status: r.status, vars: r.vars ?? {}, response: r.response ?? null, error: r.error }
          : undefined;
      },
      checkpoint: (state, { events, children, sleepUntilMs }) =>
        this.write(
          {
            ...progressOf(state),
            flowVersion,
            children,
            status: 'running',
            error: null,
            runAt: sleepUntilMs === undefined ? null : new Date(sleepUntilMs),
            finished: false,
            release: sleepUntilMs !== undefined,
          },
          this.holdBack(state, [...firstEvents, ...events.map((e) => toProgressEvent(state, e, 'flow'))]),
        ).then((stored) => {
          const written = stored !== null;
          if (written) firstEvents.length = 0;
          if (written && state.waitResponse && state.response) signalRunResponse(state.id);
          return written;
        }),
    };
  }

  private async finish(
    state: RunState,
    flow: FlowForRun | null,
    status: 'succeeded' | 'failed',
    error: string | null,
    events: PendingEvent[],
    firstEvents: ProgressEvent[],
  ): Promise<void> {
    const finishedAt = new Date(this.now());
    const summary = {
      run_id: state.id,
      flow_id: state.flowId,
      flow_name: flow?.name ?? null,
      status,
      error,
      started_at: new Date(state.startedAtMs).toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: finishedAt.getTime() - state.startedAtMs,
      vars: state.vars,
      flow_key: state.flowKey,
    };
    // send_to_default_webhook: the tenant's default endpoint gets the full run details.
    const toDefault = flow?.settings.send_to_default_webhook === true;
    const completion: ProgressEvent = {
      tenantId: state.tenantId,
      runId: state.id,
      id: newId('evt'),
      eventType: status === 'succeeded' ? 'flow.completed' : 'flow.failed',
      data: toDefault
        ? {
            ...summary,
            flow: { id: state.flowId, name: flow?.name ?? null },
            trigger: state.trigger,
            nodes: state.nodes,
            response: state.response,
          }
        : summary,
      context: {
        tenant_id: state.tenantId,
        flow_id: state.flowId,
        run_id: state.id,
        ...(toDefault ? { to_default: true } : {}),
      },
      source: 'system',
    };
    const errorRun = status === 'failed' ? errorRunOf(state, flow, error, finishedAt) : undefined;
    const written = await this.write(
      {
        ...progressOf(state),
        flowVersion: flow?.draftRevision === undefined ? flow?.version : undefined,
        status,
        error,
        runAt: null,
        finished: true,
        release: true,
        errorRun,
      },
      this.holdBack(state, [
        ...firstEvents,
        ...events.map((e) => toProgressEvent(state, e, 'flow')),
        completion,
      ]),
    );
    if (!written) return;
    if (written.errorFlow?.skipped)
      this.opts.log.warn(
        {
          run_id: state.id,
          flow_id: state.flowId,
          tenant_id: state.tenantId,
          error_flow_id: written.errorFlow.flow_id,
          reason: written.errorFlow.skipped,
        },
        'no error run started for a failed run',
      );
    this.opts.metrics?.runFinished(status, (finishedAt.getTime() - state.startedAtMs) / 1000);
    if (state.waitResponse) signalRunResponse(state.id);
    this.opts.onRunFinished?.({
      tenantId: state.tenantId,
      runId: state.id,
      flowId: state.flowId,
      flowName: flow?.name ?? state.flowId,
      status,
      error,
      settings: flow?.settings ?? null,
      startedAt: new Date(state.startedAtMs),
      finishedAt,
      mode: state.mode ?? null,
      replayId: state.replay?.id ?? null,
    });
  }

  /** The events of a test or replay run are recorded, never delivered (docs/api.md §3.13). */
  private holdBack(state: RunState, events: ProgressEvent[]): ProgressEvent[] {
    if (!state.mode) return events;
    for (const e of events) e.held = true;
    return events;
  }

  /** Group commit of run writes: concurrent checkpoints and completions share one statement. */
  private write(progress: RunProgress, events: ProgressEvent[]): Promise<WrittenRun | null> {
    return new Promise((resolve, reject) => {
      this.writes.push({ progress, events, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.flushWrites());
      }
    });
  }

  private async flushWrites(): Promise<void> {
    while (this.writes.length) {
      const batch = this.writes.splice(0, 500);
      try {
        const written = await writeRunProgress(
          this.opts.database.db,
          this.workerId,
          new Date(this.now()),
          batch.map((w) => w.progress),
          batch.flatMap((w) => w.events),
        );
        for (const w of batch) w.resolve(written.get(w.progress.id) ?? null);
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        else {
          // One bad row must not fail the others: write them one by one.
          for (const w of batch) {
            try {
              const one = await writeRunProgress(
                this.opts.database.db,
                this.workerId,
                new Date(this.now()),
                [w.progress],
                w.events,
              );
              w.resolve(one.get(w.progress.id) ?? null);
            } catch (e) {
              w.reject(e);
            }
          }
        }
      }
    }
    this.writing = false;
  }
}

/** What a write carries of a run: its progress, and a test or replay run's mode for its children. */
function progressOf(
  state: RunState,
): Pick<
  RunProgress,
  'tenantId' | 'id' | 'nodes' | 'vars' | 'flowKey' | 'response' | 'mode' | 'replayId' | 'replayOf'
> {
  return {
    tenantId: state.tenantId,
    id: state.id,
    nodes: state.nodes,
    vars: state.vars,
    flowKey: state.flowKey,
    response: state.response,
    ...(state.mode
      ? { mode: state.mode, replayId: state.replay?.id ?? null, replayOf: state.replay?.of ?? null }
      : {}),
  };
}

/**
 * The error run of a failed run (docs/api.md §4.4, `settings.error_flow_id`): a run of the error
 * flow whose trigger is `{method: "ERROR", body: {run: {id, flow_id, flow_name, error, failed_node,
 * trigger}}}`. A run that is itself an error run (method ERROR) never starts one: no chains, no loops.
 */
function errorRunOf(
  state: RunState,
  flow: FlowForRun | null,
  error: string | null,
  at: Date,
): RunProgress['errorRun'] {
  const flowId = flow?.settings.error_flow_id ?? null;
  if (!flow || !flowId) return undefined;
  if (state.mode)
    return { flowId, skipped: `a ${state.mode} run starts no error run (its side effects are held back)` };
  if (state.trigger.method === ERROR_METHOD)
    return { flowId, skipped: 'this run is itself an error run: its failure starts no other error run' };
  const failed = [...state.nodes].reverse().find((n) => n.status === 'failed' && !n.handled);
  const t = state.trigger;
  const bodyJson = JSON.stringify(t.body ?? null) ?? 'null';
  const trigger: Record<string, unknown> = {
    method: t.method ?? null,
    path: t.path ?? null,
    headers: t.headers ?? {},
    query: t.query ?? {},
    body: bodyJson.length > ERROR_TRIGGER_BODY_MAX ? null : (t.body ?? null),
    ...(bodyJson.length > ERROR_TRIGGER_BODY_MAX ? { body_omitted: true } : {}),
  };
  const body = {
    run: {
      id: state.id,
      flow_id: state.flowId,
      flow_name: flow.name,
      error,
      failed_node: failed?.id ?? null,
      trigger,
    },
  };
  return {
    flowId,
    runId: newId('run'),
    trigger: {
      method: ERROR_METHOD,
      path: '',
      headers: {},
      query: {},
      body,
      body_kind: 'json',
      content_type: 'application/json',
      ip: null,
      received_at: at.toISOString(),
      size_bytes: Buffer.byteLength(JSON.stringify(body)),
    },
  };
}

function toProgressEvent(state: RunState, e: PendingEvent, source: 'flow' | 'system'): ProgressEvent {
  return {
    tenantId: state.tenantId,
    runId: state.id,
    id: e.id,
    eventType: e.event_type,
    data: e.data,
    context: e.context,
    source,
  };
}

function startEvents(state: RunState, nowMs: number): ProgressEvent[] {
  const context = { tenant_id: state.tenantId, flow_id: state.flowId, run_id: state.id };
  return [
    {
      tenantId: state.tenantId,
      runId: state.id,
      id: newId('evt'),
      eventType: 'webhook.received',
      data: { run_id: state.id, flow_id: state.flowId, node_id: state.triggerNodeId, request: state.trigger },
      context,
      source: 'system',
    },
    {
      tenantId: state.tenantId,
      runId: state.id,
      id: newId('evt'),
      eventType: 'run.started',
      data: {
        run_id: state.id,
        flow_id: state.flowId,
        started_at: new Date(state.startedAtMs || nowMs).toISOString(),
      },
      context,
      source: 'system',
    },
  ];
}

/**
 * The flow a subflow node starts (docs/api.md §4.3): one of the tenant's, enabled, from its first
 * webhook node (document order) — or why it cannot start.
 */
async function subflowTarget(database: Database, tenantId: string, flowId: string): Promise<SubflowTarget> {
  const flow = await getFlow(database, tenantId, flowId);
  if (!flow) return { problem: `flow "${flowId}" does not exist` };
  if (!flow.enabled) return { problem: `flow "${flowId}" (${flow.name}) is disabled` };
  const hook = webhookNodes({ nodes: flow.nodes as FlowNode[] })[0];
  if (!hook) return { problem: `flow "${flowId}" (${flow.name}) has no webhook trigger to start from` };
  return { triggerNodeId: hook.id, name: flow.name };
}
