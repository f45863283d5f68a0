/**
 * Tenant isolation drills: one tenant's trouble must not slow another tenant down. Each drill runs
 * a fresh Hookflow child process (PGlite by default, PostgreSQL when TEST_DATABASE_URL is set) with
 * two tenants, A and B, both made with the bootstrap admin key through the tenants API, each with
 * its own API key:
 *
 * 1. A's endpoint accepts connections and never answers; A and B each get 100 events/s for 20 s.
 *    B's receiver must get every one of B's events, with a delivery lag p99 under 250 ms.
 * 2. The same with A's endpoint answering 200 after 2 s.
 *    (And a control: the same load with A's endpoint healthy, held to a capacity budget — it tells a
 *    machine or a build that cannot carry the load at all from one that lets a tenant slow another.)
 * 3. A's flow calls (http node, default 15 s timeout) a server that never answers; 600 runs of it
 *    are accepted at once. Meanwhile B's flow-mode webhook (webhook → respond) gets 5 requests/s for
 *    10 s: every one must be answered 200 by the respond node, p99 under 500 ms.
 *
 * 4. A's code nodes loop forever (time limit 5 s) or allocate without end (memory bombs); 24 runs of
 *    them are accepted at once. Meanwhile B's flow-mode webhook runs a code node and answers with its
 *    result, 5 requests/s for 10 s: every one answered 200 with the right sum, p99 under 500 ms.
 *
 * 5. A has 1,000 stored runs and starts a shadow replay of all of them against a draft (issue 16).
 *    Meanwhile B's flow-mode webhook gets 5 requests/s for 10 s: every one answered 200, p99 under
 *    500 ms (a tenant's replay runs are at most 20 in flight, docs/api.md §3.14).
 *
 * Drills 1 and 2 first warm the process up with a third tenant (see warmUp); drills 3 and 4 warm B's flow.
 * A drill over its lag target is measured once more on a fresh process (see endpointDrill).
 * Every address is 127.0.0.1. Figures are printed (one line per drill) before they are asserted,
 * so a failing drill still shows what it measured. ISOLATION_DRAIN_MS (default 30000) is how long
 * drills 1 and 2 wait after publishing for B's last deliveries — raise it by hand to see when (if)
 * they all arrive on a build that fails the lag assertion.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres } from '../helpers/db.ts';
import { HookflowProcess, sendLoad } from './helpers.ts';
import {
  createEndpoint,
  createTenant,
  fmtMs,
  type HangingServer,
  type PublishRun,
  percentile,
  publishPaced,
  sleep,
  startHangingServer,
  startTimedReceiver,
  type TimedReceiver,
  type TimedRequest,
} from './isolationHelpers.ts';

const DB = usingPostgres ? 'postgresql' : 'pglite';
const DRAIN_MS = Number(process.env.ISOLATION_DRAIN_MS || 30_000);

/** Drills 1 and 2: 10 events every 100 ms per tenant for 20 s = 100/s, 2000 events each. */
const PER_TICK = 10;
const TICK_MS = 100;
const PUBLISH_MS = 20_000;
const EVENTS = (PUBLISH_MS / TICK_MS) * PER_TICK;
/**
 * The target, on both databases: B's lag p99 under 250 ms. On this project's 2-core VM it measured
 * 70–130 ms on PGlite (also with a CPU hog on one core) and ~100 ms on PostgreSQL. PGlite runs the
 * database on Node's one thread, so what a claim costs there is taken from everything else: the
 * claims and records are prepared statements with generic plans (src/db/prepared.ts), which halved
 * it (planning the claim afresh cost ~7 ms).
 */
const LAG_P99_LIMIT_MS = 250;
/**
 * The control delivers twice what the drills do (A's endpoint takes its 100/s too): it is a
 * capacity check of this machine and build — every event, lag p99 under 1 s — not an isolation
 * figure. On this project's 2-core VM it measured 90–130 ms on PGlite, ~70 ms on PostgreSQL.
 */
const CONTROL_LAG_P99_LIMIT_MS = 1000;

/** Drill 5: the runs of A's shadow replay. */
const REPLAYED_RUNS = 1000;

/** Drill 3. */
const A_RUNS = 600;
const B_REQUESTS = 50;
const B_INTERVAL_MS = 200;
const ANSWER_P99_LIMIT_MS = 500;

