// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} is the template syntax this module implements, not a mistaken JS template literal
/**
 * `${...}` templates inside string config (docs/api.md §3.8 "Templates and expressions").
 *
 *   `${Webhook::Body.order.id}`, `${Webhook::Headers.Authorization}`, `${Webhook::Query['hub.challenge']}`,
 *   `${Webhook::Method}`, `${Webhook::Path}`, `${flow.key.name}`, `${flow.id}`, `${vars.name}`,
 *   `${steps.http_1.body.id}`, `${run.id}`, `${tenant.id}`   — plain paths (module `paths.ts`)
 *   `${= $sum(Webhook::Body.items.price)}`                   — a JSONata expression
 *   `\${`                                                    — a literal `${`
 *
 * A template that is exactly one `${...}` keeps the value's type; inside a longer string values
 * are stringified. Pure: no I/O. JSONata runs with a time limit and a depth limit; the only custom
 * functions are the pure crypto helpers `$hmac` and `$hash` (module `templateCrypto.ts`), so an
 * expression can reach nothing but the context it is given.
 */

import jsonata from 'jsonata';
import { formatPath, getPath, type PathSegment, parsePath } from './paths.ts';
import { registerCryptoFunctions } from './templateCrypto.ts';

// ───────────────────────────── types ─────────────────────────────

export type TemplateContext = {
  Webhook?: {
    Body?: unknown;
    Headers?: Record<string, string | string[] | undefined>;
    Query?: Record<string, unknown>;
    Method?: string;
    Path?: string;
  };
  flow?: { id?: string; key?: Record<string, unknown> };
  vars?: Record<string, unknown>;
  steps?: Record<string, unknown>;
  run?: { id?: string };
  tenant?: { id?: string };
  /** The event being delivered (endpoint body templates): event_type, event_time, current_context, data. */
  event?: Record<string, unknown>;
  /** Inside a loop's body: the item, its index, and the enclosing loop's (nested loops). */
  loop?: { item?: unknown; index?: number; parent?: TemplateContext['loop'] };
  /** The resume URL of each wait node of the run, by node id. */
  resume?: Record<string, string>;
  /** On an error branch (`on_error: "branch"`): the error handled, `{message, node_id}`. */
  error?: { message: string; node_id: string };
  /** A run a schedule trigger started (docs/api.md §4.8): the tick's ISO time, its cron and time zone. */
  Schedule?: { time: string; cron: string; timezone: string };
};

export type RenderOptions = {
  /** Wall-clock limit per JSONata expression, in ms (default 1000). */
  timeoutMs?: number;
  /** Maximum JSONata evaluation depth (nested AST evaluations, default 1000). */
  maxDepth?: number;
};

export class TemplateError extends Error {
  /** The offending `${...}` exactly as written in the template. */
  readonly expression: string;
  constructor(message: string, expression: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
    this.expression = expression;
  }
}

type WebhookRoot = 'Body' | 'Headers' | 'Query' | 'Method' | 'Path';

type PathPart = {
  kind: 'path';
  /** `${...}` as written. */
  source: string;
  /** A `Webhook::X` root, or `ctx` when the segments start at the context (flow, vars, …). */
  root: WebhookRoot | 'ctx';
  segments: PathSegment[];
};

type JsonataPart = {
  kind: 'jsonata';
  source: string;
  /** The expression with `Webhook::X` rewritten to `Webhook .X` (same length, positions kept). */
  expression: string;
  /** Compiled expressions by `timeoutMs:maxDepth` (guardrails are fixed at jsonata compile time). */
  compiled: Map<string, jsonata.Expression>;
};

type Part = string | PathPart | JsonataPart;

export interface CompiledTemplate {
  /** The template text as given. */
  readonly source: string;
  /** True when there is no `${...}` to evaluate (`literal` is the result, escapes resolved). */
  readonly isStatic: boolean;
  /** The rendered text of a static template. */
  readonly literal: string;
  /** True when the template contains a `${= ...}` JSONata expression (needs `renderTemplate`). */
  readonly hasJsonata: boolean;
  /** @internal */
  readonly parts: readonly Part[];
  /** @internal exactly one `${...}` and nothing else: the value keeps its type */
  readonly single: boolean;
}

