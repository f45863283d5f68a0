/**
 * Dotted paths into parsed request data: `order.items[0].id`, `['hub.challenge']`.
 *
 * One module for every place that walks into user data by path (templates, required
 * parameters, sample fields), so they all agree on the syntax. Only own properties are
 * read: `__proto__`, `constructor` and friends are ordinary keys here, never the prototype.
 */

export type PathSegment = string | number;

export type ParsedPath = { ok: true; segments: PathSegment[] } | { ok: false; error: string };

/**
 * Parses `a.b[0].c`, `a['x.y']`, `a["x"]`, `['hub.challenge']`. Empty path → zero segments.
 */
export function parsePath(path: string): ParsedPath {
  const segments: PathSegment[] = [];
  let i = 0;
  const n = path.length;
  let expectSegment = true;
  while (i < n) {
    const ch = path[i];
    if (ch === '.') {
      if (expectSegment) return { ok: false, error: `empty segment at position ${i} in "${path}"` };
      expectSegment = true;
      i++;
      continue;
    }
    if (ch === '[') {
      const close = readBracket(path, i);
      if (!close.ok) return close;
      segments.push(close.segment);
      i = close.end;
      expectSegment = false;
      continue;
    }
    if (!expectSegment) return { ok: false, error: `unexpected "${ch}" at position ${i} in "${path}"` };
    let j = i;
    while (j < n && path[j] !== '.' && path[j] !== '[') j++;
    segments.push(path.slice(i, j).trim());
    i = j;
    expectSegment = false;
  }
  if (expectSegment && segments.length > 0) return { ok: false, error: `path "${path}" ends with "."` };
  return { ok: true, segments };
}

function readBracket(
  path: string,
  start: number,
): { ok: true; segment: PathSegment; end: number } | { ok: false; error: string } {
  const quote = path[start + 1];
  if (quote === "'" || quote === '"') {
    const endQuote = path.indexOf(quote, start + 2);
    if (endQuote < 0 || path[endQuote + 1] !== ']')
      return { ok: false, error: `unterminated [${quote}…${quote}] in "${path}"` };
    return { ok: true, segment: path.slice(start + 2, endQuote), end: endQuote + 2 };
  }
  const close = path.indexOf(']', start);
  if (close < 0) return { ok: false, error: `unterminated [ in "${path}"` };
  const inner = path.slice(start + 1, close).trim();
  if (!/^\d+$/.test(inner))
    return { ok: false, error: `index "[${inner}]" must be a number or a quoted key` };
  return { ok: true, segment: Number(inner), end: close + 1 };
}

/** Reads a value by segments; own properties only; `undefined` when anything is missing. */
export function getPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = value;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = typeof seg === 'number' && !Array.isArray(cur) ? String(seg) : seg;
    if (!Object.hasOwn(cur as object, key)) return undefined;
    cur = (cur as Record<string | number, unknown>)[key as string];
  }
  return cur;
}

/** Convenience: parse then read; an unparsable path reads as `undefined`. */
export function getByPath(value: unknown, path: string): unknown {
  const parsed = parsePath(path);
  return parsed.ok ? getPath(value, parsed.segments) : undefined;
}

/** Writes a plain path into a nested object, creating objects on the way (own properties only). */
export function setPath(
  target: Record<string, unknown>,
  segments: readonly PathSegment[],
  value: unknown,
): void {
  let cur: Record<string | number, unknown> = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i];
    const next = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    if (next === null || typeof next !== 'object') {
      const fresh: Record<string, unknown> = Object.create(null);
      Object.defineProperty(cur, seg, { value: fresh, enumerable: true, writable: true, configurable: true });
      cur = fresh;
    } else {
      cur = next as Record<string, unknown>;
    }
  }
  const last = segments[segments.length - 1];
  Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
}

/** Formats segments back into the canonical path text (`a.b[0]['x.y']`). */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += seg.includes("'") ? `["${seg}"]` : `['${seg}']`;
  }
  return out;
}
