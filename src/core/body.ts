/**
 * Parsing of a fully received raw request body by its content type (docs/api.md §3.5 "Body parsing").
 *
 * Pure apart from multipart, which streams the buffer through busboy (hence the Promise).
 * Every parsed value must be storable as PostgreSQL `jsonb`, so strings containing U+0000 or
 * unpaired surrogates are refused rather than failing later at insert time.
 *
 * Results are plain data: JSON keeps `__proto__`/`constructor` as own keys (JSON.parse does),
 * forms and multipart define every key with Object.defineProperty, so no input can reach
 * Object.prototype.
 */
import { Readable } from 'node:stream';
import busboy from 'busboy';

export type ParsedBody = {
  kind: 'json' | 'form' | 'multipart' | 'xml' | 'text' | 'base64' | 'empty';
  value: unknown;
};

/** `code` is stable snake_case; `msg` a human sentence. */
export type BodyError = { code: string; msg: string };

export type ParseBodyOptions = {
  /** Maximum JSON nesting of objects/arrays (default 64). */
  maxDepth?: number;
  /** Multipart files larger than this keep metadata only, `truncated: true` (default 1 MiB). */
  maxFileBytes?: number;
};

export type ParseBodyResult = { ok: true; body: ParsedBody } | { ok: false; error: BodyError };

/** A multipart file part as kept in the parsed body. */
export type MultipartFile = {
  filename: string | null;
  content_type: string;
  size: number;
  encoding: 'base64';
  data?: string;
  truncated?: true;
};

export const DEFAULT_MAX_JSON_DEPTH = 64;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** Content types (besides `text/*`, XML and JSON) whose bodies are text. */
const TEXTUAL_APPLICATION_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/yaml',
  'application/x-yaml',
  'application/javascript',
  'application/graphql',
  'application/csv',
]);

/** Lowercase `type/subtype` without parameters; `''` when absent or blank. */
export function contentTypeEssence(ct: string | undefined): string {
  if (!ct) return '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

/** Parameters of a content type, names lowercased, quoted values unquoted. */
export function contentTypeParams(ct: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!ct) return out;
  const semi = ct.indexOf(';');
  if (semi < 0) return out;
  const re = /;\s*([^\s;=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  const rest = ct.slice(semi);
  let m: RegExpExecArray | null = re.exec(rest);
  while (m !== null) {
    const name = m[1].toLowerCase();
    let value = m[2].trim();
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!(name in out)) out[name] = value;
    m = re.exec(rest);
  }
  return out;
}

export function isJsonType(essence: string): boolean {
  return essence === 'application/json' || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(essence);
}

export function isXmlType(essence: string): boolean {
  return (
    essence === 'application/xml' ||
    essence === 'text/xml' ||
    /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.+-]+\+xml$/.test(essence)
  );
}

function isTextType(essence: string): boolean {
  return essence.startsWith('text/') || TEXTUAL_APPLICATION_TYPES.has(essence);
}

const fail = (code: string, msg: string): ParseBodyResult => ({ ok: false, error: { code, msg } });

