import { describe, expect, it } from 'vitest';
import {
  bodyFromPairs,
  checkParameterTypes,
  coercePairValue,
  deriveFields,
  fieldsFromPairs,
  findMissingParameters,
  type Parameter,
  parameterLabel,
  readParameter,
  truncateExample,
} from './fields.ts';
import { getByPath } from './paths.ts';

const paths = (fields: { source: string; path: string }[]) => fields.map((f) => `${f.source}:${f.path}`);

describe('deriveFields', () => {
  it('derives leaf fields with dotted paths and value types', () => {
    const fields = deriveFields({
      body: { order: { id: 'A1', qty: 3, price: 9.5, paid: true, note: null } },
    });
    expect(fields).toEqual([
      { source: 'body', path: 'order.id', type: 'string', example: 'A1' },
      { source: 'body', path: 'order.qty', type: 'integer', example: 3 },
      { source: 'body', path: 'order.price', type: 'number', example: 9.5 },
      { source: 'body', path: 'order.paid', type: 'boolean', example: true },
      { source: 'body', path: 'order.note', type: 'null', example: null },
    ]);
  });

  it('emits arrays as fields and descends into the first element only', () => {
    const fields = deriveFields({
      body: {
        order: {
          items: [
            { price: 2, sku: 'X' },
            { price: 3, sku: 'Y', extra: 1 },
          ],
        },
        tags: ['a', 'b'],
      },
    });
    expect(paths(fields)).toEqual([
      'body:order.items',
      'body:order.items[0].price',
      'body:order.items[0].sku',
      'body:tags',
      'body:tags[0]',
    ]);
    expect(fields[0]).toMatchObject({ type: 'array' });
    expect(fields[4]).toEqual({ source: 'body', path: 'tags[0]', type: 'string', example: 'a' });
  });

  it('derives fields with bracket paths for dotted keys', () => {
    const fields = deriveFields({
      body: { 'hub.challenge': '123', 'a b': { 'x.y': 1 } },
      query: { 'hub.challenge': '42', 'hub.mode': 'subscribe' },
    });
    expect(paths(fields)).toEqual([
      "body:['hub.challenge']",
      "body:['a b']['x.y']",
      "query:['hub.challenge']",
      "query:['hub.mode']",
    ]);
  });

  it('derives paths that read back the example through paths.ts', () => {
    const body = { a: { 'x.y': [{ 'b-c': 5 }] }, "it's": 'q', list: [[1, 2]] };
    for (const f of deriveFields({ body })) {
      const value = getByPath(body, f.path);
      if (f.type === 'array' || f.type === 'object') expect(value).toEqual(f.example);
      else expect(value).toBe(f.example);
    }
  });

  it('reports empty objects and empty arrays as fields', () => {
    expect(deriveFields({ body: { meta: {}, list: [] } })).toEqual([
      { source: 'body', path: 'meta', type: 'object', example: {} },
      { source: 'body', path: 'list', type: 'array', example: [] },
    ]);
  });

  it('gives no fields for an empty or null body, and a root field for a scalar body', () => {
    expect(deriveFields({ body: {} })).toEqual([]);
    expect(deriveFields({ body: null })).toEqual([]);
    expect(deriveFields({})).toEqual([]);
    expect(deriveFields({ body: 'raw text' })).toEqual([
      { source: 'body', path: '', type: 'string', example: 'raw text' },
    ]);
  });

  it('handles a top-level array body', () => {
    expect(paths(deriveFields({ body: [{ id: 1 }] }))).toEqual(['body:', 'body:[0].id']);
  });

  it('types query values as strings', () => {
    expect(deriveFields({ query: { shop: 'acme', page: '2' } })).toEqual([
      { source: 'query', path: 'shop', type: 'string', example: 'acme' },
      { source: 'query', path: 'page', type: 'string', example: '2' },
    ]);
  });

  it('excludes headers unless includeHeaders, then skips hop-by-hop and noisy ones', () => {
    const headers = {
      Host: 'x',
      'content-length': '10',
      connection: 'close',
      'accept-encoding': 'gzip',
      'transfer-encoding': 'chunked',
      'User-Agent': 'Shopify',
      'X-Shopify-Topic': 'orders/create',
    };
    expect(deriveFields({ headers })).toEqual([]);
    expect(deriveFields({ headers }, { includeHeaders: true })).toEqual([
      { source: 'headers', path: 'user-agent', type: 'string', example: 'Shopify' },
      { source: 'headers', path: 'x-shopify-topic', type: 'string', example: 'orders/create' },
    ]);
  });

  it('orders fields body, query, headers', () => {
    const fields = deriveFields(
      { body: { a: 1 }, query: { q: 'x' }, headers: { 'x-h': 'y' } },
      { includeHeaders: true },
    );
    expect(paths(fields)).toEqual(['body:a', 'query:q', 'headers:x-h']);
  });

  it('caps the number of fields at maxFields (default 500)', () => {
    const body: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) body[`k${i}`] = i;
    expect(deriveFields({ body })).toHaveLength(500);
    expect(deriveFields({ body, query: { q: '1' } }, { maxFields: 10 })).toHaveLength(10);
  });

  it('stops at depth 32 and reports the container there', () => {
    let body: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) body = { n: body };
    const fields = deriveFields({ body });
    expect(fields).toHaveLength(1);
    expect(fields[0].type).toBe('object');
    expect(fields[0].path.split('.')).toHaveLength(32);
  });

  it('truncates long string examples to 200 characters plus an ellipsis', () => {
    const [f] = deriveFields({ body: { s: 'x'.repeat(500) } });
    expect(f.example).toBe(`${'x'.repeat(200)}…`);
    expect(truncateExample('short')).toBe('short');
  });

  it('never cuts a surrogate pair when truncating', () => {
    const s = `${'x'.repeat(199)}😀tail`;
    const cut = truncateExample(s);
    expect(cut).toBe(`${'x'.repeat(199)}…`);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut)).toBe(false);
  });

  it('shows big arrays as a truncated JSON preview', () => {
    const [f] = deriveFields({ body: { big: Array.from({ length: 200 }, (_, i) => i) } });
    expect(f.type).toBe('array');
    expect(typeof f.example).toBe('string');
    expect((f.example as string).endsWith('…')).toBe(true);
    expect((f.example as string).length).toBe(201);
  });

  it('treats __proto__ keys as ordinary data', () => {
    const body = JSON.parse('{"__proto__":{"x":1},"constructor":"c"}');
    expect(paths(deriveFields({ body }))).toEqual(['body:__proto__.x', 'body:constructor']);
  });
});

