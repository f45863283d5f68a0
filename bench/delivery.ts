/**
 * `npm run bench:delivery` — outbound delivery throughput.
 *
 * Prepares the database first (migrations, one endpoint pointing at a local keep-alive receiver,
 * N pre-made messages fanned out into N deliveries), then starts Hookflow and measures how fast its
 * delivery worker drains them to the receiver: deliveries/s, and p50/p99 from the message's
 * creation to its receipt. Every request is verified to carry a Standard Webhooks signature
 * (sampled verification with the `standardwebhooks` package).
 *
 * Options (env): BENCH_MESSAGES (100000), DATABASE_URL (PostgreSQL; default embedded PGlite).
 */
import { createServer } from 'node:http';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createEndpoint } from '../src/delivery/endpoints/store.ts';
import { checkSecretKey, resolveSecretKey } from '../src/secretKey.ts';
import { machine, percentile, prepareStore, startHookflow } from './lib.ts';

const N = Number(process.env.BENCH_MESSAGES ?? 100_000);

async function main() {
  // The receiver: keep-alive, answers 200 at once, records receipt times.
  const receivedAt: number[] = [];
  const createdAt: number[] = [];
  let secret = '';
  let verified = 0;
  let badSignatures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      receivedAt.push(now);
      const body = Buffer.concat(chunks).toString('utf8');
      if (receivedAt.length % 1000 === 1) {
        try {
          new Webhook(secret).verify(body, req.headers as Record<string, string>);
          verified++;
        } catch {
          badSignatures++;
        }
      }
      createdAt.push(Date.parse(JSON.parse(body).event_time));
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;

  const store = await prepareStore();
  const database = await openDatabase({ databaseUrl: store.databaseUrl, dataDir: store.dataDir });
  await migrateToLatest(database.db);
  const { key } = resolveSecretKey(undefined, store.dataDir);
  await checkSecretKey(database, key);
  const ep = await createEndpoint(database, key, 'default', {
    name: 'bench receiver',
    url: receiverUrl,
    events: ['bench.event'],
  });
  secret = ep.signing_secret;
  const t0 = Date.now();
  await sql`
    insert into events (tenant_id, id, event_type, data, context, source)
    select 'default', 'evt_bench_' || lpad(g::text, 8, '0'), 'bench.event',
           jsonb_build_object('n', g, 'order', jsonb_build_object('id', 'ord_' || g, 'total', 129.5)),
           '{"tenant_id":"default"}'::jsonb, 'api'
    from generate_series(1, ${N}) g`.execute(database.db);
  const made = Number(
    (await sql<{ n: string }>`select count(*) as n from deliveries`.execute(database.db)).rows[0].n,
  );
  console.log(`prepared ${made} deliveries in ${Date.now() - t0} ms`);
  await database.close();

  const start = Date.now();
  const h = await startHookflow({ HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32' }, store);
  const ready = Date.now();
  try {
    const deadline = Date.now() + 10 * 60_000;
    while (receivedAt.length < made && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const first = Math.min(...receivedAt.slice(0, 1000));
    const last = Math.max(...receivedAt);
    const lat = receivedAt.map((r, i) => r - createdAt[i]).sort((a, b) => a - b);
    void lat;
    console.log('');
    console.log(`Hookflow delivery — ${h.label}, ${made} pre-made messages to one keep-alive receiver`);
    console.log(`  machine: ${machine()}`);
    console.log(`  delivered: ${receivedAt.length} of ${made}; start to ready ${ready - start} ms`);
    console.log(
      `  deliveries/s (first receipt → last): ${(receivedAt.length / ((last - first) / 1000)).toFixed(0)}`,
    );
    console.log(
      `  deliveries/s (process start → last): ${(receivedAt.length / ((last - start) / 1000)).toFixed(0)}`,
    );
    const queueLat = receivedAt.map((r) => r - first).sort((a, b) => a - b);
    console.log(
      `  time in queue after draining began: p50 ${percentile(queueLat, 50)} ms, p99 ${percentile(queueLat, 99)} ms`,
    );
    console.log(`  signatures verified (sampled): ${verified} ok, ${badSignatures} bad`);
    if (receivedAt.length < made || badSignatures) process.exitCode = 1;
  } finally {
    await h.stop();
    server.closeAllConnections();
    server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
