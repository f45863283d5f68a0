/**
 * What a replay report compares (docs/api.md §3.14): an original run and its replay — status,
 * error, vars and the response — as a list of the paths whose values differ.
 */

export type RunOutcome = {
  status: string;
  error: string | null;
  vars: Record<string, unknown>;
  response: { status?: number; headers?: Record<string, unknown>; body?: unknown } | null;
};

export type Difference = { path: string; original: unknown; replay: unknown };

/** At most this many differences are kept per item (the report says how many there were). */
export const MAX_DIFFERENCES = 100;

/** A response body as compared: JSON text by its value, other text as is. */
function bodyValue(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const segment = (key: string) => (/^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/** Appends to `out` the paths under `path` where `a` and `b` differ: objects by key, arrays by index. */
function walk(path: string, a: unknown, b: unknown, out: Difference[]): void {
  if (out.length >= MAX_DIFFERENCES + 1) return;
  if (Object.is(a, b)) return;
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(`${path}${segment(k)}`, a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out);
    return;
  }
  out.push({ path, original: a === undefined ? null : a, replay: b === undefined ? null : b });
}

/** The differences between an original run and its replay, first MAX_DIFFERENCES of them. */
export function compareRuns(
  original: RunOutcome,
  replay: RunOutcome,
): { differences: Difference[]; more: boolean } {
  const out: Difference[] = [];
  walk('status', original.status, replay.status, out);
  walk('error', original.error ?? null, replay.error ?? null, out);
  walk('vars', original.vars ?? {}, replay.vars ?? {}, out);
  const ro = original.response;
  const rr = replay.response;
  if (!ro || !rr) walk('response', ro ?? null, rr ?? null, out);
  else {
    walk('response.status', ro.status, rr.status, out);
    walk('response.headers', ro.headers ?? {}, rr.headers ?? {}, out);
    walk('response.body', bodyValue(ro.body), bodyValue(rr.body), out);
  }
  return { differences: out.slice(0, MAX_DIFFERENCES), more: out.length > MAX_DIFFERENCES };
}
