/**
 * The `hookflow` CLI as real processes (docs/api.md §1, §7): first start prints an admin key once, the
 * embedded database's DATA_DIR lock, SIGTERM drains and exits 0, configuration errors, migrate and
 * keys create. Always the embedded (PGlite) path: the children never get a DATABASE_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/app.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'hookflow.js');
const KEY_RE = /hf_[A-Za-z0-9_-]{20,}/g;
const TEST_TIMEOUT = 90_000;

type Proc = {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const children: ChildProcess[] = [];
const tmpDirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hookflow-cli-'));
  tmpDirs.push(dir);
  return path.join(dir, 'data');
}

/** A child environment with nothing of ours that would change the product's behaviour. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k === 'DATABASE_URL' || k === 'TEST_DATABASE_URL' || k === 'PUBLIC_URL' || k === 'DATA_DIR') continue;
    if (k.startsWith('HOOKFLOW_') || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL' || k === 'SMTP_URL')
      continue;
    if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k === 'NODE_ENV' || k === 'TEST') continue;
    env[k] = v;
  }
  return { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
}

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain before anyone reads them.
      setImmediate(() => resolve({ code, signal }));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs a command to its end. */
async function runToEnd(args: string[], env: Record<string, string>, timeoutMs = 60_000) {
  const p = run(args, env);
  const result = await withTimeout(p.exited, timeoutMs, `hookflow ${args.join(' ')} did not exit`);
  return { ...result, stdout: p.stdout(), stderr: p.stderr() };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Polls /healthz until it answers 200; fails early if the process exits. */
async function waitHealthy(proc: Proc, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited)
      throw new Error(`hookflow exited before becoming healthy:\n${proc.stdout()}\n${proc.stderr()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`hookflow did not become healthy in ${timeoutMs} ms:\n${proc.stdout()}\n${proc.stderr()}`);
}

async function stop(proc: Proc) {
  proc.child.kill('SIGTERM');
  return withTimeout(proc.exited, 30_000, 'hookflow did not exit after SIGTERM');
}

const noStackTrace = (text: string) => {
  expect(text).not.toMatch(/\n\s+at .+:\d+/);
  expect(text).not.toMatch(/node:internal|\.ts:\d+:\d+/);
};

describe('hookflow start', () => {
  it(
    'prints an admin key once on a fresh DATA_DIR, locks DATA_DIR against a second process, drains on SIGTERM and does not print a new key on restart',
    async () => {
      const dataDir = tempDataDir();
      const port = await freePort();
      const first = run(['start'], { DATA_DIR: dataDir, PORT: String(port) });
      await waitHealthy(first, port);

      const keys = first.stdout().match(KEY_RE) ?? [];
      expect(keys, first.stdout()).toHaveLength(1);
      const key = keys[0];
      expect(first.stderr()).not.toContain(key);
      const authed = await fetch(`http://127.0.0.1:${port}/api/v1/tenants`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(authed.status).toBe(200); // a platform admin key
      expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(true);

      // A second process on the same DATA_DIR refuses to start, naming the reason.
      const otherPort = await freePort();
      const second = await runToEnd(['start'], { DATA_DIR: dataDir, PORT: String(otherPort) });
      expect(second.code).not.toBe(0);
      expect(second.code).not.toBeNull();
      expect(second.stderr).toContain('in use by another Hookflow process');
      noStackTrace(second.stderr);
      expect(second.stdout).not.toMatch(KEY_RE);
      // …and the first one is unharmed.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(true);

      const started = Date.now();
      const exit = await stop(first);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(false);

      // Restart on the same data: no new key, the old one still works.
      const port2 = await freePort();
      const again = run(['start'], { DATA_DIR: dataDir, PORT: String(port2) });
      await waitHealthy(again, port2);
      expect(again.stdout()).not.toMatch(KEY_RE);
      const stillAuthed = await fetch(`http://127.0.0.1:${port2}/api/v1/flows`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(stillAuthed.status).toBe(200);
      expect((await stop(again)).code).toBe(0);
      expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(false);
    },
    TEST_TIMEOUT * 2,
  );

  it(
    'takes over a lockfile left by a process that no longer exists',
    async () => {
      const dataDir = tempDataDir();
      const port = await freePort();
      const first = run(['start'], { DATA_DIR: dataDir, PORT: String(port) });
      await waitHealthy(first, port);
      first.child.kill('SIGKILL');
      await first.exited;
      expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(true);

      const port2 = await freePort();
      const again = run(['start'], { DATA_DIR: dataDir, PORT: String(port2) });
      await waitHealthy(again, port2);
      expect((await stop(again)).code).toBe(0);
    },
    TEST_TIMEOUT * 2,
  );

  it(
    'installs HOOKFLOW_BOOTSTRAP_KEY as an admin key instead of printing one',
    async () => {
      const dataDir = tempDataDir();
      const port = await freePort();
      const bootstrap = `hf_bootstrap_${'k'.repeat(24)}`;
      const proc = run(['start'], {
        DATA_DIR: dataDir,
        PORT: String(port),
        HOOKFLOW_BOOTSTRAP_KEY: bootstrap,
      });
      await waitHealthy(proc, port);
      expect(proc.stdout().match(KEY_RE) ?? []).toEqual([]);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/tenants`, {
        headers: { authorization: `Bearer ${bootstrap}` },
      });
      expect(res.status).toBe(200);
      expect((await stop(proc)).code).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    'exits 1 naming PORT, without a stack trace, when PORT=abc',
    async () => {
      const dataDir = tempDataDir();
      const r = await runToEnd(['start'], { DATA_DIR: dataDir, PORT: 'abc' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('PORT');
      noStackTrace(r.stderr);
      noStackTrace(r.stdout);
      expect(r.stdout).not.toMatch(KEY_RE);
      // Nothing was created: the check happens before the database is touched.
      expect(existsSync(dataDir)).toBe(false);
    },
    TEST_TIMEOUT,
  );

  it(
    'exits 1 with a clear message when the port is taken, releasing DATA_DIR',
    async () => {
      const dataDir = tempDataDir();
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const port = (blocker.address() as AddressInfo).port;
        const r = await runToEnd(['start'], { DATA_DIR: dataDir, PORT: String(port) });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/EADDRINUSE|in use/);
        expect(r.stderr).toContain('PORT');
        noStackTrace(r.stderr);
        expect(existsSync(path.join(dataDir, 'hookflow.lock'))).toBe(false);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses an unknown --role',
    async () => {
      const r = await runToEnd(['start', '--role', 'boss'], {
        DATA_DIR: tempDataDir(),
        PORT: String(await freePort()),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('--role');
      noStackTrace(r.stderr);
    },
    TEST_TIMEOUT,
  );

  it(
    'exits 1 naming the variable for other wrong values too',
    async () => {
      const dataDir = tempDataDir();
      for (const [variable, value] of [
        ['PUBLIC_URL', 'ftp://x'],
        ['HOOKFLOW_SECRET_KEY', 'short'],
      ]) {
        const r = await runToEnd(['start'], {
          DATA_DIR: dataDir,
          PORT: String(await freePort()),
          [variable]: value,
        });
        expect(r.code, variable).toBe(1);
        expect(r.stderr).toContain(variable);
        noStackTrace(r.stderr);
      }
    },
    TEST_TIMEOUT,
  );
});

describe('hookflow migrate and keys create', () => {
  it(
    'migrate exits 0; keys create prints a key that authenticates against a server on the same DATA_DIR',
    async () => {
      const dataDir = tempDataDir();
      const migrate = await runToEnd(['migrate'], { DATA_DIR: dataDir });
      expect(migrate.code, migrate.stderr).toBe(0);
      noStackTrace(migrate.stderr);
      // Twice is fine: nothing left to apply.
      expect((await runToEnd(['migrate'], { DATA_DIR: dataDir })).code).toBe(0);

      const created = await runToEnd(['keys', 'create', '--name', 'ci'], { DATA_DIR: dataDir });
      expect(created.code, created.stderr).toBe(0);
      const keys = created.stdout.match(KEY_RE) ?? [];
      expect(keys).toHaveLength(1);
      const key = keys[0];
      expect(created.stdout.trim()).toBe(key);

      const port = await freePort();
      const server = run(['start'], { DATA_DIR: dataDir, PORT: String(port) });
      await waitHealthy(server, port);
      // A key exists already, so start prints none.
      expect(server.stdout()).not.toMatch(KEY_RE);

      const res = await fetch(`http://127.0.0.1:${port}/api/v1/api-keys`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { name: string; is_admin: boolean }[] };
      expect(body.data).toEqual([expect.objectContaining({ name: 'ci', is_admin: false })]);
      // Not an admin key: it cannot list tenants.
      const tenants = await fetch(`http://127.0.0.1:${port}/api/v1/tenants`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(tenants.status).toBe(403);
      expect((await stop(server)).code).toBe(0);
    },
    TEST_TIMEOUT * 2,
  );

  it(
    'keys create refuses an unknown tenant and a missing name',
    async () => {
      const dataDir = tempDataDir();
      const unknown = await runToEnd(['keys', 'create', '--name', 'x', '--tenant', 'ten_nope'], {
        DATA_DIR: dataDir,
      });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('ten_nope');
      expect(unknown.stdout).not.toMatch(KEY_RE);
      const noName = await runToEnd(['keys', 'create'], { DATA_DIR: dataDir });
      expect(noName.code).not.toBe(0);
      expect(noName.stderr).toMatch(/--name/);
    },
    TEST_TIMEOUT,
  );

  it(
    'keys create while a server holds DATA_DIR fails clearly instead of corrupting it',
    async () => {
      const dataDir = tempDataDir();
      const port = await freePort();
      const server = run(['start'], { DATA_DIR: dataDir, PORT: String(port) });
      await waitHealthy(server, port);
      const r = await runToEnd(['keys', 'create', '--name', 'late'], { DATA_DIR: dataDir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('in use by another Hookflow process');
      noStackTrace(r.stderr);
      expect((await stop(server)).code).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    'an unknown command exits non-zero with the usage',
    async () => {
      const r = await runToEnd(['frobnicate'], { DATA_DIR: tempDataDir() });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Unknown command "frobnicate"/);
      expect(r.stderr).toMatch(/Usage: hookflow/);
    },
    TEST_TIMEOUT,
  );
});
