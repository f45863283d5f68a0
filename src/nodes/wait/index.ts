/**
 * `wait` (docs/api.md §4.3, §4.7): the run sleeps in the database until someone calls the node's
 * resume URL (`${resume.<id>}`, in every template of the run) or `timeout_ms` passes. The callback
 * is stored by the resume route before it is answered; the node finds it here, whether it came
 * before the run reached the wait or while it slept. A timeout fails the node — its `"when":
 * "timeout"` edges, if it has any, are taken instead.
 */
import { z } from 'zod';
import type { NodeDefinition } from '../types.ts';
import { headersSchema, NodeFailure, templateString } from '../util.ts';

export const WAIT_MAX_TIMEOUT_MS = 30 * 86_400_000;

export const waitResponseSchema = z
  .object({
    status: z.number().int().min(200).max(599).default(200),
    content_type: templateString.default('application/json'),
    headers: headersSchema.default({}),
    body: z.unknown().default('{"status":"resumed"}'),
  })
  .strict();
export type WaitResponse = z.infer<typeof waitResponseSchema>;

const schema = z
  .object({
    timeout_ms: z.number().int().min(1000).max(WAIT_MAX_TIMEOUT_MS).default(86_400_000),
    response: waitResponseSchema.default({
      status: 200,
      content_type: 'application/json',
      headers: {},
      body: '{"status":"resumed"}',
    }),
  })
  .strict();
export type WaitConfig = z.infer<typeof schema>;

export const waitNode: NodeDefinition<WaitConfig> = {
  type: 'wait',
  catalog: {
    label: 'Wait for a call',
    description: 'Sleeps until its resume URL is called (a callback, an approval link)',
    category: 'control',
    trigger: false,
    terminal: false,
    edges: 'timeout',
    initial_config: { timeout_ms: 86_400_000 },
    fields: [
      {
        key: 'timeout_ms',
        label: 'Give up after (ms)',
        kind: 'number',
        min: 1000,
        max: WAIT_MAX_TIMEOUT_MS,
        optional: true,
        default: 86_400_000,
        help: 'With no call by then the node fails — or takes its "timeout" edges, if it has any.',
      },
      {
        key: 'response',
        label: 'Answer to the call',
        kind: 'body',
        optional: true,
        default: { status: 200, content_type: 'application/json', headers: {}, body: '{"status":"resumed"}' },
        help: '{status, content_type, headers, body}, sent as is to whoever calls the resume URL.',
      },
    ],
    panel: null,
    summary: ['up to {timeout_ms} ms'],
    note: 'Its resume URL is ${resume.{id}} in every template of the run: send it to the API that calls back (an http node before the wait), or in an e-mail as an approval link.',
    output: '{method, headers, query, body} of the call',
  },
  schema,
  notTemplates: ['response'],
  notInBody: 'its resume URL is one per run, not one per item',
  sleeps: true,
  edgeProblem: (e) =>
    e.when === undefined || e.when === 'timeout'
      ? undefined
      : `a wait node's out-edges are plain, or "when": "timeout" (taken when no call came in time)`,
  edgeTaken: (e) => e.when !== 'timeout',
  execute: async ({ node, config, state, effects, existing }) => {
    const resumeUrl = effects.resumeUrl(state.tenantId, state.id, node.id);
    const input = { resume_url: resumeUrl, timeout_ms: config.timeout_ms };
    const call = await effects.resumed(state.tenantId, state.id, node.id);
    if (call)
      return {
        kind: 'done',
        input,
        output: { method: call.method, headers: call.headers, query: call.query, body: call.body },
      };
    // A replay run got the original's call above, or gives up at once (no one calls it back).
    if (effects.replay)
      throw new NodeFailure(
        'No call to the resume URL in replay (the original run got none)',
        undefined,
        true,
      );
    const now = effects.now();
    const until =
      existing?.status === 'waiting'
        ? Date.parse((existing.output as { until: string }).until)
        : now + config.timeout_ms;
    if (now >= until)
      throw new NodeFailure(`No call to the resume URL within ${config.timeout_ms} ms`, undefined, true);
    return { kind: 'sleep', untilMs: until, input };
  },
};