export type CompileResult = { ok: true; template: CompiledTemplate } | { ok: false; error: string };

// ───────────────────────────── constants ─────────────────────────────

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_MAX_DEPTH = 1000;
/** Longest sequence a JSONata expression may build (bounds memory as the timeout bounds time). */
const MAX_SEQUENCE = 1_000_000;
const WEBHOOK_ROOTS: readonly WebhookRoot[] = ['Body', 'Headers', 'Query', 'Method', 'Path'];
const CONTEXT_ROOTS = new Set([
  'flow',
  'vars',
  'steps',
  'run',
  'tenant',
  'event',
  'error',
  'loop',
  'resume',
  'Schedule',
]);
const ROOTS_TEXT =
  'Webhook::Body, Webhook::Headers, Webhook::Query, Webhook::Method, Webhook::Path, Schedule, flow, vars, steps, run, tenant, event, error, loop, resume';
/** Characters that never belong in an unquoted path: their presence means an expression was meant. */
const NOT_A_PATH = /[\s()+*/<>=!&|,;{}$?:~^%`]/;
const MAX_WALK_DEPTH = 200;

// ───────────────────────────── compile ─────────────────────────────

const CACHE_MAX_ENTRIES = 2000;
const CACHE_MAX_TEXT = 8192;
const cache = new Map<string, CompileResult>();

/**
 * Parses and validates a template once. Results are cached by text (bounded), and a compiled
 * template is immutable, so the same object may be rendered any number of times, concurrently.
 */
export function compileTemplate(text: string): CompileResult {
  const hit = cache.get(text);
  if (hit) return hit;
  const result = compileUncached(text);
  if (text.length <= CACHE_MAX_TEXT) {
    if (cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(text, result);
  }
  return result;
}

function staticTemplate(text: string, literal: string): CompiledTemplate {
  return {
    source: text,
    isStatic: true,
    literal,
    hasJsonata: false,
    parts: literal ? [literal] : [],
    single: false,
  };
}

function compileUncached(text: string): CompileResult {
  if (!text.includes('${')) return { ok: true, template: staticTemplate(text, text) };
  const parts: Part[] = [];
  let literal = '';
  let hasJsonata = false;
  let i = 0;
  for (;;) {
    const k = text.indexOf('${', i);
    if (k < 0) {
      literal += text.slice(i);
      break;
    }
    if (k > 0 && text.charCodeAt(k - 1) === 92 /* \ */) {
      literal += text.slice(i, k - 1) + '${';
      i = k + 2;
      continue;
    }
    literal += text.slice(i, k);
    const end = findClosingBrace(text, k + 2);
    if (end < 0) {
      return {
        ok: false,
        error: `Unterminated template expression at position ${k}: "${truncate(text.slice(k))}" has no closing "}".`,
      };
    }
    const source = text.slice(k, end + 1);
    const part = compileExpression(text.slice(k + 2, end), source, k);
    if (typeof part === 'string') return { ok: false, error: part };
    if (literal) parts.push(literal);
    literal = '';
    parts.push(part);
    if (part.kind === 'jsonata') hasJsonata = true;
    i = end + 1;
  }
  if (parts.length === 0) return { ok: true, template: staticTemplate(text, literal) };
  if (literal) parts.push(literal);
  return {
    ok: true,
    template: {
      source: text,
      isStatic: false,
      literal: '',
      hasJsonata,
      parts,
      single: parts.length === 1,
    },
  };
}

/**
 * Index of the `}` closing an expression that starts at `from`, or -1. Balances `{}` and skips
 * quoted strings ('…', "…" with backslash escapes, `…` names) and JSONata comments.
 */
function findClosingBrace(text: string, from: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = from; i < n; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipQuoted(text, i);
      if (i < 0) return -1;
    } else if (ch === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return -1;
      i = close + 1;
    } else if (ch === '{') {
      depth++;
    } else if (ch === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** Index of the quote closing the one at `start`, or -1. */
function skipQuoted(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && quote !== '`') i++;
    else if (ch === quote) return i;
  }
  return -1;
}

