/**
 * `npm run bench:ingest` — durable ingest throughput.
 *
 * Starts Hookflow as a child process (embedded PGlite in a temporary DATA_DIR, or DATABASE_URL when
 * set), creates an `ack`-mode flow, then drives its hook URL with autocannon (many concurrent
 * keep-alive connections, a 300-byte JSON body) from this process. Prints req/s, p50/p99 and errors,
 * then audits that every 2xx has its run in the database.
 *
 * Options (env): BENCH_CONNECTIONS (50), BENCH_SECONDS (10), BENCH_PIPELINING (1), BENCH_PROFILE (a
 * directory for a V8 CPU profile of the server).
 */
import autocannon from 'autocannon';
import { listAllRuns, machine, SAMPLE_BODY, startHookflow } from './lib.ts';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const pipelining = Number(process.env.BENCH_PIPELINING ?? 1);

async function main() {
  // Ingest only: no run workers competing for the CPU.
  const h = await startHookflow({ HOOKFLOW_ROLE: 'api' });
  try {
    const flow = await h.api('POST', '/api/v1/flows', {
      name: 'bench ingest',
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'ack' } } }],
      edges: [],
    });
    const hookUrl: string = flow.webhooks[0].url;
    const headers = { 'content-type': 'application/json' };
    await autocannon({
      url: hookUrl,
      method: 'POST',
      connections: 10,
      duration: 2,
      body: SAMPLE_BODY,
      headers,
    });
    const result = await autocannon({
      url: hookUrl,
      method: 'POST',
      connections,
      pipelining,
      duration: seconds,
      body: SAMPLE_BODY,
      headers,
    });
    const ok = result['2xx'];
    console.log('');
    console.log(
      `Hookflow durable ingest — ${h.label}, ${connections} connections, ${seconds}s, ${SAMPLE_BODY.length}-byte JSON`,
    );
    console.log(`  machine: ${machine()}`);
    console.log(`  req/s (mean):   ${result.requests.average.toFixed(0)}`);
    console.log(`  latency p50:    ${result.latency.p50} ms`);
    console.log(`  latency p99:    ${result.latency.p99} ms`);
    console.log(
      `  2xx: ${ok}   non-2xx: ${result.non2xx}   errors: ${result.errors}   timeouts: ${result.timeouts}`,
    );
    const stored = (await listAllRuns(h, flow.id)).length;
    console.log(`  audit: ${stored} runs stored for ${ok} accepted in the measured phase (+ warm-up)`);
    if (stored < ok) {
      console.error('  AUDIT FAILED: fewer runs than 2xx answers');
      process.exitCode = 1;
    }
  } finally {
    await h.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
