/**
 * Sample fields and required parameters of the webhook trigger (docs/api.md §3.9 "Samples").
 *
 * Fields are derived from a captured request (or from JSON / key-value pairs the user typed);
 * when saved they become the webhook node's `parameters`, which are checked on every request.
 * All paths use the one syntax of `paths.ts`: `order.items[0].price`, `['hub.challenge']`.
 */
import { formatPath, getPath, type PathSegment, parsePath } from './paths.ts';

export type FieldSource = 'body' | 'query' | 'headers';

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export type Field = { source: FieldSource; path: string; type: FieldType; example: unknown };

export type Parameter = { source: FieldSource; path: string; type?: string; required?: boolean };

export type RequestParts = {
  body: unknown;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
};

export type TypeMismatch = { param: string; expected: string; got: FieldType };

export const DEFAULT_MAX_FIELDS = 500;
export const MAX_FIELD_DEPTH = 32;
export const MAX_EXAMPLE_CHARS = 200;

/** Headers that say nothing about the sender's payload; left out of derived fields. */
const SKIPPED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-connection',
  'accept-encoding',
]);

/** The field type of a JSON-like value; `undefined` for things JSON cannot hold. */
export function valueType(v: unknown): FieldType | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(v) ? 'integer' : Number.isFinite(v) ? 'number' : undefined;
    case 'object':
      return 'object';
    default:
      return undefined;
  }
}

