/**
 * The code node in the real sandbox (QuickJS in WebAssembly on worker threads): the run's input,
 * its returned value and console lines, a throw with its line, and limits — an endless loop and a
 * memory bomb each fail the node with a clear message, and the host is out of reach.
 */
import { afterAll, describe, expect, it } from 'vitest';
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

  it('refuses an empty source and limits past 30 s or 256 MB on save', () => {
    expect(codeNode.schema.safeParse({ source: '' }).success).toBe(false);
    expect(codeNode.schema.safeParse({ source: 'return 1', timeout_ms: 30_001 }).success).toBe(false);
    expect(codeNode.schema.safeParse({ source: 'return 1', memory_mb: 257 }).success).toBe(false);
  });
});