export async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
  opts: ParseBodyOptions = {},
): Promise<ParseBodyResult> {
  if (raw.length === 0) return { ok: true, body: { kind: 'empty', value: null } };

  const essence = contentTypeEssence(contentType);
  const params = contentTypeParams(contentType);

  if (essence === '') {
    // No content type: text when it is clean UTF-8, otherwise opaque bytes.
    const text = tryDecode(raw, 'utf-8');
    if (text === undefined || text.includes('\u0000') || hasLoneSurrogate(text)) {
      return { ok: true, body: { kind: 'base64', value: raw.toString('base64') } };
    }
    return { ok: true, body: { kind: 'text', value: text } };
  }

  if (essence === 'multipart/form-data') {
    return parseMultipart(raw, contentType as string, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  }

  const json = isJsonType(essence);
  const form = essence === 'application/x-www-form-urlencoded';
  const xml = isXmlType(essence);
  if (!json && !form && !xml && !isTextType(essence)) {
    return { ok: true, body: { kind: 'base64', value: raw.toString('base64') } };
  }

  const decoder = makeDecoder(params.charset);
  if (!decoder.ok) return fail('unsupported_charset', decoder.msg);

  if (form) return parseForm(raw, decoder.decoder, decoder.label);

  const text = decode(decoder.decoder, raw);
  if (text === undefined) return fail('invalid_utf8', invalidEncodingMsg(decoder.label));

  if (json) return parseJson(text, opts.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);

  const kind = xml ? 'xml' : 'text';
  const bad = unstorableText(text);
  if (bad) return fail('unsupported_text', `Body ${bad}, which cannot be stored.`);
  return { ok: true, body: { kind, value: text } };
}

// ---------------------------------------------------------------------------------------------
// Decoding

type Decoder = { ok: true; decoder: TextDecoder; label: string } | { ok: false; msg: string };

function makeDecoder(charset: string | undefined): Decoder {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  try {
    const decoder = new TextDecoder(label, { fatal: true });
    return { ok: true, decoder, label: decoder.encoding };
  } catch {
    return { ok: false, msg: `Charset "${charset}" is not supported; send the body as UTF-8.` };
  }
}

function decode(decoder: TextDecoder, bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function tryDecode(bytes: Uint8Array, label: string): string | undefined {
  return decode(new TextDecoder(label, { fatal: true }), bytes);
}

function invalidEncodingMsg(label: string): string {
  return label === 'utf-8' ? 'Body is not valid UTF-8.' : `Body is not valid ${label} text.`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** Why a string cannot go into jsonb, or undefined when it can. */
function unstorableText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (hasLoneSurrogate(s)) return 'contains an unpaired UTF-16 surrogate';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// JSON

function parseJson(text: string, maxDepth: number): ParseBodyResult {
  const depth = jsonDepthExceeds(text, maxDepth);
  if (depth) {
    return fail('body_too_deep', `JSON body is nested deeper than ${maxDepth} levels.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('invalid_json', `Body is not valid JSON: ${positionFree((err as Error).message)}`);
  }
  const bad = findUnstorable(value);
  if (bad) return fail('unsupported_json', bad);
  return { ok: true, body: { kind: 'json', value } };
}

/**
 * True when objects/arrays in `text` nest deeper than `max`. A linear scan that skips string
 * contents, so it never recurses and works on any input (even invalid JSON).
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

function positionFree(message: string): string {
  return message
    .replace(/\s*\(line \d+ column \d+\)/g, '')
    .replace(/\s+at position \d+/g, '')
    .trim();
}

/** Walks a parsed JSON value (iteratively) for strings jsonb refuses. */
function findUnstorable(root: unknown): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const bad = unstorableText(v);
      if (bad) return `JSON body has a string that ${bad}, which cannot be stored.`;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        const bad = unstorableText(k);
        if (bad) return `JSON body has a key that ${bad}, which cannot be stored.`;
        stack.push(item);
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Forms

/** Adds `value` under `key`; a repeated key turns into an array. Own data property only. */
export function appendField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (Object.hasOwn(target, key)) {
    const prev = target[key];
    if (Array.isArray(prev)) prev.push(value);
    else defineValue(target, key, [prev, value]);
  } else {
    defineValue(target, key, value);
  }
}

function defineValue(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * application/x-www-form-urlencoded per the WHATWG algorithm, but with strict decoding:
 * percent-decoded bytes that are not valid in the charset are an error, not U+FFFD.
 */
function parseForm(raw: Buffer, decoder: TextDecoder, label: string): ParseBodyResult {
  const out: Record<string, unknown> = {};
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(0x26 /* & */, start);
    if (end < 0) end = raw.length;
    if (end > start) {
      const seq = raw.subarray(start, end);
      const eq = seq.indexOf(0x3d /* = */);
      const nameBytes = eq < 0 ? seq : seq.subarray(0, eq);
      const valueBytes = eq < 0 ? seq.subarray(seq.length) : seq.subarray(eq + 1);
      const name = decode(decoder, percentDecode(nameBytes));
      const value = decode(decoder, percentDecode(valueBytes));
      if (name === undefined || value === undefined) {
        return fail(
          'invalid_utf8',
          label === 'utf-8' ? 'Form body is not valid UTF-8.' : `Form body is not valid ${label} text.`,
        );
      }
      const bad = unstorableText(name) ?? unstorableText(value);
      if (bad) return fail('unsupported_form', `Form body has a field that ${bad}, which cannot be stored.`);
      appendField(out, name, value);
    }
    start = end + 1;
  }
  return { ok: true, body: { kind: 'form', value: out } };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** `+` → space, `%XX` → byte; a `%` not followed by two hex digits stays literal. */
function percentDecode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x2b /* + */) {
      out[o++] = 0x20;
    } else if (b === 0x25 /* % */ && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = hi * 16 + lo;
        i += 2;
      } else {
        out[o++] = b;
      }
    } else {
      out[o++] = b;
    }
  }
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// Multipart

function parseMultipart(raw: Buffer, contentType: string, maxFileBytes: number): Promise<ParseBodyResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ParseBodyResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const malformed = (detail: string) =>
      done(fail('invalid_multipart', `Body is not valid multipart/form-data: ${detail}.`));

    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        limits: {
          fieldSize: raw.length + 1,
          fieldNameSize: raw.length + 1,
          headerPairs: 2000,
        },
      });
    } catch (err) {
      const m = (err as Error).message;
      malformed(/boundary/i.test(m) ? 'the content type has no boundary' : m);
      return;
    }

    const out: Record<string, unknown> = {};
    const pending: Promise<void>[] = [];
    let problem: string | undefined;

    const check = (s: string | undefined, what: string) => {
      if (problem || s === undefined) return;
      const bad = unstorableText(s);
      if (bad) problem = `Multipart body has a ${what} that ${bad}, which cannot be stored.`;
    };

    bb.on('field', (name, value) => {
      check(name, 'field name');
      check(value, 'field value');
      appendField(out, name, value);
    });

    bb.on('file', (name, stream, info) => {
      check(name, 'field name');
      check(info.filename, 'file name');
      const chunks: Buffer[] = [];
      let size = 0;
      let kept = 0;
      const file: MultipartFile = {
        filename: info.filename ?? null,
        content_type: info.mimeType || 'application/octet-stream',
        size: 0,
        encoding: 'base64',
      };
      appendField(out, name, file);
      pending.push(
        new Promise<void>((res, rej) => {
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= maxFileBytes) {
              chunks.push(chunk);
              kept += chunk.length;
            } else if (chunks.length > 0) {
              chunks.length = 0;
              kept = 0;
            }
          });
          stream.on('end', () => {
            file.size = size;
            if (size <= maxFileBytes) file.data = Buffer.concat(chunks, kept).toString('base64');
            else file.truncated = true;
            res();
          });
          stream.on('error', rej);
        }),
      );
    });

    bb.on('error', (err: Error) => malformed(err.message.replace(/\.$/, '')));
    bb.on('close', () => {
      Promise.all(pending).then(
        () => {
          if (problem) done(fail('unsupported_form', problem));
          else done({ ok: true, body: { kind: 'multipart', value: out } });
        },
        (err: Error) => malformed(err.message.replace(/\.$/, '')),
      );
    });

    Readable.from([raw]).pipe(bb);
  });
}
