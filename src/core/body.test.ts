import { describe, expect, it } from 'vitest';
import { contentTypeEssence, contentTypeParams, jsonDepthExceeds, parseBody } from './body.ts';

const buf = (s: string) => Buffer.from(s, 'utf8');

async function ok(raw: Buffer | string, ct: string | undefined, opts?: Parameters<typeof parseBody>[2]) {
  const r = await parseBody(typeof raw === 'string' ? buf(raw) : raw, ct, opts);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.msg}`);
  return r.body;
}

async function err(raw: Buffer | string, ct: string | undefined, opts?: Parameters<typeof parseBody>[2]) {
  const r = await parseBody(typeof raw === 'string' ? buf(raw) : raw, ct, opts);
  if (r.ok) throw new Error(`expected error, got ${r.body.kind}`);
  expect(r.error.code).toMatch(/^[a-z]+(_[a-z0-9]+)*$/);
  expect(r.error.msg.length).toBeGreaterThan(5);
  return r.error;
}

function multipart(boundary: string, parts: { headers: string[]; body: string | Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(buf(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`));
    chunks.push(typeof p.body === 'string' ? buf(p.body) : p.body);
    chunks.push(buf('\r\n'));
  }
  chunks.push(buf(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

describe('contentTypeEssence', () => {
  it('lowercases type/subtype and drops parameters', () => {
    expect(contentTypeEssence('Application/JSON; charset=UTF-8')).toBe('application/json');
    expect(contentTypeEssence('  text/plain  ')).toBe('text/plain');
    expect(contentTypeEssence('multipart/form-data; boundary=x')).toBe('multipart/form-data');
  });

  it('returns an empty string when the content type is absent', () => {
    expect(contentTypeEssence(undefined)).toBe('');
    expect(contentTypeEssence('')).toBe('');
  });

  it('reads quoted and unquoted parameters', () => {
    expect(contentTypeParams('text/plain; Charset="ISO-8859-1"; x=1')).toMatchObject({
      charset: 'ISO-8859-1',
      x: '1',
    });
  });
});

describe('parseBody: empty', () => {
  it('returns kind empty with null for an empty body under any content type', async () => {
    for (const ct of [undefined, 'application/json', 'multipart/form-data', 'image/png', 'text/plain']) {
      expect(await ok(Buffer.alloc(0), ct)).toEqual({ kind: 'empty', value: null });
    }
  });
});

describe('parseBody: JSON', () => {
  it('parses application/json', async () => {
    expect(await ok('{"order":{"id":"A1","items":[{"price":2.5}]}}', 'application/json')).toEqual({
      kind: 'json',
      value: { order: { id: 'A1', items: [{ price: 2.5 }] } },
    });
  });

  it('parses +json types and charset=utf-8 parameters', async () => {
    expect(await ok('{"a":1}', 'application/vnd.api+json')).toEqual({ kind: 'json', value: { a: 1 } });
    expect(await ok('[1]', 'application/cloudevents+json; charset=UTF-8')).toEqual({
      kind: 'json',
      value: [1],
    });
  });

  it('parses top-level scalars', async () => {
    expect(await ok('"hi"', 'application/json')).toEqual({ kind: 'json', value: 'hi' });
    expect(await ok('null', 'application/json')).toEqual({ kind: 'json', value: null });
  });

  it('skips a UTF-8 byte order mark', async () => {
    expect(
      await ok(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf('{"a":1}')]), 'application/json'),
    ).toEqual({
      kind: 'json',
      value: { a: 1 },
    });
  });

  it('rejects invalid JSON with invalid_json and a position-free parser message', async () => {
    const e = await err('{"a":1', 'application/json');
    expect(e.code).toBe('invalid_json');
    expect(e.msg).toMatch(/^Body is not valid JSON: /);
    expect(e.msg).not.toMatch(/position \d+|line \d+ column/);
  });

  it('rejects trailing garbage after JSON', async () => {
    expect((await err('{"a":1} x', 'application/json')).code).toBe('invalid_json');
  });

  it('rejects invalid UTF-8 in JSON with invalid_utf8', async () => {
    const raw = Buffer.concat([buf('{"a":"'), Buffer.from([0xc3, 0x28]), buf('"}')]);
    expect((await err(raw, 'application/json')).code).toBe('invalid_utf8');
  });

  it('rejects 10k-deep JSON nesting with body_too_deep', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const e = await err(deep, 'application/json');
    expect(e.code).toBe('body_too_deep');
    const deepObj = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    expect((await err(deepObj, 'application/json')).code).toBe('body_too_deep');
  });

  it('rejects 10k-deep nesting even when the JSON is also unterminated', async () => {
    expect((await err('['.repeat(10_000), 'application/json')).code).toBe('body_too_deep');
  });

  it('allows exactly 64 levels by default and honours maxDepth', async () => {
    const at = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect((await ok(at(64), 'application/json')).kind).toBe('json');
    expect((await err(at(65), 'application/json')).code).toBe('body_too_deep');
    expect((await err(at(3), 'application/json', { maxDepth: 2 })).code).toBe('body_too_deep');
  });

  it('does not count brackets inside strings (including escaped quotes) towards depth', async () => {
    const s = JSON.stringify({ s: `\\"${'['.repeat(500)}{{{` });
    expect(await ok(s, 'application/json', { maxDepth: 1 })).toEqual({ kind: 'json', value: JSON.parse(s) });
  });

  it('rejects strings and keys containing U+0000 with unsupported_json', async () => {
    const e = await err('{"a":"x\\u0000y"}', 'application/json');
    expect(e.code).toBe('unsupported_json');
    expect(e.msg).toMatch(/U\+0000/);
    expect((await err('{"k\\u0000":1}', 'application/json')).code).toBe('unsupported_json');
    expect((await err('[[{"deep":["\\u0000"]}]]', 'application/json')).code).toBe('unsupported_json');
  });

  it('rejects unpaired surrogate escapes with unsupported_json (jsonb cannot store them)', async () => {
    expect((await err('{"a":"\\ud800"}', 'application/json')).code).toBe('unsupported_json');
    expect((await ok('{"a":"\\ud83d\\ude00"}', 'application/json')).value).toEqual({ a: '😀' });
  });

  it('keeps __proto__ keys as data without polluting prototypes', async () => {
    const body = await ok(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"nested":{"__proto__":{"x":1}}}',
      'application/json',
    );
    const v = body.value as Record<string, any>;
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'nested']);
    expect(v.constructor).toEqual({ prototype: { polluted: true } });
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
    expect((Object.prototype as any).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(v))).toEqual(JSON.parse(JSON.stringify(v)));
  });
});

