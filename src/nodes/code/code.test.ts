/**
 * The code node in the real sandbox (QuickJS in WebAssembly on worker threads): the run's input,
 * its returned value and console lines, a throw with its line, and limits — an endless loop and a
 * memory bomb each fail the node with a clear message, and the host is out of reach.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runNode, runState, testEffects } from '../../../test/helpers/nodes.ts';
import { codeNode } from './index.ts';
import { CodeSandbox } from './sandbox.ts';

const sandbox = new CodeSandbox({ threads: 2 });
afterAll(async () => {
  await sandbox.close();
});
const effects = testEffects({ runCode: (tenant, job) => sandbox.run(tenant, job) });
const run = (
  config: Record<string, unknown>,
  state = runState({ body: { items: [{ price: 60 }, { price: 50 }] } }),
) => runNode(codeNode, config, { state, effects, steps: { http_1: { status: 200 } } });

describe('code node', () => {
  it('gets the run as input, returns JSON into steps and its target, and keeps console lines', async () => {
    const state = {
      ...runState({ body: { items: [{ price: 60 }, { price: 50 }] }, method: 'POST' }),
      vars: { tier: 'gold' } as Record<string, unknown>,
    };
    const { result } = await run(
      {
        source: [
          'const total = input.Webhook.Body.items.reduce((s, i) => s + i.price, 0);',
          'console.log("items", input.Webhook.Body.items.length, { tier: input.vars.tier });',
          'console.warn("status", input.steps.http_1.status);',
          'return { total, big: total > 100, method: input.Webhook.Method, run: input.run.id };',
        ].join('\n'),
        into: 'vars.order',
      },
      state,
    );
    expect(result).toEqual({
      kind: 'done',
      output: { total: 110, big: true, method: 'POST', run: 'run_test' },
      logs: ['items 2 {"tier":"gold"}', '[warn] status 200'],
    });
    expect(state.vars.order).toEqual({ total: 110, big: true, method: 'POST', run: 'run_test' });
  });

  it('returns null for no return value', async () => {
    expect((await run({ source: 'const x = 1;' })).result).toMatchObject({ kind: 'done', output: null });
  });

  it('fails the node with the message and the line of a throw, keeping the lines logged before it', async () => {
    const failure = run({
      source: 'console.log("before");\nconst x = 1;\nthrow new Error("no stock for " + x);',
    });
    await expect(failure).rejects.toThrow('no stock for 1 (line 3)');
    await expect(failure).rejects.toMatchObject({ record: { logs: ['before'] } });
    await expect(run({ source: 'return input.nope.deeper;' })).rejects.toThrow(/^TypeError: .*\(line 1\)$/);
  });

  it('fails an endless loop after its time limit with "Code ran longer than … ms"', async () => {
    await expect(run({ source: 'while (true) {}', timeout_ms: 200 })).rejects.toThrow(
      'Code ran longer than 200 ms',
    );
  });

  it('fails a memory bomb at its memory limit, even one QuickJS does not count (array storage)', async () => {
    const before = process.memoryUsage().rss;
    await expect(
      run({ source: 'const a = []; while (true) a.push("x".repeat(1e5) + a.length);', memory_mb: 16 }),
    ).rejects.toThrow('Code used more than its 16 MB of memory');
    await expect(
      run({ source: 'const a = []; while (true) a.push(new Array(1e5).fill(1));', memory_mb: 16 }),
    ).rejects.toThrow(/Code used more than its 16 MB of memory|Code ran longer than/);
    // The bomb stayed inside its capped WebAssembly memory (16 MB + the sandbox's own 16 MB).
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1048576);
    // And the sandbox goes on working.
    expect((await run({ source: 'return 1 + 1;' })).result).toMatchObject({ output: 2 });
  });

  it('has no host: no require, import, process, fetch or timers', async () => {
    const { result } = await run({
      source:
        'return [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof globalThis.__hookflow_input];',
    });
    expect((result as { output: unknown }).output).toEqual([
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
    ]);
    await expect(run({ source: 'return import("node:fs");' })).rejects.toThrow();
  });

  it('never lets a job see what an earlier job left in its globals or built-ins', async () => {
    // One after the other, so both run on the same thread (and QuickJS runtime).
    await run({
      source:
        'globalThis.leak = input.Webhook.Body; Object.prototype.polluted = 1; Array.prototype.map = () => "hijacked"; JSON.stringify = () => "{}"; return 1;',
    });
    const { result } = await run({
      source:
        'return [typeof leak, ({}).polluted ?? null, [1, 2].map((x) => x * 2), JSON.stringify({ a: 1 })];',
    });
    expect((result as { output: unknown }).output).toEqual(['undefined', null, [2, 4], '{"a":1}']);
  });

  it('fails a value that is not JSON with its reason, and a too deep nesting as a stack overflow', async () => {
    await expect(run({ source: 'const a = {}; a.self = a; return a;' })).rejects.toThrow(
      /^The code returned a value that is not JSON: /,
    );
    await expect(run({ source: `return ${'['.repeat(5000)}${']'.repeat(5000)};` })).rejects.toThrow(
      'Code overflowed the stack (too deep a recursion)',
    );
    expect((await run({ source: 'return 40 + 2;' })).result).toMatchObject({ output: 42 });
  });

  it('refuses on save a source that does not compile, with the message and the line of the source', () => {
    expect(
      codeNode.validate!({ source: 'const x = 1;\nreturn x +;', timeout_ms: 1000, memory_mb: 32 }),
    ).toEqual([{ field: 'source', msg: "SyntaxError: unexpected token in expression: ';' (line 2)" }]);
    // A brace never closed: reported on the source's last line, not the wrapper's.
    expect(
      codeNode.validate!({ source: 'if (input.vars.x) {\n  return 1;', timeout_ms: 1000, memory_mb: 32 }),
    ).toEqual([{ field: 'source', msg: expect.stringMatching(/^SyntaxError: .* \(line 2\)$/) }]);
    // The body of an async function: await and return are fine; it is compiled, never run.
    expect(
      codeNode.validate!({
        source: 'const v = await Promise.resolve(input.vars.x);\nwhile (true) {}\nreturn v;',
        timeout_ms: 1000,
        memory_mb: 32,
      }),
    ).toEqual([]);
    expect(
      codeNode.validate!({
        source: `return ${'('.repeat(20_000)}1${')'.repeat(20_000)};`,
        timeout_ms: 1000,
        memory_mb: 32,
      }),
    ).toEqual([{ field: 'source', msg: expect.stringMatching(/nested too deeply/) }]);
    // The check goes on working after that.
    expect(codeNode.validate!({ source: 'return 1 +', timeout_ms: 1000, memory_mb: 32 })).toEqual([
      { field: 'source', msg: expect.stringMatching(/^SyntaxError: .* \(line 1\)$/) },
    ]);
  });

  it('refuses an empty source and limits past 30 s or 256 MB on save', () => {
    expect(codeNode.schema.safeParse({ source: '' }).success).toBe(false);
    expect(codeNode.schema.safeParse({ source: 'return 1', timeout_ms: 30_001 }).success).toBe(false);
    expect(codeNode.schema.safeParse({ source: 'return 1', memory_mb: 257 }).success).toBe(false);
  });
});

describe('code sandbox scheduling', () => {
  const spin = { source: 'while (true) {}', input: null, timeoutMs: 1000, memoryMb: 16 };
  const quick = { source: 'return 1 + 1;', input: null, timeoutMs: 1000, memoryMb: 16 };

  it('lets a tenant alone use every thread, yet runs another tenant at once on a thread of its own', async () => {
    const pool = new CodeSandbox({ threads: 2, perTenant: 1, spareIdleMs: 50 });
    try {
      const ended: string[] = [];
      const a = [1, 2, 3].map((i) => pool.run('tenant-a', spin).then(() => ended.push(`a${i}`)));
      await new Promise((r) => setImmediate(r));
      // Work-conserving: A's jobs hold both threads, though A's share is one; a spare waits for others.
      expect(pool.busyThreads).toBe(2);
      expect(pool.threadCount).toBe(3);
      const b = await pool.run('tenant-b', quick);
      ended.push('b');
      expect(b).toMatchObject({ ok: true, value: 2 });
      // B did not wait for A's borrowed thread: a thread was added for it, and B ended first.
      expect(ended).toEqual(['b']);
      await Promise.all(a);
      expect(ended.slice(1).sort()).toEqual(['a1', 'a2', 'a3']);
      // Once nobody borrows, the added thread ends.
      await vi.waitFor(() => expect(pool.threadCount).toBe(2), { timeout: 5000 });
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('sends quick jobs on to a thread behind each other, never behind a job that runs long', async () => {
    const pool = new CodeSandbox({ threads: 2, perTenant: 1 });
    try {
      const ended: string[] = [];
      const long = pool.run('tenant-a', spin).then((r) => {
        ended.push('spin');
        return r;
      });
      const quicks = await Promise.all(
        Array.from({ length: 50 }, () =>
          pool.run('tenant-a', quick).then((r) => {
            ended.push('quick');
            return r;
          }),
        ),
      );
      expect(quicks.every((r) => r.ok && r.value === 2)).toBe(true);
      expect(ended).toEqual(Array(50).fill('quick'));
      expect(await long).toMatchObject({ ok: false, error: 'Code ran longer than 1000 ms' });
    } finally {
      await pool.close();
    }
  }, 20_000);
});
