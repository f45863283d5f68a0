/** A real HTTP receiver on 127.0.0.1 that records what it gets; the handler decides the answer. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Received = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

export type Receiver = {
  url: string;
  received: Received[];
  /** Requests being handled right now (for concurrency checks). */
  active: number;
  maxActive: number;
  handler: (req: Received, res: ServerResponse) => void | Promise<void>;
  close(): Promise<void>;
};

export async function startReceiver(
  handler: Receiver['handler'] = (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  },
): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    received: [],
    active: 0,
    maxActive: 0,
    handler,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rec = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      r.received.push(rec);
      r.active++;
      r.maxActive = Math.max(r.maxActive, r.active);
      res.on('close', () => r.active--);
      try {
        await r.handler(rec, res);
      } catch {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  r.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  };
  return r;
}

/** Polls until fn() returns a truthy value; fails after `ms`. */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  ms = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `${what} not reached within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}