describe('parseBody: urlencoded forms', () => {
  const FORM = 'application/x-www-form-urlencoded';

  it('parses fields, + as space and percent escapes', async () => {
    expect(await ok('a=1&b=hello+world&c=%C3%A9t%C3%A9&d=', FORM)).toEqual({
      kind: 'form',
      value: { a: '1', b: 'hello world', c: 'été', d: '' },
    });
  });

  it('turns repeated keys into arrays', async () => {
    expect((await ok('tag=a&tag=b&tag=c&x=1', FORM)).value).toEqual({ tag: ['a', 'b', 'c'], x: '1' });
  });

  it('keeps dotted keys and keys without = as is', async () => {
    expect((await ok('hub.challenge=42&flag&&', FORM)).value).toEqual({ 'hub.challenge': '42', flag: '' });
  });

  it('leaves a stray % literal, as browsers do', async () => {
    expect((await ok('p=100%&q=%zz', FORM)).value).toEqual({ p: '100%', q: '%zz' });
  });

  it('makes __proto__ an ordinary key and never pollutes Object.prototype', async () => {
    const v = (await ok('__proto__=x&__proto__[polluted]=1&constructor=y', FORM)).value as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.constructor).toBe('y');
    expect(({} as any).polluted).toBeUndefined();
    const twice = (await ok('__proto__=a&__proto__=b', FORM)).value as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(twice, '__proto__')?.value).toEqual(['a', 'b']);
    expect(Object.getPrototypeOf(twice)).toBe(Object.prototype);
  });

  it('rejects invalid UTF-8, raw or percent-encoded, with invalid_utf8', async () => {
    expect((await err('a=%FF', FORM)).code).toBe('invalid_utf8');
    expect((await err(Buffer.from([0x61, 0x3d, 0xff]), FORM)).code).toBe('invalid_utf8');
  });

  it('refuses NUL characters in fields', async () => {
    expect((await err('a=%00', FORM)).code).toBe('unsupported_form');
  });

  it('decodes a latin1 charset', async () => {
    expect((await ok('n=%E9', `${FORM}; charset=iso-8859-1`)).value).toEqual({ n: 'é' });
  });
});

