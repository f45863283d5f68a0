/**
 * The load generator, run as its own process by `bench/run.ts` so that it does not share an event
 * loop with Hookflow or the receiver. Reads its job as JSON from BENCH_LOAD, drives the URLs with
 * autocannon (keep-alive connections split across the URLs), and prints one JSON line with the
 * combined result.
 */
import autocannon from 'autocannon';

export type LoadJob = {
  urls: string[];
  connections: number;
  seconds: number;
  /** Requests per second offered across all connections (fixed-rate mode); unlimited when absent. */
  rate?: number;
  body: string;
  /** Replace the string "__SENT_AT__" in the body with the send time (ms since the epoch). */
  stampBody?: boolean;
  warmupSeconds?: number;
};

export type LoadResult = {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  p50: number;
  p99: number;
  startedAt: number;
  endedAt: number;
  /** The load generator's own CPU time during the measured phase (ms). */
  cpuMs: number;
};

function runOne(job: LoadJob, url: string, connections: number, seconds: number, rate?: number) {
  const opts: autocannon.Options = {
    url,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: job.body,
    ...(rate ? { overallRate: rate } : {}),
  };
  if (job.stampBody) {
    const [head, tail] = job.body.split('__SENT_AT__');
    opts.requests = [
      {
        method: 'POST',
        setupRequest: (req: any) => {
          req.body = head + String(Date.now()) + tail;
          return req;
        },
      },
    ];
  }
  return autocannon(opts);
}

async function run(job: LoadJob): Promise<LoadResult> {
  const n = job.urls.length;
  const split = (total: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
  if (job.warmupSeconds) {
    await Promise.all(job.urls.map((u, i) => runOne(job, u, Math.max(1, split(10, i)), job.warmupSeconds!)));
  }
  const startedAt = Date.now();
  const cpu0 = process.cpuUsage();
  const results = await Promise.all(
    job.urls.map((u, i) =>
      runOne(job, u, split(job.connections, i), job.seconds, job.rate ? job.rate / n : undefined),
    ),
  );
  const endedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((a, r) => a + f(r), 0);
  const requests = sum((r) => r.requests.total);
  // Percentiles of several generators combine only approximately: weight p50 by requests, take the
  // worst p99.
  const p50 = requests ? sum((r) => r.latency.p50 * r.requests.total) / requests : 0;
  return {
    requests,
    ok: sum((r) => r['2xx']),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    rps: sum((r) => r.requests.average),
    p50,
    p99: Math.max(...results.map((r) => r.latency.p99)),
    startedAt,
    endedAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

const job = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadJob;
run(job).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
