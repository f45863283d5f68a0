/** What the node executors share: rendering templates, assigning variables, building bodies and headers. */
import { z } from 'zod';
import { parsePath, setPath } from '../core/paths.ts';
import { renderDeep, type TemplateContext } from '../core/templates.ts';
import type { OutboundResponse } from '../delivery/httpClient.ts';
import type { LoopIteration, RunState } from '../flows/engine.ts';

/** A node's own failure: its message becomes the node's error; `record` goes on the node record (logs). */
export class NodeFailure extends Error {
  constructor(
    message: string,
    /** Kept on the failed node's record: what it sent and got (an http call answered 500), its logs. */
    readonly record?: { logs?: string[]; iterations?: LoopIteration[]; input?: unknown; output?: unknown },
    /** The node gave up waiting (wait): its `"when": "timeout"` edges, if any, are taken. */
    readonly timeout = false,
  ) {
    super(message);
  }
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const templateString = z.string().max(100_000);

export const headersSchema = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name'),
  templateString,
);

/** `vars.<name>` or `flow.key.<name>`: where a node may put a value. */
export const intoTarget = (message = 'into is "vars.<name>" or "flow.key.<name>"') =>
  z.string().regex(/^(flow\.key|vars)\.[A-Za-z_][\w.-]*$/, message);

/** Renders a config value (templates in every string leaf); a failure names the field. */
export async function render(value: unknown, ctx: TemplateContext, field: string): Promise<unknown> {
  try {
    return await renderDeep(value, ctx);
  } catch (err) {
    throw new NodeFailure(`${field}: ${(err as Error).message}`);
  }
}

/** Sets `vars.<path>` or `flow.key.<path>` on the run. */
export function assign(state: RunState, target: string, value: unknown): void {
  const parsed = parsePath(target);
  if (!parsed.ok || parsed.segments.length < 2) throw new NodeFailure(`cannot assign to "${target}"`);
  const [first, second, ...rest] = parsed.segments;
  if (first === 'vars') setPath(state.vars, [second, ...rest], value);
  else if (first === 'flow' && second === 'key' && rest.length) setPath(state.flowKey, rest, value);
  else throw new NodeFailure(`cannot assign to "${target}": use vars.<name> or flow.key.<name>`);
}

/** Rendered headers, names lower-cased, values on one line (no CR, LF or NUL). */
export async function renderHeaders(value: unknown, ctx: TemplateContext): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(((await render(value ?? {}, ctx, 'headers')) ?? {}) as object))
    headers[k.toLowerCase()] = (typeof v === 'string' ? v : JSON.stringify(v ?? '')).replace(
      /[\r\n\0]/g,
      ' ',
    );
  return headers;
}

/** A request body: a string as is, anything else as JSON (setting content-type when none is). */
export function toBody(value: unknown, headers: Record<string, string>): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  return JSON.stringify(value);
}

/** An answer's body: parsed when it says it is JSON (and is), else its text. */
export function parseResponseBody(res: OutboundResponse): unknown {
  const text = res.body.toString('utf8');
  if (/\bjson\b/i.test(res.headers['content-type'] ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