describe('parseBody: multipart', () => {
  const B = '----hookflow-test-boundary';
  const CT = `multipart/form-data; boundary=${B}`;

  it('parses multipart fields and files as base64 metadata', async () => {
    const raw = multipart(B, [
      { headers: ['Content-Disposition: form-data; name="order_id"'], body: 'A1' },
      { headers: ['Content-Disposition: form-data; name="tag"'], body: 'x' },
      { headers: ['Content-Disposition: form-data; name="tag"'], body: 'y' },
      {
        headers: [
          'Content-Disposition: form-data; name="invoice"; filename="inv.pdf"',
          'Content-Type: application/pdf',
        ],
        body: Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]),
      },
    ]);
    expect(await ok(raw, CT)).toEqual({
      kind: 'multipart',
      value: {
        order_id: 'A1',
        tag: ['x', 'y'],
        invoice: {
          filename: 'inv.pdf',
          content_type: 'application/pdf',
          size: 6,
          encoding: 'base64',
          data: Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]).toString('base64'),
        },
      },
    });
  });

  it('keeps only metadata with truncated: true for files over maxFileBytes', async () => {
    const big = Buffer.alloc(5000, 0x41);
    const raw = multipart(B, [
      { headers: ['Content-Disposition: form-data; name="f"; filename="big.bin"'], body: big },
      { headers: ['Content-Disposition: form-data; name="small"; filename="s.txt"'], body: 'ok' },
    ]);
    const v = (await ok(raw, CT, { maxFileBytes: 1000 })).value as Record<string, any>;
    expect(v.f).toEqual({
      filename: 'big.bin',
      content_type: 'text/plain', // RFC 7578 default for a part without Content-Type
      size: 5000,
      encoding: 'base64',
      truncated: true,
    });
    expect(v.f).not.toHaveProperty('data');
    expect(v.small).toMatchObject({ filename: 's.txt', size: 2, data: Buffer.from('ok').toString('base64') });
  });

  it('keeps a file exactly at maxFileBytes', async () => {
    const raw = multipart(B, [
      { headers: ['Content-Disposition: form-data; name="f"; filename="a"'], body: Buffer.alloc(100, 1) },
    ]);
    const v = (await ok(raw, CT, { maxFileBytes: 100 })).value as Record<string, any>;
    expect(v.f.size).toBe(100);
    expect(Buffer.from(v.f.data, 'base64')).toEqual(Buffer.alloc(100, 1));
  });

  it('decodes UTF-8 field values and file names', async () => {
    const raw = multipart(B, [
      { headers: ['Content-Disposition: form-data; name="name"'], body: 'Zoë 😀' },
      { headers: ['Content-Disposition: form-data; name="f"; filename="résumé.txt"'], body: 'x' },
    ]);
    const v = (await ok(raw, CT)).value as Record<string, any>;
    expect(v.name).toBe('Zoë 😀');
    expect(v.f.filename).toBe('résumé.txt');
  });

  it('makes __proto__ fields ordinary keys', async () => {
    const raw = multipart(B, [{ headers: ['Content-Disposition: form-data; name="__proto__"'], body: 'x' }]);
    const v = (await ok(raw, CT)).value as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('rejects a missing boundary with invalid_multipart', async () => {
    const e = await err('--x\r\n\r\n', 'multipart/form-data');
    expect(e.code).toBe('invalid_multipart');
    expect(e.msg).toMatch(/boundary/);
  });

  it('rejects truncated or malformed multipart with invalid_multipart', async () => {
    const raw = multipart(B, [{ headers: ['Content-Disposition: form-data; name="a"'], body: 'hello' }]);
    expect((await err(raw.subarray(0, raw.length - 20), CT)).code).toBe('invalid_multipart');
    expect((await err('not multipart at all', CT)).code).toBe('invalid_multipart');
    const unterminatedFile = buf(
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nabc`,
    );
    expect((await err(unterminatedFile, CT)).code).toBe('invalid_multipart');
  });
});

describe('parseBody: XML and text', () => {
  it('returns XML as text with kind xml for application/xml, text/xml and +xml', async () => {
    const xml = '<?xml version="1.0"?><order id="1"/>';
    expect(await ok(xml, 'application/xml')).toEqual({ kind: 'xml', value: xml });
    expect(await ok(xml, 'text/xml; charset=utf-8')).toEqual({ kind: 'xml', value: xml });
    expect(await ok(xml, 'application/atom+xml')).toEqual({ kind: 'xml', value: xml });
  });

  it('rejects invalid UTF-8 XML with invalid_utf8', async () => {
    expect((await err(Buffer.from([0x3c, 0x61, 0xff, 0x3e]), 'application/xml')).code).toBe('invalid_utf8');
  });

  it('returns other text/* types as kind text', async () => {
    expect(await ok('hello', 'text/plain')).toEqual({ kind: 'text', value: 'hello' });
    expect(await ok('a,b\n1,2', 'text/csv')).toEqual({ kind: 'text', value: 'a,b\n1,2' });
  });

  it('decodes a latin1 / iso-8859-1 charset', async () => {
    const raw = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin1
    expect(await ok(raw, 'text/plain; charset=iso-8859-1')).toEqual({ kind: 'text', value: 'café' });
    expect(await ok(raw, 'text/plain; charset="latin1"')).toEqual({ kind: 'text', value: 'café' });
  });

  it('rejects an unknown charset with unsupported_charset', async () => {
    expect((await err('x', 'text/plain; charset=klingon-8')).code).toBe('unsupported_charset');
    expect((await err('{}', 'application/json; charset=nope')).code).toBe('unsupported_charset');
  });

  it('refuses text containing NUL with unsupported_text', async () => {
    expect((await err('a\u0000b', 'text/plain')).code).toBe('unsupported_text');
  });
});

describe('parseBody: no content type and binary types', () => {
  it('treats a body without content type as text when it is valid UTF-8', async () => {
    expect(await ok('{"a":1}', undefined)).toEqual({ kind: 'text', value: '{"a":1}' });
    expect(await ok('plain', '')).toEqual({ kind: 'text', value: 'plain' });
  });

  it('falls back to base64 without content type when the bytes are not UTF-8 text', async () => {
    const raw = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    expect(await ok(raw, undefined)).toEqual({ kind: 'base64', value: raw.toString('base64') });
    const withNul = buf('a\u0000b');
    expect(await ok(withNul, undefined)).toEqual({ kind: 'base64', value: withNul.toString('base64') });
  });

  it('returns octet-stream, images and unknown types as base64', async () => {
    const raw = Buffer.from([1, 2, 3, 250]);
    for (const ct of [
      'application/octet-stream',
      'image/png',
      'application/pdf',
      'multipart/mixed; boundary=x',
    ]) {
      expect(await ok(raw, ct)).toEqual({ kind: 'base64', value: 'AQID+g==' });
    }
    expect(await ok('{"a":1}', 'application/octet-stream')).toEqual({
      kind: 'base64',
      value: buf('{"a":1}').toString('base64'),
    });
  });
});

describe('jsonDepthExceeds', () => {
  it('counts nesting of objects and arrays outside strings', () => {
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds('"[[[[[["', 1)).toBe(false);
    expect(jsonDepthExceeds('["\\\\", [[1]]]', 2)).toBe(true);
    expect(jsonDepthExceeds('["\\"[[[["]', 1)).toBe(false);
  });
});
