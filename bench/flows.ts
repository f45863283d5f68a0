/**
 * `npm run bench:flows` — webhooks accepted and run to completion through a set → if → transform
 * flow: runs/s from the first request to the last run's end, and p50/p99 from a run's creation
 * (request stored) to its end. One Hookflow process (role all) on PGlite or DATABASE_URL.
 *
 * Options (env): BENCH_CONNECTIONS (50), BENCH_SECONDS (10).
 */
import autocannon from 'autocannon';
import { listAllRuns, machine, percentile, SAMPLE_BODY, startHookflow } from './lib.ts';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

async function main() {
  const h = await startHookflow();
  try {
    const flow = await h.api('POST', '/api/v1/flows', {
      name: 'bench flows',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        {
          id: 'set_1',
          type: 'set',
          config: {
            values: {
              'flow.key.order': '${Webhook::Body.order.id}',
              'vars.total': '${Webhook::Body.order.total}',
            },
          },
        },
        { id: 'if_1', type: 'if', config: { condition: '${= vars.total > 100}' } },
        {
          id: 'transform_1',
          type: 'transform',
          config: { expression: '$sum(Webhook::Body.order.items.(qty * price))', into: 'vars.sum' },
        },
      ],
      edges: [
        { from: 'webhook_1', to: 'set_1' },
        { from: 'set_1', to: 'if_1' },
        { from: 'if_1', to: 'transform_1', when: true },
      ],
    });
    const t0 = Date.now();
    const result = await autocannon({
      url: flow.webhooks[0].url,
      method: 'POST',
      connections,
      duration: seconds,
      body: SAMPLE_BODY,
      headers: { 'content-type': 'application/json' },
    });
    const accepted = result['2xx'];
    // Wait for the backlog to drain.
    let runs: any[] = [];
    for (;;) {
      runs = await listAllRuns(h, flow.id);
      const open = runs.filter((r) => r.status === 'queued' || r.status === 'running').length;
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const ends = runs.map((r) => Date.parse(r.finished_at));
    const lastEnd = Math.max(...ends);
    const latencies = runs
      .map((r) => Date.parse(r.finished_at) - Date.parse(r.created_at))
      .sort((a, b) => a - b);
    const failed = runs.filter((r) => r.status !== 'succeeded').length;
    console.log('');
    console.log(
      `Hookflow flows end to end — ${h.label}, set → if → transform, ${connections} connections, ${seconds}s of load`,
    );
    console.log(`  machine: ${machine()}`);
    console.log(
      `  accepted: ${accepted} (${(accepted / seconds).toFixed(0)}/s offered and taken), non-2xx: ${result.non2xx}`,
    );
    console.log(
      `  runs completed: ${runs.length} (${failed} not succeeded) in ${((lastEnd - t0) / 1000).toFixed(1)} s`,
    );
    console.log(
      `  runs/s (first request → last run end): ${(runs.length / ((lastEnd - t0) / 1000)).toFixed(0)}`,
    );
    console.log(
      `  request stored → run end: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
    );
    if (runs.length < accepted || failed) process.exitCode = 1;
  } finally {
    await h.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
