import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundClient, OutboundError } from './httpClient.ts';

describe('outbound HTTP client', () => {
  let server: Server;
  let base: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (req.url === '/big') return void res.end(Buffer.alloc(100_000, 97));
      if (req.url === '/drip') {
        // Headers at once, then a byte every 50 ms: each gap is short, the whole is not.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const t = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      if (req.url === '/see-other') {
        res.writeHead(303, { location: '/echo' });
        return void res.end('moved');
      }
      if (req.url === '/redirect-meta') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        return void res.end();
      }
      if (req.url === '/redirect-local') {
        res.writeHead(302, { location: '/echo' });
        return void res.end();
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, body, ua: req.headers['user-agent'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses a 127.0.0.1 receiver when the allowlist does not name it, without connecting', async () => {
    const client = new OutboundClient();
    const before = hits;
    await expect(client.request({ method: 'GET', url: `${base}/echo` })).rejects.toMatchObject({
      code: 'ssrf_refused',
    });
    expect(hits).toBe(before);
    await client.close();
  });

  it('refuses localhost by name after resolving it', async () => {
    const client = new OutboundClient();
    const port = new URL(base).port;
    const err = await client.request({ method: 'GET', url: `http://localhost:${port}/echo` }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.code).toBe('ssrf_refused');
    await client.close();
  });

  it('reaches an allowed receiver and returns status, headers and body', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    const res = await client.request({
      method: 'POST',
      url: `${base}/echo`,
      body: 'hello',
      headers: { 'X-A': '1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toMatchObject({
      method: 'POST',
      body: 'hello',
      ua: expect.stringMatching(/^Hookflow\//),
    });
    await client.close();
  });

  it('times out a receiver that does not answer in time', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    await expect(
      client.request({ method: 'GET', url: `${base}/slow`, timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'timeout' });
    await client.close();
  });

  it('ends a call whose body drips in slowly at the total deadline, not per gap', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    const started = Date.now();
    await expect(
      client.request({ method: 'GET', url: `${base}/drip`, timeoutMs: 400 }),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
    await client.close();
  });

  it("stops when the caller's signal aborts", async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await client
      .request({ method: 'GET', url: `${base}/slow`, signal: ac.signal })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.message).toMatch(/aborted/);
    await client.close();
  });

  it('a 303 is followed with a GET and no body', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    const res = await client.request({
      method: 'POST',
      url: `${base}/see-other`,
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
      maxRedirects: 1,
    });
    expect(JSON.parse(res.body.toString())).toMatchObject({ method: 'GET', url: '/echo', body: '' });
    await client.close();
  });

  it('caps the response body: truncates or fails as asked', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    const cut = await client.request({ method: 'GET', url: `${base}/big`, maxResponseBytes: 4096 });
    expect(cut.body.length).toBe(4096);
    expect(cut.truncated).toBe(true);
    await expect(
      client.request({ method: 'GET', url: `${base}/big`, maxResponseBytes: 4096, onOversize: 'error' }),
    ).rejects.toMatchObject({ code: 'response_too_large' });
    await client.close();
  });

  it('re-checks every redirect hop: a redirect to the metadata address is refused', async () => {
    const client = new OutboundClient({ allowPrivateTargets: ['127.0.0.1/32'] });
    await expect(
      client.request({ method: 'GET', url: `${base}/redirect-meta`, maxRedirects: 3 }),
    ).rejects.toMatchObject({
      code: 'ssrf_refused',
    });
    const followed = await client.request({ method: 'GET', url: `${base}/redirect-local`, maxRedirects: 3 });
    expect(JSON.parse(followed.body.toString()).url).toBe('/echo');
    const notFollowed = await client.request({ method: 'GET', url: `${base}/redirect-local` });
    expect(notFollowed.status).toBe(302);
    await client.close();
  });

  it('rejects URLs that are not http(s) or carry credentials', async () => {
    const client = new OutboundClient();
    await expect(client.request({ method: 'GET', url: 'file:///etc/passwd' })).rejects.toMatchObject({
      code: 'invalid_url',
    });
    await expect(client.request({ method: 'GET', url: 'not a url' })).rejects.toMatchObject({
      code: 'invalid_url',
    });
    await client.close();
  });
});