/** Compiles the inside of one `${...}`; returns an error sentence on failure. */
function compileExpression(inner: string, source: string, position: number): PathPart | JsonataPart | string {
  const body = inner.trim();
  if (!body) return `Empty template expression "${source}" at position ${position}.`;
  if (body[0] === '=') return compileJsonata(body.slice(1).trim(), source, position);
  return compilePathExpression(body, source);
}

function compilePathExpression(body: string, source: string): PathPart | string {
  if (body.startsWith('Webhook::')) {
    const name = /^[A-Za-z_]\w*/.exec(body.slice(9))?.[0] ?? '';
    const root = WEBHOOK_ROOTS.find((r) => r === name);
    if (!root) return unknownRoot(`Webhook::${name}`, source);
    const rest = body.slice(9 + name.length);
    let segments: PathSegment[] = [];
    if (rest) {
      if (rest[0] !== '.' && rest[0] !== '[') return unknownRoot(`Webhook::${name}${rest}`, source);
      const sub = rest[0] === '.' ? rest.slice(1) : rest;
      if (!sub) return `Invalid path in template expression "${source}": it ends with ".".`;
      const parsed = parseTemplatePath(sub, source);
      if (typeof parsed === 'string') return parsed;
      segments = parsed;
    }
    return { kind: 'path', source, root, segments };
  }
  const parsed = parseTemplatePath(body, source);
  if (typeof parsed === 'string') return parsed;
  const first = parsed[0];
  if (typeof first !== 'string' || !CONTEXT_ROOTS.has(first)) {
    const hint = /^Webhook\.(Body|Headers|Query|Method|Path)\b/.exec(body);
    return unknownRoot(String(first ?? body), source, hint ? `Webhook::${hint[1]}` : undefined);
  }
  return { kind: 'path', source, root: 'ctx', segments: parsed };
}

function parseTemplatePath(path: string, source: string): PathSegment[] | string {
  if (NOT_A_PATH.test(stripQuoted(path))) {
    return (
      `Template expression "${source}" is not a plain path; ` +
      `write "\${= ${source.slice(2, -1).trim()}}" for a JSONata expression.`
    );
  }
  const parsed = parsePath(path);
  if (!parsed.ok) return `Invalid path in template expression "${source}": ${parsed.error}.`;
  return parsed.segments;
}

/** The text with quoted parts ('…', "…") removed, so only the unquoted syntax is checked. */
function stripQuoted(text: string): string {
  if (!text.includes("'") && !text.includes('"')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return out + text.slice(i); // unterminated: parsePath reports it
      out += ch + ch;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

function unknownRoot(root: string, source: string, suggestion?: string): string {
  return (
    `Unknown root "${root}" in template expression "${source}"` +
    (suggestion ? `; did you mean "${suggestion}"?` : '.') +
    ` Expected one of ${ROOTS_TEXT}.`
  );
}

function compileJsonata(expr: string, source: string, position: number): JsonataPart | string {
  if (!expr) return `Empty JSONata expression "${source}" at position ${position}.`;
  const rewritten = rewriteWebhookRoots(expr, source);
  if (rewritten.error) return rewritten.error;
  const part: JsonataPart = { kind: 'jsonata', source, expression: rewritten.text, compiled: new Map() };
  try {
    part.compiled.set(
      optionsKey(DEFAULT_TIMEOUT_MS, DEFAULT_MAX_DEPTH),
      compileJsonataExpression(part, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_DEPTH),
    );
  } catch (err) {
    const e = err as { message?: string; position?: number };
    const at = typeof e.position === 'number' ? ` (at character ${e.position} of the expression)` : '';
    return `Invalid JSONata in template expression "${truncate(source)}": ${e.message ?? String(err)}${at}.`;
  }
  return part;
}

/**
 * `Webhook::Body` is not JSONata syntax: outside string literals, names and comments, rewrite
 * `Webhook::X` to `Webhook .X` (same length, so error positions still point into the original).
 */
function rewriteWebhookRoots(expr: string, source: string): { text: string; error?: string } {
  if (!expr.includes('::')) return { text: expr };
  let out = '';
  let last = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = skipQuoted(expr, i);
      if (end < 0) break; // jsonata reports the unterminated string
      i = end;
    } else if (ch === '/' && expr[i + 1] === '*') {
      const end = expr.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 1;
    } else if (ch === 'W' && expr.startsWith('Webhook::', i) && !/[\w$]/.test(expr[i - 1] ?? '')) {
      const name = /^[A-Za-z_]\w*/.exec(expr.slice(i + 9))?.[0] ?? '';
      if (!WEBHOOK_ROOTS.some((r) => r === name))
        return { text: expr, error: unknownRoot(`Webhook::${name}`, source) };
      out += expr.slice(last, i) + 'Webhook .';
      last = i + 9;
      i += 8;
    }
  }
  return { text: out + expr.slice(last) };
}