describe('pairs', () => {
  it('coerces pair values: integers, numbers, booleans, else strings', () => {
    expect(coercePairValue('12')).toBe(12);
    expect(coercePairValue('-3')).toBe(-3);
    expect(coercePairValue('1.5')).toBe(1.5);
    expect(coercePairValue('2e3')).toBe(2000);
    expect(coercePairValue('true')).toBe(true);
    expect(coercePairValue('false')).toBe(false);
    expect(coercePairValue('007')).toBe('007');
    expect(coercePairValue('12345678901234567890')).toBe('12345678901234567890');
    expect(coercePairValue('')).toBe('');
    expect(coercePairValue('True')).toBe('True');
    expect(coercePairValue('1.')).toBe('1.');
    expect(coercePairValue(' 1')).toBe(' 1');
  });

  it('builds the nested body that dotted pair keys describe', () => {
    expect(
      bodyFromPairs([
        { key: 'order.id', value: 'A1' },
        { key: 'order.qty', value: '12' },
        { key: 'order.items[0].sku', value: 'X' },
        { key: 'order.items[0].price', value: '1.5' },
        { key: 'order.items[1].sku', value: 'Y' },
        { key: "['hub.challenge']", value: 'abc' },
        { key: 'paid', value: 'true' },
      ]),
    ).toEqual({
      order: { id: 'A1', qty: 12, items: [{ sku: 'X', price: 1.5 }, { sku: 'Y' }] },
      'hub.challenge': 'abc',
      paid: true,
    });
  });

  it('uses an unparsable key as one literal key and skips blank keys', () => {
    expect(
      bodyFromPairs([
        { key: 'a..b', value: '1' },
        { key: '  ', value: 'x' },
        { key: '', value: 'y' },
        { key: '[0]', value: 'z' },
      ]),
    ).toEqual({ 'a..b': 1, '[0]': 'z' });
  });

  it('appends instead of leaving holes for indexes past the end', () => {
    expect(bodyFromPairs([{ key: 'list[99999999]', value: 'a' }])).toEqual({ list: ['a'] });
  });

  it('lets later pairs win, replacing a scalar by an object', () => {
    expect(
      bodyFromPairs([
        { key: 'a', value: '1' },
        { key: 'a.b', value: '2' },
        { key: 'c', value: 'x' },
        { key: 'c', value: 'y' },
      ]),
    ).toEqual({ a: { b: 2 }, c: 'y' });
  });

  it('keeps __proto__ pair keys as data without polluting prototypes', () => {
    const body = bodyFromPairs([
      { key: '__proto__.polluted', value: 'true' },
      { key: 'constructor.prototype.polluted', value: 'true' },
    ]);
    expect(Object.hasOwn(body, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
    expect((Object.prototype as any).polluted).toBeUndefined();
  });

  it('derives body fields from pairs', () => {
    expect(
      fieldsFromPairs([
        { key: 'order.id', value: '12' },
        { key: 'order.price', value: '1.5' },
        { key: 'order.paid', value: 'false' },
        { key: 'order.name', value: 'Ann' },
      ]),
    ).toEqual([
      { source: 'body', path: 'order.id', type: 'integer', example: 12 },
      { source: 'body', path: 'order.price', type: 'number', example: 1.5 },
      { source: 'body', path: 'order.paid', type: 'boolean', example: false },
      { source: 'body', path: 'order.name', type: 'string', example: 'Ann' },
    ]);
  });
});

describe('required parameters', () => {
  const request = {
    body: { order: { id: 'A1', empty: '', nothing: null, zero: 0, no: false, items: [{ sku: 'X' }] } },
    query: { shop: 'acme', 'hub.challenge': '42' },
    headers: { 'x-shopify-topic': 'orders/create', 'X-Mixed-Case': 'v' },
  };
  const req = (path: string, source: Parameter['source'] = 'body'): Parameter => ({
    source,
    path,
    required: true,
  });

  it('reports missing required body and query parameters', () => {
    expect(
      findMissingParameters(
        [req('order.id'), req('order.customer'), req('shop', 'query'), req('page', 'query')],
        request,
      ),
    ).toEqual(['body.order.customer', 'query.page']);
  });

  it('treats null and the empty string as missing, but not 0 or false', () => {
    expect(
      findMissingParameters(
        [req('order.empty'), req('order.nothing'), req('order.zero'), req('order.no')],
        request,
      ),
    ).toEqual(['body.order.empty', 'body.order.nothing']);
  });

  it('ignores parameters that are not required', () => {
    expect(
      findMissingParameters(
        [
          { source: 'body', path: 'nope' },
          { ...req('x'), required: false },
        ],
        request,
      ),
    ).toEqual([]);
  });

  it('looks up headers case-insensitively', () => {
    expect(
      findMissingParameters(
        [req('X-Shopify-Topic', 'headers'), req('x-mixed-case', 'headers'), req('X-Signature', 'headers')],
        request,
      ),
    ).toEqual(['headers.X-Signature']);
  });

  it('finds array elements and dotted keys', () => {
    expect(
      findMissingParameters(
        [
          req('order.items[0].sku'),
          req('order.items[1].sku'),
          req("['hub.challenge']", 'query'),
          req('hub.challenge', 'query'),
          req("['hub.mode']", 'query'),
        ],
        request,
      ),
    ).toEqual(['body.order.items[1].sku', "query['hub.mode']"]);
  });

  it('reports every parameter of a body that is not an object', () => {
    const r = { body: 'text', query: {}, headers: {} };
    expect(findMissingParameters([req('order.id')], r)).toEqual(['body.order.id']);
    expect(findMissingParameters([req('order.id')], { ...r, body: null })).toEqual(['body.order.id']);
  });

  it('never reads inherited properties', () => {
    expect(findMissingParameters([req('constructor'), req('toString'), req('__proto__')], request)).toEqual([
      'body.constructor',
      'body.toString',
      'body.__proto__',
    ]);
  });

  it('reports each missing parameter once', () => {
    expect(findMissingParameters([req('a'), req('a')], request)).toEqual(['body.a']);
  });

  it('labels parameters with their source', () => {
    expect(parameterLabel({ source: 'body', path: 'order.id' })).toBe('body.order.id');
    expect(parameterLabel({ source: 'query', path: "['hub.challenge']" })).toBe("query['hub.challenge']");
    expect(parameterLabel({ source: 'body', path: '' })).toBe('body');
    expect(readParameter({ source: 'body', path: '' }, request)).toBe(request.body);
  });
});

describe('checkParameterTypes', () => {
  const request = {
    body: { qty: 'abc', n: 3, price: 1.5, ok: true, obj: { a: 1 }, list: [1], str: 'x', qtyText: '7' },
    query: { page: '2', flag: 'true', bad: 'x' },
    headers: {},
  };
  const p = (path: string, type: string, source: Parameter['source'] = 'body'): Parameter => ({
    source,
    path,
    type,
    required: true,
  });

  it('lists required integer given "abc" as a mismatch', () => {
    expect(checkParameterTypes([p('qty', 'integer')], request)).toEqual([
      { param: 'body.qty', expected: 'integer', got: 'string' },
    ]);
  });

  it('accepts strings that read as the declared type (query, headers and forms are text)', () => {
    expect(
      checkParameterTypes(
        [
          p('page', 'integer', 'query'),
          p('page', 'number', 'query'),
          p('flag', 'boolean', 'query'),
          p('qtyText', 'integer'),
        ],
        request,
      ),
    ).toEqual([]);
    expect(checkParameterTypes([p('bad', 'number', 'query'), p('bad', 'boolean', 'query')], request)).toEqual(
      [
        { param: 'query.bad', expected: 'number', got: 'string' },
        { param: 'query.bad', expected: 'boolean', got: 'string' },
      ],
    );
  });

  it('checks numbers, objects and arrays', () => {
    expect(
      checkParameterTypes(
        [
          p('n', 'number'),
          p('n', 'integer'),
          p('price', 'integer'),
          p('obj', 'object'),
          p('list', 'array'),
          p('list', 'object'),
          p('obj', 'string'),
          p('n', 'string'),
          p('ok', 'boolean'),
        ],
        request,
      ),
    ).toEqual([
      { param: 'body.price', expected: 'integer', got: 'number' },
      { param: 'body.list', expected: 'object', got: 'array' },
      { param: 'body.obj', expected: 'string', got: 'object' },
    ]);
  });

  it('skips absent values, untyped parameters and unknown type names', () => {
    expect(
      checkParameterTypes(
        [p('missing', 'integer'), { source: 'body', path: 'qty' }, p('qty', 'uuid')],
        request,
      ),
    ).toEqual([]);
  });
});