/** Cuts long strings to 200 characters + `…`, never inside a surrogate pair. */
export function truncateExample(s: string, max = MAX_EXAMPLE_CHARS): string {
  if (s.length <= max) return s;
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${s.slice(0, cut)}…`;
}

function exampleOf(v: unknown, type: FieldType): unknown {
  if (type === 'string') return truncateExample(v as string);
  if (type === 'array' || type === 'object') {
    // Small containers are shown as they are; big ones as a cut JSON preview.
    const json = JSON.stringify(v);
    return json.length <= MAX_EXAMPLE_CHARS ? v : truncateExample(json);
  }
  return v;
}

/**
 * Every path in a sample request, depth first, in key order: leaves with their value type,
 * arrays as a field of their own plus the fields of their first element, empty objects as
 * `object`. Body first, then query, then (when asked) headers. At most `maxFields` fields and
 * 32 levels deep (a container at the limit is reported as a field, not entered).
 */
export function deriveFields(
  sample: { body?: unknown; query?: Record<string, unknown>; headers?: Record<string, unknown> },
  opts: { includeHeaders?: boolean; maxFields?: number } = {},
): Field[] {
  const max = opts.maxFields ?? DEFAULT_MAX_FIELDS;
  const out: Field[] = [];

  const walk = (source: FieldSource, value: unknown, segments: PathSegment[]): void => {
    if (out.length >= max) return;
    const type = valueType(value);
    if (type === undefined) return;
    const isRoot = segments.length === 0;
    const atLimit = segments.length >= MAX_FIELD_DEPTH;

    if (type === 'object') {
      const entries = Object.entries(value as object);
      if (entries.length === 0 || atLimit) {
        if (!isRoot) out.push({ source, path: formatPath(segments), type, example: exampleOf(value, type) });
        return;
      }
      for (const [k, v] of entries) {
        if (out.length >= max) return;
        walk(source, v, [...segments, k]);
      }
      return;
    }

    out.push({ source, path: formatPath(segments), type, example: exampleOf(value, type) });
    if (type === 'array' && !atLimit) {
      const arr = value as unknown[];
      if (arr.length > 0) walk(source, arr[0], [...segments, 0]);
    }
  };

  if (sample.body !== undefined && sample.body !== null) walk('body', sample.body, []);
  if (sample.query) {
    for (const [k, v] of Object.entries(sample.query)) walk('query', v, [k]);
  }
  if (opts.includeHeaders && sample.headers) {
    for (const [k, v] of Object.entries(sample.headers)) {
      const name = k.toLowerCase();
      if (SKIPPED_HEADERS.has(name)) continue;
      walk('headers', v, [name]);
    }
  }
  return out.slice(0, max);
}

// ---------------------------------------------------------------------------------------------
// Key/value pairs

/** `"12"` → 12, `"1.5"` → 1.5, `"true"`/`"false"` → boolean, anything else stays a string. */
export function coercePairValue(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^-?(0|[1-9]\d*)$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value; // keep big ids exact
  }
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  return value;
}

function define(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Sets `value` at `segments`, creating plain objects for names and arrays for indexes.
 * An index past the end of an array appends (no holes). Own data properties only, so
 * `__proto__` is an ordinary key.
 */
function assign(target: Record<string, unknown>, segments: readonly PathSegment[], value: unknown): void {
  let cur: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < segments.length; i++) {
    let seg = segments[i];
    if (Array.isArray(cur)) {
      if (typeof seg === 'number') seg = Math.min(seg, cur.length);
    } else if (typeof seg === 'number') {
      seg = String(seg);
    }
    const last = i === segments.length - 1;
    if (last) {
      define(cur, seg, value);
      return;
    }
    const next: unknown = Object.hasOwn(cur, seg)
      ? (cur as Record<string | number, unknown>)[seg]
      : undefined;
    if (next !== null && typeof next === 'object') {
      cur = next as Record<string, unknown> | unknown[];
    } else {
      const fresh: Record<string, unknown> | unknown[] = typeof segments[i + 1] === 'number' ? [] : {};
      define(cur, seg, fresh);
      cur = fresh;
    }
  }
}

/**
 * The nested object a list of pairs describes: `order.id=12` → `{order:{id:12}}`,
 * `items[0].sku=A` → `{items:[{sku:"A"}]}`, `['hub.challenge']=x` → `{"hub.challenge":"x"}`.
 * Values are coerced as by `coercePairValue`. A key that is not a valid path is used as one
 * literal key; blank keys are skipped; later pairs win.
 */
export function bodyFromPairs(pairs: { key: string; value: string }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of pairs) {
    if (typeof key !== 'string' || key.trim() === '') continue;
    const parsed = parsePath(key.trim());
    const segments: PathSegment[] =
      parsed.ok && parsed.segments.length > 0 && typeof parsed.segments[0] === 'string'
        ? parsed.segments
        : [key.trim()];
    assign(out, segments, coercePairValue(String(value ?? '')));
  }
  return out;
}

/** Fields (source `body`) of the object the pairs describe. */
export function fieldsFromPairs(pairs: { key: string; value: string }[]): Field[] {
  return deriveFields({ body: bodyFromPairs(pairs) });
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** `body.order.id`, `query.shop`, `query['hub.challenge']`, `headers.x-signature`, `body`. */
export function parameterLabel(p: { source: FieldSource; path: string }): string {
  const path = p.path.trim();
  if (path === '') return p.source;
  return path.startsWith('[') ? `${p.source}${path}` : `${p.source}.${path}`;
}

function lookupCaseInsensitive(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/**
 * The value a parameter names in a request, or undefined. The path is read with `paths.ts`;
 * when that finds nothing, the whole path is tried as one literal key (so `hub.challenge`
 * finds the query key `hub.challenge`). Header names match case-insensitively.
 */
export function readParameter(param: { source: FieldSource; path: string }, request: RequestParts): unknown {
  const path = param.path.trim();
  const root =
    param.source === 'body' ? request.body : param.source === 'query' ? request.query : request.headers;
  if (root === undefined || root === null) return undefined;
  const parsed = parsePath(path);

  if (param.source === 'headers') {
    if (typeof root !== 'object') return undefined;
    const headers = root as Record<string, unknown>;
    if (parsed.ok && parsed.segments.length > 0 && typeof parsed.segments[0] === 'string') {
      const [first, ...rest] = parsed.segments;
      const found = getPath(lookupCaseInsensitive(headers, first as string), rest);
      if (found !== undefined) return found;
    }
    return path === '' ? undefined : lookupCaseInsensitive(headers, path);
  }

  if (parsed.ok) {
    const found = getPath(root, parsed.segments);
    if (found !== undefined) return found;
  }
  if (path !== '' && typeof root === 'object' && Object.hasOwn(root as object, path)) {
    return (root as Record<string, unknown>)[path];
  }
  return undefined;
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/**
 * Labels (`body.order.id`, `query.shop`, …) of required parameters that are absent, null or
 * the empty string in the request, in parameter order, without duplicates.
 */
export function findMissingParameters(params: Parameter[], request: RequestParts): string[] {
  const missing: string[] = [];
  for (const p of params) {
    if (!p.required) continue;
    if (!isMissing(readParameter(p, request))) continue;
    const label = parameterLabel(p);
    if (!missing.includes(label)) missing.push(label);
  }
  return missing;
}

/** Whether a present value fits a declared type. Strings that read as the type also fit
 * (query, headers and forms only carry strings). Unknown type names always fit. */
export function valueFitsType(value: unknown, expected: string): boolean {
  const got = valueType(value);
  switch (expected) {
    case 'string':
      return got === 'string' || got === 'integer' || got === 'number' || got === 'boolean';
    case 'integer':
      if (got === 'integer') return true;
      return typeof value === 'string' && /^\s*-?\d+\s*$/.test(value);
    case 'number':
      if (got === 'integer' || got === 'number') return true;
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
    case 'boolean':
      return got === 'boolean' || value === 'true' || value === 'false';
    case 'object':
      return got === 'object';
    case 'array':
      return got === 'array';
    case 'null':
      return got === 'null';
    default:
      return true;
  }
}

/**
 * Parameters with a declared `type` whose value is present but does not fit it, e.g.
 * `{param: "body.qty", expected: "integer", got: "string"}` for `"abc"`. Absent values are
 * `findMissingParameters`' business and are not reported here.
 */
export function checkParameterTypes(params: Parameter[], request: RequestParts): TypeMismatch[] {
  const out: TypeMismatch[] = [];
  for (const p of params) {
    if (!p.type) continue;
    const value = readParameter(p, request);
    if (isMissing(value)) continue;
    if (valueFitsType(value, p.type)) continue;
    out.push({ param: parameterLabel(p), expected: p.type, got: valueType(value) ?? 'string' });
  }
  return out;
}