function optionsKey(timeoutMs: number, maxDepth: number): string {
  return `${timeoutMs}:${maxDepth}`;
}

function compileJsonataExpression(
  part: JsonataPart,
  timeoutMs: number,
  maxDepth: number,
): jsonata.Expression {
  // jsonata 2.2's own guardrails: checked on every node evaluation, per evaluate() call (so safe
  // when one compiled expression is evaluated concurrently). Without a depth limit a non-tail
  // recursion grows the heap until the process dies.
  const expr = jsonata(part.expression, { timeout: timeoutMs, stack: maxDepth, sequence: MAX_SEQUENCE });
  // `$hmac` / `$hash`: bound once into this compiled expression's own environment (two cheap
  // binds per compile, nothing per evaluation; also visible to functions defined in the expression).
  registerCryptoFunctions(expr);
  return expr;
}

function expressionFor(part: JsonataPart, timeoutMs: number, maxDepth: number): jsonata.Expression {
  const key = optionsKey(timeoutMs, maxDepth);
  let expr = part.compiled.get(key);
  if (!expr) {
    expr = compileJsonataExpression(part, timeoutMs, maxDepth);
    if (part.compiled.size >= 8) part.compiled.clear();
    part.compiled.set(key, expr);
  }
  return expr;
}

// ───────────────────────────── render ─────────────────────────────

/** Renders a template that has no JSONata; throws `TemplateError` if it has. */
export function renderTemplateSync(t: CompiledTemplate, ctx: TemplateContext): unknown {
  if (t.isStatic) return t.literal;
  if (t.single) return evalSync(t.parts[0] as PathPart | JsonataPart, ctx);
  let out = '';
  for (const part of t.parts) {
    out += typeof part === 'string' ? part : stringify(evalSync(part, ctx), part.source);
  }
  return out;
}

function evalSync(part: PathPart | JsonataPart, ctx: TemplateContext): unknown {
  if (part.kind === 'path') return evalPath(part, ctx);
  throw new TemplateError(
    `Template expression "${truncate(part.source)}" is a JSONata expression and cannot be rendered synchronously.`,
    part.source,
  );
}

/** Renders a template, evaluating `${= ...}` JSONata expressions within time and depth limits. */
export async function renderTemplate(
  t: CompiledTemplate,
  ctx: TemplateContext,
  opts?: RenderOptions,
): Promise<unknown> {
  if (!t.hasJsonata) return renderTemplateSync(t, ctx);
  let input: unknown;
  const inputFor = () => (input ??= jsonataInput(ctx));
  if (t.single) return evalJsonata(t.parts[0] as JsonataPart, inputFor(), opts);
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') out += part;
    else if (part.kind === 'path') out += stringify(evalPath(part, ctx), part.source);
    else out += stringify(await evalJsonata(part, inputFor(), opts), part.source);
  }
  return out;
}