const figures = (sorted: number[]) =>
  `p50 ${fmtMs(percentile(sorted, 50))} p95 ${fmtMs(percentile(sorted, 95))} ` +
  `p99 ${fmtMs(percentile(sorted, 99))} max ${fmtMs(sorted[sorted.length - 1])}`;

/** The test process's own event-loop delay (the histogram holds whole 10 ms timer intervals). */
const loopFigures = (h: IntervalHistogram) => {
  const over = (ns: number) => fmtMs(Math.max(0, ns / 1e6 - 10));
  return `p99 ${over(h.percentile(99))} max ${over(h.max)}`;
};

describe('tenant isolation', () => {
  /** Undone after each drill, newest first: servers closed, the process killed, the data removed. */
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        console.error('isolation drill cleanup:', err);
      }
    }
  });

  async function startHookflow(): Promise<HookflowProcess> {
    const db = await createTestDatabase({ onDisk: true });
    cleanups.push(() => db.drop());
    await db.close();
    const hookflow = await HookflowProcess.create({ db, dataDir: db.dataDir });
    cleanups.push(() => hookflow.dispose());
    await hookflow.start();
    return hookflow;
  }

  /**
   * A fresh process spends its first second or two compiling (V8's JIT, the database's first plans
   * and catalog reads); a server that has been up is past that. So before the measured load a third
   * tenant gets the same load for 3 s to a healthy receiver, and the drill waits until it is
   * delivered. Nothing of it is measured.
   */
  async function warmUp(hookflow: HookflowProcess): Promise<void> {
    const w = await createTenant(hookflow, 'tenant-warm-up');
    const receiver = await startTimedReceiver();
    cleanups.push(() => receiver.close());
    await createEndpoint(w, 'warm-up endpoint', `${receiver.url}/w`);
    const [run] = await publishPaced({
      hookflow,
      tenants: [w],
      eventType: 'isolation.warm-up',
      perTick: 2 * PER_TICK,
      tickMs: TICK_MS,
      durationMs: 3_000,
    });
    const accepted = run.published.filter((p) => p.status === 202).length;
    const until = Date.now() + 30_000;
    while (receiver.received.length < accepted && Date.now() < until) await sleep(50);
  }

  /**
   * Drills 1, 2 and the control. On a shared VM a stall of the whole machine (a noisy neighbour, a
   * slow disk flush) can push one measurement over the target without either tenant doing
   * anything; such a stall shows as a second or two of late deliveries (the "worst seconds" figure),
   * where a tenant slowing another shows as lag all through the load. So a drill over its lag target
   * is measured once more, on a fresh process; both measurements are printed, and the second must
   * hold. A real regression fails both.
   */
  async function endpointDrill(kind: 'hanging' | 'slow' | 'healthy') {
    const limit = kind === 'healthy' ? CONTROL_LAG_P99_LIMIT_MS : LAG_P99_LIMIT_MS;
    let m = await measureEndpointDrill(kind);
    if (m.lagP99 >= limit && m.lagP99 < Number.POSITIVE_INFINITY) {
      console.log(
        `isolation/${kind}: B's lag p99 ${fmtMs(m.lagP99)} is over ${limit} ms; measuring once more`,
      );
      while (cleanups.length) await cleanups.pop()!().catch(() => {});
      m = await measureEndpointDrill(kind);
    }
    // What the drill is about: B is served in full, and at once.
    expect.soft(m.notAccepted, "B's publishes not answered 202 within 20 s").toEqual([]);
    expect.soft(m.received, "B's accepted events received").toBe(m.expected);
    expect.soft(m.lagP99, "B's delivery lag p99 (ms)").toBeLessThan(limit);
  }

  async function measureEndpointDrill(kind: 'hanging' | 'slow' | 'healthy') {
    const hookflow = await startHookflow();
    await warmUp(hookflow);
    const a = await createTenant(hookflow, 'tenant-a');
    const b = await createTenant(hookflow, 'tenant-b');
    let aServer: HangingServer | TimedReceiver;
    if (kind === 'hanging') aServer = await startHangingServer();
    else aServer = await startTimedReceiver({ answerAfterMs: kind === 'slow' ? 2000 : 0 });
    cleanups.push(() => aServer.close());
    const bReceiver = await startTimedReceiver();
    cleanups.push(() => bReceiver.close());
    await createEndpoint(a, `A's ${kind} endpoint`, `${aServer.url}/a`);
    const bEndpoint = await createEndpoint(b, "B's healthy endpoint", `${bReceiver.url}/b`);

    // The test process's own event-loop delay: if it stalls, its sends and receipt times are late.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const [pubA, pubB] = await publishPaced({
      hookflow,
      tenants: [a, b],
      eventType: 'isolation.tick',
      perTick: PER_TICK,
      tickMs: TICK_MS,
      durationMs: PUBLISH_MS,
    });

    // B's receipts, matched to B's publishes by the sequence number in `data` (a publish whose
    // answer timed out may still have been stored and delivered); the first receipt of each counts
    // (delivery is at least once). Each must verify with B's signing secret, be B's, and carry the
    // message id its publish was answered with.
    const first = new Map<number, { req: TimedRequest; envelope: any }>();
    const problems: string[] = [];
    const verifier = new Webhook(bEndpoint.signing_secret);
    let checked = 0;
    const take = () => {
      for (; checked < bReceiver.received.length; checked++) {
        const req = bReceiver.received[checked];
        const id = String(req.headers['webhook-id']);
        try {
          verifier.verify(req.body, {
            'webhook-id': id,
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch (err) {
          problems.push(`${id}: bad signature (${(err as Error).message})`);
          continue;
        }
        const envelope = JSON.parse(req.body);
        const seq = envelope.data?.seq;
        const p = Number.isInteger(seq) ? pubB.published[seq] : undefined;
        if (envelope.event_type !== 'isolation.tick' || envelope.data?.tenant !== b.name || !p)
          problems.push(`${id}: not one of B's events: ${req.body.slice(0, 200)}`);
        else if (envelope.current_context?.tenant_id !== b.id)
          problems.push(`${id}: tenant ${envelope.current_context?.tenant_id}`);
        else if (p.id !== undefined && p.id !== id)
          problems.push(`${id}: seq ${seq} was published as ${p.id}`);
        else if (first.has(seq) && String(first.get(seq)!.req.headers['webhook-id']) !== id)
          problems.push(`${id}: seq ${seq} delivered under two ids`);
        else if (!first.has(seq)) first.set(seq, { req, envelope });
      }
    };
    // Expected at B: every event whose publish was accepted (202), and any other that arrived.
    const accepted = (s: number) => pubB.published[s].status === 202;
    const expected = () => pubB.published.filter((p) => accepted(p.seq) || first.has(p.seq)).length;
    const publishedAt = Date.now();
    const drainUntil = publishedAt + DRAIN_MS;
    for (take(); first.size < expected() && Date.now() < drainUntil; take()) await sleep(50);
    const drainedMs = Date.now() - publishedAt;
    const expectedAtB = expected();
    loopDelay.disable();

    // Lag of each of B's events = the moment B's receiver had the whole request (Date.now() at the
    // request's end) − the event's `event_time` (the `created_at` Hookflow stamped on the event
    // before storing it; same machine, same clock). event_time comes before the publish request is
    // answered, so this is the stricter of the two definitions; min() keeps it the stricter even if
    // a clock oddity put event_time after the answer. The lag is over every expected event; one
    // that never arrived counts as infinite, so it is inside the percentiles, not left out of them.
    // (Publishes that were neither accepted nor delivered have no event_time; they are counted and
    // asserted separately.)
    const lags: number[] = [];
    let eventTimeMismatch = 0;
    for (const p of pubB.published) {
      const got = first.get(p.seq);
      if (!got) {
        if (accepted(p.seq)) lags.push(Number.POSITIVE_INFINITY);
        continue;
      }
      const eventTime = Date.parse(got.envelope.event_time);
      if (p.createdAt !== undefined && Math.abs(eventTime - p.createdAt) > 1) eventTimeMismatch++;
      lags.push(got.req.at - (Number.isFinite(p.answeredAt) ? Math.min(eventTime, p.answeredAt) : eventTime));
    }
    lags.sort((x, y) => x - y);
    // The worst lag of the events published in each second of the load: a stall of the machine
    // shows as one or two bad seconds, one tenant slowing another as many.
    const perSecond = new Map<number, number>();
    for (const p of pubB.published) {
      const got = first.get(p.seq);
      const lag = got ? got.req.at - Date.parse(got.envelope.event_time) : Number.POSITIVE_INFINITY;
      const s = Math.floor((p.sentAt - pubB.startedAt) / 1000);
      perSecond.set(s, Math.max(perSecond.get(s) ?? 0, lag));
    }
    const worstSeconds = [...perSecond]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 3)
      .map(([s, lag]) => `${s}s ${fmtMs(lag)}`)
      .join(', ');

    const rate = (pub: PublishRun) => {
      const ok = pub.published.filter((p) => p.status === 202);
      const lastAnswer = Math.max(...ok.map((p) => p.answeredAt));
      const sentPerS = pub.published.length / ((pub.lastSentAt - pub.startedAt + TICK_MS) / 1000);
      const answeredPerS = ok.length / ((lastAnswer - pub.startedAt) / 1000);
      const latency = ok.map((p) => p.answeredAt - p.sentAt).sort((x, y) => x - y);
      return { ok: ok.length, sentPerS, answeredPerS, latencyP99: percentile(latency, 99) };
    };
    const rA = rate(pubA);
    const rB = rate(pubB);
    const aSaw =
      'connections' in aServer
        ? `${aServer.connections} connections (${aServer.requests} sent a request, ${aServer.open} still open)`
        : `${aServer.received.length} requests`;
    console.log(
      `isolation/${kind === 'healthy' ? 'control, both endpoints healthy' : `${kind} endpoint`} [${DB}]: B received ${first.size}/${expectedAtB} (within ${drainedMs} ms ` +
        `after publishing ended), lag ${figures(lags)} (worst seconds of the load by max lag: ${worstSeconds}); A's server saw ${aSaw}; ` +
        `publishes accepted A ${rA.ok}/${EVENTS} B ${rB.ok}/${EVENTS}, sent at ${rA.sentPerS.toFixed(1)}/s and ` +
        `${rB.sentPerS.toFixed(1)}/s, answered at ${rA.answeredPerS.toFixed(1)}/s and ` +
        `${rB.answeredPerS.toFixed(1)}/s (publish p99 ${fmtMs(rA.latencyP99)} / ${fmtMs(rB.latencyP99)}); ` +
        `B receipts ${bReceiver.received.length} (duplicates included), problems ${problems.length}; ` +
        `test process event-loop delay ${loopFigures(loopDelay)}`,
    );

    // The harness did what it says: publishing really went out at 100/s per tenant, A's endpoint
    // was really called, and what B got is B's own, correctly signed, with the id and event_time
    // its publish was answered with.
    // (90, not 100: the last tick may leave a little late on a loaded machine.)
    expect(rA.sentPerS, "A's send rate (/s)").toBeGreaterThanOrEqual(90);
    expect(rB.sentPerS, "B's send rate (/s)").toBeGreaterThanOrEqual(90);
    expect('connections' in aServer ? aServer.requests : aServer.received.length).toBeGreaterThan(0);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(eventTimeMismatch).toBe(0);
    return {
      notAccepted: pubB.published.filter((p) => p.status !== 202).slice(0, 3),
      received: first.size,
      expected: expectedAtB,
      lagP99: percentile(lags, 99),
    };
  }

  // The control: the same load with A's endpoint healthy too. If this fails, the machine or
  // Hookflow cannot carry the drill's load at all, and the two drills above measure that, not (only)
  // one tenant slowing another.
  it(
    'control: the same load with every endpoint healthy is all delivered within the capacity budget',
    async () => {
      await endpointDrill('healthy');
    },
    90_000 + DRAIN_MS,
  );

  it(
    "a hanging endpoint of one tenant does not delay another tenant's deliveries",
    async () => {
      await endpointDrill('hanging');
    },
    90_000 + DRAIN_MS,
  );

  it(
    "a slow endpoint of one tenant does not delay another tenant's deliveries",
    async () => {
      await endpointDrill('slow');
    },
    90_000 + DRAIN_MS,
  );

  it("runs of one tenant blocked on a call that never answers do not delay another tenant's flow-mode answers", async () => {
    const hookflow = await startHookflow();
    const a = await createTenant(hookflow, 'tenant-a');
    const b = await createTenant(hookflow, 'tenant-b');
    const hang = await startHangingServer();
    cleanups.push(() => hang.close());

    // A: webhook (ack) → http POST to the server that never answers, default timeout (15 s).
    const flowA = await a.api('POST', '/api/v1/flows', {
      name: 'blocked on a call',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'ack' } } },
        {
          id: 'http_1',
          type: 'http',
          config: { method: 'POST', url: `${hang.url}/work`, body: { n: '${Webhook::Body.n}' } },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'http_1' }],
    });
    expect(flowA.status, JSON.stringify(flowA.body)).toBe(201);
    // B: webhook in flow mode (default 30 s timeout, then the 504 fallback) → respond 200.
    const flowB = await b.api('POST', '/api/v1/flows', {
      name: 'answers at once',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'flow' } } },
        {
          id: 'respond_1',
          type: 'respond',
          config: { status: 200, body: { ok: true, n: '${Webhook::Body.n}' } },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'respond_1' }],
    });
    expect(flowB.status, JSON.stringify(flowB.body)).toBe(201);
    const hookA: string = flowA.body.webhooks[0].url;
    const hookB: string = flowB.body.webhooks[0].url;

    type Answer = { n: number; ms: number; status: number; ok: boolean; error?: string };
    const callB = async (n: number): Promise<Answer> => {
      const sentAt = Date.now();
      try {
        const res = await fetch(hookB, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(40_000),
        });
        const body = (await res.json().catch(() => undefined)) as any;
        return { n, ms: Date.now() - sentAt, status: res.status, ok: body?.ok === true && body?.n === n };
      } catch (err) {
        return { n, ms: Number.POSITIVE_INFINITY, status: 0, ok: false, error: (err as Error).message };
      }
    };
    // Before A's load: B's flow answers as it should (and its plan is warm).
    const warm = await callB(-1);
    expect(warm, 'warm-up call to B').toMatchObject({ status: 200, ok: true });

    const loadStartedAt = Date.now();
    const loadA = await sendLoad({ url: () => hookA, count: A_RUNS, concurrency: 50, deadlineMs: 30_000 });
    const acceptedA = loadA.outcomes.filter((o) => o.status === 200).length;
    const loadMs = Date.now() - loadStartedAt;
    expect(acceptedA, "A's runs accepted").toBe(A_RUNS);
    // A's runs are blocked: their calls have reached the server that never answers.
    const blockedWait = Date.now();
    while (hang.requests === 0 && Date.now() - blockedWait < 15_000) await sleep(20);
    expect(hang.requests, "A's calls reaching the hanging server").toBeGreaterThan(0);

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const answers: Promise<Answer>[] = [];
    const startedAt = Date.now();
    for (let i = 0; i < B_REQUESTS; i++) {
      const due = startedAt + i * B_INTERVAL_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      answers.push(callB(i));
    }
    const aOpenAtLastSend = hang.open;
    const aCallsAtLastSend = hang.requests;
    const results = await Promise.all(answers);
    loopDelay.disable();
    const times = results.map((r) => r.ms).sort((x, y) => x - y);
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    const good = results.filter((r) => r.status === 200 && r.ok).length;
    console.log(
      `isolation/blocked runs [${DB}]: B answered ${good}/${B_REQUESTS} with its 200 ` +
        `(statuses ${[...byStatus].map(([s, n]) => `${s}×${n}`).join(' ')}), answer time ${figures(times)} ` +
        `(warm-up before A's load ${fmtMs(warm.ms)}); A accepted ${acceptedA}/${A_RUNS} runs in ${loadMs} ms, ` +
        `A's server saw ${aCallsAtLastSend} calls by B's last request (${aOpenAtLastSend} open), ${hang.requests} by the end; ` +
        `test process event-loop delay ${loopFigures(loopDelay)}`,
    );

    // The measurement was made while A's runs were blocked.
    expect(aOpenAtLastSend, "A's calls still hanging at B's last request").toBeGreaterThan(0);
    // What the drill is about.
    expect.soft(good, "B's requests answered 200 by the respond node").toBe(B_REQUESTS);
    expect.soft(percentile(times, 99), "B's answer time p99 (ms)").toBeLessThan(ANSWER_P99_LIMIT_MS);
  }, 120_000);

  it("code of one tenant that loops forever or bombs its memory does not delay another tenant's code and answers", async () => {
    const hookflow = await startHookflow();
    const a = await createTenant(hookflow, 'tenant-a');
    const b = await createTenant(hookflow, 'tenant-b');
    const codeFlow = async (
      tenant: typeof a,
      name: string,
      source: string,
      extra: Record<string, unknown>,
      mode: string,
    ) => {
      const res = await tenant.api('POST', '/api/v1/flows', {
        name,
        nodes: [
          { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode } } },
          { id: 'code_1', type: 'code', config: { source, ...extra } },
          ...(mode === 'flow'
            ? [{ id: 'respond_1', type: 'respond', config: { status: 200, body: '${steps.code_1}' } }]
            : []),
        ],
        edges: [
          { from: 'webhook_1', to: 'code_1' },
          ...(mode === 'flow' ? [{ from: 'code_1', to: 'respond_1' }] : []),
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.webhooks[0].url as string;
    };
    const spin = await codeFlow(a, 'spins', 'while (true) {}', { timeout_ms: 5000 }, 'ack');
    const bomb = await codeFlow(
      a,
      'bombs',
      'const a = []; while (true) a.push(new Array(1e5).fill(a.length));',
      { timeout_ms: 5000, memory_mb: 64 },
      'ack',
    );
    const hookB = await codeFlow(
      b,
      'sums',
      'const n = input.Webhook.Body.n; let s = 0; for (let i = 1; i <= 1000; i++) s += i; return { ok: true, n, sum: s };',
      {},
      'flow',
    );

    type Answer = { n: number; ms: number; status: number; ok: boolean };
    const callB = async (n: number): Promise<Answer> => {
      const sentAt = Date.now();
      try {
        const res = await fetch(hookB, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(40_000),
        });
        const body = (await res.json().catch(() => undefined)) as any;
        return {
          n,
          ms: Date.now() - sentAt,
          status: res.status,
          ok: body?.ok === true && body?.n === n && body?.sum === 500500,
        };
      } catch {
        return { n, ms: Number.POSITIVE_INFINITY, status: 0, ok: false };
      }
    };
    const warm = await callB(-1);
    expect(warm, 'warm-up call to B').toMatchObject({ status: 200, ok: true });

    const loadA = await Promise.all([
      sendLoad({ url: () => spin, count: 16, concurrency: 8, deadlineMs: 30_000 }),
      sendLoad({ url: () => bomb, count: 8, concurrency: 8, deadlineMs: 30_000 }),
    ]);
    const acceptedA = loadA.flatMap((l) => l.outcomes).filter((o) => o.status === 200).length;
    expect(acceptedA, "A's runs accepted").toBe(24);
    await sleep(300); // A's code is running now

    const answers: Promise<Answer>[] = [];
    const startedAt = Date.now();
    for (let i = 0; i < B_REQUESTS; i++) {
      const due = startedAt + i * B_INTERVAL_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      answers.push(callB(i));
    }
    const results = await Promise.all(answers);
    const times = results.map((r) => r.ms).sort((x, y) => x - y);
    const good = results.filter((r) => r.status === 200 && r.ok).length;
    // A's runs: still busy in the sandbox, or failed with the limit's message — never succeeded.
    const runsA = (await a.api('GET', '/api/v1/runs?limit=100')).body.data as {
      status: string;
      error: string | null;
    }[];
    const failedA = runsA.filter((r) => r.status === 'failed');
    console.log(
      `isolation/runaway code [${DB}]: B answered ${good}/${B_REQUESTS} with its code's sum, answer time ${figures(times)} ` +
        `(warm-up ${fmtMs(warm.ms)}); A: ${acceptedA} runs accepted, ${failedA.length} failed by B's last answer ` +
        `(${[...new Set(failedA.map((r) => r.error))].join(' | ')})`,
    );
    expect(
      runsA.some((r) => r.status === 'succeeded'),
      "A's runaway code never succeeds",
    ).toBe(false);
    for (const r of failedA)
      expect(r.error).toMatch(/Code ran longer than 5000 ms|Code used more than its 64 MB of memory/);
    expect.soft(good, "B's requests answered 200 with the code's result").toBe(B_REQUESTS);
    expect.soft(percentile(times, 99), "B's answer time p99 (ms)").toBeLessThan(ANSWER_P99_LIMIT_MS);
  }, 120_000);
  it("a shadow replay of 1,000 runs of one tenant does not delay another tenant's flow-mode answers", async () => {
    const hookflow = await startHookflow();
    const a = await createTenant(hookflow, 'tenant-a');
    const b = await createTenant(hookflow, 'tenant-b');
    const doc = (label: string, mode: string) => ({
      name: `replayed ${mode}`,
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode } } },
        {
          id: 'set_1',
          type: 'set',
          config: { values: { 'vars.label': label, 'vars.n': '${Webhook::Body.n}' } },
        },
        ...(mode === 'flow'
          ? [
              {
                id: 'respond_1',
                type: 'respond',
                config: { status: 200, body: { ok: true, n: '${vars.n}' } },
              },
            ]
          : []),
      ],
      edges: [
        { from: 'webhook_1', to: 'set_1' },
        ...(mode === 'flow' ? [{ from: 'set_1', to: 'respond_1' }] : []),
      ],
    });
    const flowA = await a.api('POST', '/api/v1/flows', doc('v1', 'ack'));
    expect(flowA.status, JSON.stringify(flowA.body)).toBe(201);
    const flowB = await b.api('POST', '/api/v1/flows', doc('b', 'flow'));
    expect(flowB.status, JSON.stringify(flowB.body)).toBe(201);
    const hookA: string = flowA.body.webhooks[0].url;
    const hookB: string = flowB.body.webhooks[0].url;

    // A's stored traffic: 1,000 runs, all ended.
    const loadA = await sendLoad({
      url: () => hookA,
      count: REPLAYED_RUNS,
      concurrency: 50,
      deadlineMs: 60_000,
    });
    expect(loadA.outcomes.filter((o) => o.status === 200).length, "A's runs accepted").toBe(REPLAYED_RUNS);
    const ended = async () => {
      let n = 0;
      let cursor: string | null = null;
      do {
        const page: any = (
          await a.api('GET', `/api/v1/runs?status=succeeded&limit=500${cursor ? `&cursor=${cursor}` : ''}`)
        ).body;
        n += page.data.length;
        cursor = page.next_cursor;
      } while (cursor);
      return n;
    };
    const waitUntil = Date.now() + 60_000;
    while ((await ended()) < REPLAYED_RUNS && Date.now() < waitUntil) await sleep(250);
    expect(await ended(), "A's runs ended").toBe(REPLAYED_RUNS);
    expect((await a.api('PUT', `/api/v1/flows/${flowA.body.id}/draft`, doc('v2', 'ack'))).status).toBe(200);

    type Answer = { n: number; ms: number; status: number; ok: boolean };
    const callB = async (n: number): Promise<Answer> => {
      const sentAt = Date.now();
      try {
        const res = await fetch(hookB, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(40_000),
        });
        const body = (await res.json().catch(() => undefined)) as any;
        return { n, ms: Date.now() - sentAt, status: res.status, ok: body?.ok === true && body?.n === n };
      } catch {
        return { n, ms: Number.POSITIVE_INFINITY, status: 0, ok: false };
      }
    };
    const warm = await callB(-1);
    expect(warm, 'warm-up call to B').toMatchObject({ status: 200, ok: true });

    const replay = await a.api('POST', `/api/v1/flows/${flowA.body.id}/replays`, {
      version: 'draft',
      limit: REPLAYED_RUNS,
    });
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    const progress = async () =>
      (await a.api('GET', `/api/v1/flows/${flowA.body.id}/replays?limit=1`)).body.data[0] as {
        status: string;
        done: number;
      };
    const answers: Promise<Answer>[] = [];
    const startedAt = Date.now();
    for (let i = 0; i < B_REQUESTS; i++) {
      const due = startedAt + i * B_INTERVAL_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      answers.push(callB(i));
    }
    const atLastSend = await progress();
    const results = await Promise.all(answers);
    const times = results.map((r) => r.ms).sort((x, y) => x - y);
    const good = results.filter((r) => r.status === 200 && r.ok).length;
    const doneBy = Date.now() + 120_000;
    let last = await progress();
    while (last.status !== 'done' && Date.now() < doneBy) {
      await sleep(250);
      last = await progress();
    }
    const tookMs = Date.now() - startedAt;
    console.log(
      `isolation/shadow replay [${DB}]: B answered ${good}/${B_REQUESTS} with its 200, answer time ${figures(times)} ` +
        `(warm-up ${fmtMs(warm.ms)}); A's replay of ${REPLAYED_RUNS} runs: ${atLastSend.done} done by B's last ` +
        `request, ${last.status} (${last.done}) after ${tookMs} ms`,
    );
    const report = (await a.api('GET', `/api/v1/replays/${replay.body.id}`)).body;
    expect(report).toMatchObject({ status: 'done', total: REPLAYED_RUNS, different: REPLAYED_RUNS });
    expect.soft(good, "B's requests answered 200 by the respond node").toBe(B_REQUESTS);
    expect.soft(percentile(times, 99), "B's answer time p99 (ms)").toBeLessThan(ANSWER_P99_LIMIT_MS);
  }, 300_000);
});
