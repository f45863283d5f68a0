/**
 * `hookflow flows export|apply` as real processes against a running app (docs/api.md §3.12):
 * export prints the portable document; apply creates, then updates the flow of the same name.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestApp, type TestApp } from './helpers/app.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'hookflow.js');
const TIMEOUT = 90_000;

let t: TestApp;
let dir: string;
let key: string;
beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(path.join(tmpdir(), 'hookflow-cli-flows-'));
  const tenant = await t.api('POST', '/api/v1/tenants', { name: 'CLI' });
  key = (await t.api('POST', '/api/v1/api-keys', { name: 'cli', tenant_id: tenant.body.id })).body.key;
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A child environment with nothing of ours in it (no database, no HOOKFLOW_* of the parent). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('HOOKFLOW_') || k.startsWith('VITEST')) continue;
    if (['DATABASE_URL', 'TEST_DATABASE_URL', 'NODE_OPTIONS', 'NODE_ENV', 'TEST'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(args: string[], extra: Record<string, string>, stdin?: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(extra) });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdin.end(stdin ?? '');
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err })),
  );
}

describe('hookflow flows', () => {
  const env = () => ({ HOOKFLOW_URL: t.url, HOOKFLOW_API_KEY: key });

  it(
    'exports a flow, applies it as a new flow, then updates it by name',
    async () => {
      await t.api(
        'POST',
        '/api/v1/credentials',
        { name: 'Token', type: 'bearer', data: { token: 'x' } },
        key,
      );
      const cred = (await t.api('GET', '/api/v1/credentials', undefined, key)).body.data[0].id;
      const flow = await t.api(
        'POST',
        '/api/v1/flows',
        {
          name: 'Source',
          nodes: [{ id: 'http_1', type: 'http', config: { url: 'https://a.example', credential_id: cred } }],
          edges: [],
        },
        key,
      );
      expect(flow.status).toBe(201);

      const exp = await run(['flows', 'export', flow.body.id], env());
      expect(exp.err).toBe('');
      expect(exp.code).toBe(0);
      const doc = JSON.parse(exp.out);
      expect(doc.hookflow).toBe('flow/v1');
      expect(doc.nodes[0].config.credential_id).toEqual({ $ref: 'credential', name: 'Token' });
      expect(exp.out).toContain('\n  "'); // pretty

      doc.name = 'Copy';
      const file = path.join(dir, 'copy.json');
      writeFileSync(file, JSON.stringify(doc));
      const created = await run(['flows', 'apply', file], env());
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      const m = /^created (flw_\S+) "Copy"\n$/.exec(created.out);
      expect(m, created.out).not.toBeNull();

      doc.enabled = false;
      const updated = await run(['flows', 'apply', '-'], env(), JSON.stringify(doc));
      expect(updated.code, updated.err).toBe(0);
      expect(updated.out).toBe(`updated ${m![1]} "Copy" (version 2)\n`);
      expect((await t.api('GET', `/api/v1/flows/${m![1]}`, undefined, key)).body.enabled).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'fails with the server’s message and the unresolved names',
    async () => {
      const file = path.join(dir, 'bad.json');
      writeFileSync(
        file,
        JSON.stringify({
          hookflow: 'flow/v1',
          name: 'Bad',
          nodes: [
            {
              id: 'http_1',
              type: 'http',
              config: { url: 'https://a.example', credential_id: { $ref: 'credential', name: 'Nope' } },
            },
          ],
          edges: [],
        }),
      );
      const r = await run(['flows', 'apply', file], env());
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain('unresolved_references');
      expect(r.err).toContain('unresolved credential "Nope": node http_1, config.credential_id (not_found)');
      const missing = await run(['flows', 'export', 'flw_nope'], env());
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('Flow not found');
    },
    TIMEOUT,
  );

  it(
    'says what is missing: the configuration, or the server',
    async () => {
      const none = await run(['flows', 'export', 'flw_x'], {});
      expect(none.code).toBe(1);
      expect(none.err).toContain('HOOKFLOW_URL and HOOKFLOW_API_KEY');
      const port = await freePort();
      const down = await run(['flows', 'export', 'flw_x'], {
        HOOKFLOW_URL: `http://127.0.0.1:${port}`,
        HOOKFLOW_API_KEY: 'hf_x',
      });
      expect(down.code).toBe(1);
      expect(down.err).toContain(`cannot reach http://127.0.0.1:${port}`);
      const usage = await run(['flows', 'bogus'], env());
      expect(usage.code).toBe(2);
      expect(usage.err).toContain('hookflow flows export');
    },
    TIMEOUT,
  );
});