function evalPath(part: PathPart, ctx: TemplateContext): unknown {
  switch (part.root) {
    case 'ctx':
      return getPath(ctx, part.segments);
    case 'Headers': {
      const headers = ctx.Webhook?.Headers;
      if (part.segments.length === 0) return headers;
      const value = lookupHeader(headers, String(part.segments[0]));
      return part.segments.length === 1 ? value : getPath(value, part.segments.slice(1));
    }
    default:
      return getPath(ctx.Webhook?.[part.root], part.segments);
  }
}

async function evalJsonata(part: JsonataPart, input: unknown, opts?: RenderOptions): Promise<unknown> {
  const timeoutMs = positiveInt(opts?.timeoutMs, DEFAULT_TIMEOUT_MS);
  const maxDepth = positiveInt(opts?.maxDepth, DEFAULT_MAX_DEPTH);
  let result: unknown;
  try {
    result = await expressionFor(part, timeoutMs, maxDepth).evaluate(input);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const code = typeof e?.code === 'string' ? ` [${e.code}]` : '';
    throw new TemplateError(
      `Template expression "${truncate(part.source)}" failed: ${message}${code}`,
      part.source,
      { cause: err },
    );
  }
  return toPlain(result, part.source);
}

function positiveInt(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

/** The JSONata input: the context, with `Webhook.Headers` answering to any letter case. */
function jsonataInput(ctx: TemplateContext): Record<string, unknown> {
  const wh = ctx.Webhook;
  return {
    Webhook: wh
      ? {
          Body: wh.Body,
          Headers: wh.Headers ? caseInsensitiveHeaders(wh.Headers) : undefined,
          Query: wh.Query,
          Method: wh.Method,
          Path: wh.Path,
        }
      : undefined,
    flow: ctx.flow,
    vars: ctx.vars,
    steps: ctx.steps,
    run: ctx.run,
    tenant: ctx.tenant,
    event: ctx.event,
    error: ctx.error,
    loop: ctx.loop,
    resume: ctx.resume,
    Schedule: ctx.Schedule,
  };
}

/**
 * A read-only view of the headers where any spelling of a name finds it (jsonata reads fields with
 * `hasOwnProperty` then `[key]`, both answered here); listing keys shows the names as received.
 */
function caseInsensitiveHeaders(headers: Record<string, string | string[] | undefined>): object {
  const target: Record<string, string> = Object.create(null);
  for (const key of Object.keys(headers)) {
    const value = lookupHeader(headers, key);
    if (value !== undefined) target[key] = value;
  }
  const find = (key: string | symbol) => (typeof key === 'string' ? lookupHeader(target, key) : undefined);
  return new Proxy(target, {
    get: (t, key) => (typeof key === 'string' ? find(key) : Reflect.get(t, key)),
    has: (t, key) => find(key) !== undefined || Reflect.has(t, key),
    getOwnPropertyDescriptor: (t, key) => {
      const own = Reflect.getOwnPropertyDescriptor(t, key);
      if (own) return own;
      const value = find(key);
      return value === undefined
        ? undefined
        : { value, writable: false, enumerable: false, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
  });
}

/** How deep a JSONata result may be nested (JSON data from a parsed body is far shallower). */
const MAX_RESULT_DEPTH = 1000;

/**
 * JSONata results as plain JSON-like data: no sequence flags, functions (JSONata lambdas are
 * objects that hold their environment), proxies, cycles or inherited keys.
 */
function toPlain(value: unknown, source: string, ancestors: Set<object> = new Set()): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  const marked = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  if (marked._jsonata_lambda === true || marked._jsonata_function === true) return undefined;
  if (ancestors.has(value)) return undefined;
  if (ancestors.size >= MAX_RESULT_DEPTH) {
    throw new TemplateError(
      `Template expression "${truncate(source)}" produced a value nested deeper than ${MAX_RESULT_DEPTH} levels.`,
      source,
    );
  }
  ancestors.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    const arr: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) arr[i] = toPlain(value[i], source, ancestors);
    out = arr;
  } else {
    const obj: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const v = toPlain((value as Record<string, unknown>)[key], source, ancestors);
      if (v !== undefined) setOwn(obj, key, v);
    }
    out = obj;
  }
  ancestors.delete(value);
  return out;
}

