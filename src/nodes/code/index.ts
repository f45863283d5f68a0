/**
 * `code`: JavaScript over the run, in a QuickJS WebAssembly sandbox on a worker thread (./sandbox.ts)
 * — never Node's own VM. The source is the body of a function of `input` (the run context as JSON);
 * what it returns (JSON) is the node's output and, with `into`, that variable. `console.log` lines
 * are kept on the node record. No require/import, process, network, file system or timers exist
 * inside; time and memory are limited per run of the code. A source that does not compile is
 * refused on save with QuickJS's message and its line (./syntax.ts).
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { assign, intoTarget, NodeFailure } from '../util.ts';
import { checkSyntax } from './syntax.ts';

const schema = z
  .object({
    source: z.string().min(1, 'the code is empty').max(100_000),
    into: intoTarget().optional(),
    timeout_ms: z.number().int().min(1).max(30_000).default(1000),
    memory_mb: z.number().int().min(1).max(256).default(32),
  })
  .strict();
export type CodeConfig = z.infer<typeof schema>;

export const codeNode: NodeDefinition<CodeConfig> = {
  type: 'code',
  catalog: {
    label: 'Code',
    description: 'Runs JavaScript in a sandbox; what it returns lands in steps.<id>',
    category: 'data',
    trigger: false,
    terminal: false,
    edges: 'plain',
    initial_config: {
      source:
        'const items = input.Webhook.Body.items ?? [];\nconst total = items.reduce((sum, i) => sum + (i.price ?? 0), 0);\nconsole.log(`${items.length} item(s)`);\nreturn { total, big: total > 100 };',
      timeout_ms: 1000,
      memory_mb: 32,
    },
    fields: [
      {
        key: 'source',
        label: 'JavaScript',
        kind: 'code',
        help: 'The body of a function of input: input.Webhook.Body, .Headers, .Query, .Method, input.vars, input.flow.key, input.steps, input.run. Return a JSON value.',
      },
      {
        key: 'into',
        label: 'Into (optional)',
        kind: 'text',
        mono: true,
        optional: true,
        help: 'Also keep the result in vars.<name> or flow.key.<name>; it is always in steps.<this node>.',
      },
      {
        key: 'timeout_ms',
        label: 'Time limit (ms)',
        kind: 'number',
        min: 1,
        max: 30000,
        optional: true,
        default: 1000,
      },
      {
        key: 'memory_mb',
        label: 'Memory limit (MB)',
        kind: 'number',
        min: 1,
        max: 256,
        optional: true,
        default: 32,
      },
    ],
    panel: null,
    summary: ['→ {into}', 'JavaScript'],
    note: 'No require or import, process, network, files or timers; console.log lines are kept on the run.',
    output: 'the returned value (JSON)',
  },
  schema,
  notTemplates: ['source'],
  validate: (config) => {
    const problem = checkSyntax(config.source);
    if (!problem) return [];
    return [
      { field: 'source', msg: problem.line ? `${problem.message} (line ${problem.line})` : problem.message },
    ];
  },
  execute: async ({ config, ctx, state, effects }) => {
    const input = {
      Webhook: ctx.Webhook,
      vars: ctx.vars,
      flow: { id: ctx.flow?.id, key: ctx.flow?.key },
      steps: ctx.steps,
      run: ctx.run,
      ...(ctx.loop ? { loop: ctx.loop } : {}),
      ...(ctx.Schedule ? { Schedule: ctx.Schedule } : {}),
      ...(ctx.error ? { error: ctx.error } : {}),
      ...(ctx.resume ? { resume: ctx.resume } : {}),
    };
    const result = await effects.runCode(state.tenantId, {
      source: config.source,
      input,
      timeoutMs: config.timeout_ms,
      memoryMb: config.memory_mb,
    });
    const logs = result.logsCut
      ? [...result.logs, '… (more lines were cut: at most 100 lines, 16 KiB)']
      : result.logs;
    if (!result.ok) throw new NodeFailure(result.error, { logs });
    if (config.into) assign(state, config.into, result.value);
    return { kind: 'done', output: result.value, logs };
  },
};
