/**
 * The admin UI is served at `/` by the same app: files of the build with their types and cache
 * headers, index.html for every other path of the app (a deep link), and the server's own paths
 * (/api, /hooks, /healthz, /readyz, /metrics) answering exactly as before, in JSON.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

describe('admin UI serving', () => {
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hookflow-ui-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), INDEX);
    await writeFile(path.join(dir, 'assets', 'app-Ab12Cd34.js'), SCRIPT);
    await writeFile(path.join(dir, 'assets', 'app-Ef56Gh78.css'), 'body{margin:0}');
    t = await startTestApp({ uiDir: dir });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with no-cache and a content security policy', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toBe(INDEX);
  });

  it('answers a deep link of the app with index.html', async () => {
    for (const url of ['/flows', '/flows/flw_x', '/flows/flw_x?tab=runs', '/settings/']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.body, url).toBe(INDEX);
    }
  });

  it('serves hashed assets with their type and a year-long immutable cache', async () => {
    const js = await t.app.inject({ method: 'GET', url: '/assets/app-Ab12Cd34.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe(SCRIPT);
    const css = await t.app.inject({ method: 'GET', url: '/assets/app-Ef56Gh78.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('compresses text for clients that accept gzip, and answers 304 to a matching etag', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/assets/app-Ab12Cd34.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.rawPayload).toString()).toBe(SCRIPT);
    const again = await t.app.inject({
      method: 'GET',
      url: '/assets/app-Ab12Cd34.js',
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers a missing asset with a JSON 404, not the app', async () => {
    for (const url of ['/assets/app-old.js', '/favicon.ico']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ code: 'not_found' });
    }
  });

  it('keeps the API, hooks and operations routes as they were', async () => {
    const unknownApi = await t.api('GET', '/api/v1/nothing-here');
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers['content-type']).toContain('application/json');
    expect(unknownApi.body).toMatchObject({ code: 'route_not_found' });

    const unknownBase = await t.api('GET', '/api');
    expect(unknownBase.status).toBe(404);
    expect(unknownBase.body).toMatchObject({ code: 'route_not_found' });

    const hook = await fetch(`${t.url}/hooks/default/flw_missing`, { method: 'POST', body: '{}' });
    expect(hook.status).toBe(404);
    expect(await hook.json()).toMatchObject({ msg: 'Webhook not found' });

    const shortHook = await fetch(`${t.url}/hooks/default`);
    expect(shortHook.status).toBe(404);
    expect(shortHook.headers.get('content-type')).toContain('application/json');

    const flows = await t.api('GET', '/api/v1/flows', undefined, '');
    expect(flows.status).toBe(401);
    expect(flows.body).toMatchObject({ code: 'unauthorized' });

    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/metrics/`)).headers.get('content-type')).toContain('application/json');
    expect((await t.app.inject({ method: 'GET', url: '/api/docs' })).body).toContain('<');
    expect((await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json()).toHaveProperty('paths');
  });

  it('leaves other methods on app paths as JSON 404s', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/flows', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'route_not_found' });
  });
});

describe('admin UI not built', () => {
  let dir: string;
  let t: TestApp;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hookflow-ui-missing-'));
    t = await startTestApp({ uiDir: path.join(dir, 'dist') });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / with a clear message to build it, and picks the build up once it exists', async () => {
    const res = await fetch(`${t.url}/flows`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
    expect((await t.api('GET', '/api/v1/flows')).status).toBe(200);

    await mkdir(path.join(dir, 'dist'));
    await writeFile(path.join(dir, 'dist', 'index.html'), INDEX);
    const built = await fetch(`${t.url}/`);
    expect(built.status).toBe(200);
    expect(await built.text()).toBe(INDEX);
  });
});

describe('admin UI roles and the real build', () => {
  it('a worker process does not serve the UI', async () => {
    const t = await startTestApp({ role: 'worker' });
    try {
      const res = await fetch(`${t.url}/`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'route_not_found' });
    } finally {
      await t.close();
    }
  });

  it('serves the UI that npm run build wrote to web/dist', async () => {
    const dist = fileURLToPath(new URL('../web/dist/', import.meta.url));
    const index = await readFile(path.join(dist, 'index.html'), 'utf8').catch(() => {
      throw new Error('web/dist is missing: run `npm run build` (npm install runs it)');
    });
    const t = await startTestApp();
    try {
      const res = await fetch(`${t.url}/flows/flw_x`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(index);
      const script = /<script[^>]+src="([^"]+)"/.exec(index)?.[1];
      expect(script).toMatch(/^\/assets\/.+\.js$/);
      const js = await fetch(t.url + script);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    } finally {
      await t.close();
    }
  });
});
