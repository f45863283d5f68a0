/**
 * The benchmark's webhook receiver, run as its own process: a keep-alive HTTP server that answers
 * 200 at once and keeps score. Control routes under `/__bench/`:
 *   POST /__bench/secret  (body: the endpoint's whsec_ secret) — verify a sample of signatures
 *   GET  /__bench/stats   — counts, first/last receipt, latency percentiles, duplicates
 *   POST /__bench/reset
 * A delivered body with `data.vars.sent_at` (ms since the epoch) yields an inbound-to-receipt
 * latency sample. Prints `{"port": N}` on its first line.
 */
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

let verifier: Webhook | null = null;
let count = 0;
let first = 0;
let last = 0;
let verified = 0;
let badSignatures = 0;
let duplicates = 0;
let latencies: number[] = [];
let seen = new Set<string>();

function reset() {
  count = first = last = verified = badSignatures = duplicates = 0;
  latencies = [];
  seen = new Set();
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    if (url.startsWith('/__bench/')) {
      if (url === '/__bench/secret') {
        verifier = new Webhook(Buffer.concat(chunks).toString('utf8').trim());
        res.end('ok');
      } else if (url === '/__bench/reset') {
        reset();
        res.end('ok');
      } else {
        const sorted = latencies.slice().sort((a, b) => a - b);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            count,
            first,
            last,
            verified,
            badSignatures,
            duplicates,
            latencySamples: sorted.length,
            p50: percentile(sorted, 50),
            p99: percentile(sorted, 99),
          }),
        );
      }
      return;
    }
    const now = Date.now();
    if (!count) first = now;
    last = now;
    count++;
    const id = req.headers['webhook-id'] as string | undefined;
    if (id) {
      if (seen.has(id)) duplicates++;
      else seen.add(id);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    if (verifier && count % 500 === 1) {
      try {
        verifier.verify(body, req.headers as Record<string, string>);
        verified++;
      } catch {
        badSignatures++;
      }
    }
    if (body.includes('"sent_at"')) {
      try {
        const sentAt = Number(JSON.parse(body)?.data?.vars?.sent_at);
        if (sentAt > 0) latencies.push(now - sentAt);
      } catch {}
    }
    res.end('ok');
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