/** How a value reads inside a longer string. */
function stringify(value: unknown, source: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return '';
    default:
      if (value === null) return '';
      try {
        return JSON.stringify(value) ?? '';
      } catch (err) {
        throw new TemplateError(
          `Template expression "${truncate(source)}" produced a value that cannot be written as text.`,
          source,
          { cause: err },
        );
      }
  }
}

// ───────────────────────────── headers ─────────────────────────────

/** A header by name, any letter case; repeated headers joined with ", ". */
export function lookupHeader(
  headers: Record<string, string | string[] | undefined> | undefined | null,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  let value: string | string[] | undefined;
  if (Object.hasOwn(headers, name)) value = headers[name];
  else {
    const lower = name.toLowerCase();
    if (Object.hasOwn(headers, lower)) value = headers[lower];
    else {
      for (const key of Object.keys(headers)) {
        if (key.toLowerCase() === lower) {
          value = headers[key];
          break;
        }
      }
    }
  }
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' ? value : undefined;
}

// ───────────────────────────── deep ─────────────────────────────

function compiledOrThrow(text: string): CompiledTemplate {
  const result = compileTemplate(text);
  if (!result.ok) throw new TemplateError(result.error, text);
  return result.template;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function tooDeep(): TemplateError {
  return new TemplateError(`Config value is nested deeper than ${MAX_WALK_DEPTH} levels.`, '');
}

/**
 * Renders every string leaf of a JSON config value (keys are not rendered). Returns new
 * arrays/objects; `__proto__` keys stay ordinary own keys. A template that fails to compile
 * throws `TemplateError` (flows are validated on save with `validateTemplatesDeep`).
 */
export async function renderDeep(
  value: unknown,
  ctx: TemplateContext,
  opts?: RenderOptions,
): Promise<unknown> {
  return walkAsync(value, ctx, opts, 0);
}

async function walkAsync(
  value: unknown,
  ctx: TemplateContext,
  opts: RenderOptions | undefined,
  depth: number,
): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const t = compiledOrThrow(value);
    return t.hasJsonata ? renderTemplate(t, ctx, opts) : renderTemplateSync(t, ctx);
  }
  if (depth > MAX_WALK_DEPTH) throw tooDeep();
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = await walkAsync(value[i], ctx, opts, depth + 1);
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, await walkAsync(value[key], ctx, opts, depth + 1));
    return out;
  }
  return value;
}

/** `renderDeep` for configs without JSONata; throws `TemplateError` on a `${= ...}`. */
export function renderDeepSync(value: unknown, ctx: TemplateContext): unknown {
  return walkSync(value, ctx, 0);
}

function walkSync(value: unknown, ctx: TemplateContext, depth: number): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return renderTemplateSync(compiledOrThrow(value), ctx);
  }
  if (depth > MAX_WALK_DEPTH) throw tooDeep();
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = walkSync(value[i], ctx, depth + 1);
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, walkSync(value[key], ctx, depth + 1));
    return out;
  }
  return value;
}

/**
 * Every template syntax error in a config value, with the JSON path of its string leaf
 * (`values['flow.key.order']`, `body`, `headers[0]`; the empty string for a top-level string).
 */
export function validateTemplatesDeep(value: unknown): { path: string; error: string }[] {
  const errors: { path: string; error: string }[] = [];
  const segments: PathSegment[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return;
      const result = compileTemplate(v);
      if (!result.ok) errors.push({ path: formatPath(segments), error: result.error });
      return;
    }
    if (segments.length > MAX_WALK_DEPTH) {
      errors.push({
        path: formatPath(segments),
        error: `Config value is nested deeper than ${MAX_WALK_DEPTH} levels.`,
      });
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        segments.push(i);
        walk(v[i]);
        segments.pop();
      }
    } else if (isPlainObject(v)) {
      for (const key of Object.keys(v)) {
        segments.push(key);
        walk(v[key]);
        segments.pop();
      }
    }
  };
  walk(value);
  return errors;
}

function truncate(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
