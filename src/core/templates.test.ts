// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} is the template syntax this module implements, not a mistaken JS template literal
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type CompiledTemplate,
  compileTemplate,
  lookupHeader,
  renderDeep,
  renderDeepSync,
  renderTemplate,
  renderTemplateSync,
  type TemplateContext,
  TemplateError,
  validateTemplatesDeep,
} from './templates.ts';

const ctx: TemplateContext = {
  Webhook: {
    Body: {
      order: { id: 'ord_1', total: 42.5, paid: true, note: null, lines: [{ sku: 'A' }, { sku: 'B' }] },
      items: [{ price: 10 }, { price: 2.5 }, { price: 7 }],
      'weird.key': 'dotted',
    },
    Headers: {
      authorization: 'Bearer abc',
      'x-multi': ['one', 'two'],
      'content-type': 'application/json',
      gone: undefined,
    },
    Query: { validationToken: 'tok', 'hub.challenge': '12345', 'hub.mode': 'subscribe' },
    Method: 'POST',
    Path: '/hooks/t1/f1',
  },
  flow: { id: 'flw_1', key: { name: 'Ada', order: 'ord_1' } },
  vars: { qty: 12, label: 'widgets', list: [1, 2, 3], obj: { a: 1 }, zero: 0, no: false, nil: null },
  steps: { http_1: { body: { id: 'remote_9' }, status: 201 } },
  run: { id: 'run_1' },
  tenant: { id: 'ten_1' },
};

function compile(text: string): CompiledTemplate {
  const result = compileTemplate(text);
  if (!result.ok) throw new Error(`expected ${text} to compile: ${result.error}`);
  return result.template;
}

function compileError(text: string): string {
  const result = compileTemplate(text);
  if (result.ok) throw new Error(`expected ${text} to fail compiling`);
  return result.error;
}

const sync = (text: string, c: TemplateContext = ctx) => renderTemplateSync(compile(text), c);
const render = (text: string, c: TemplateContext = ctx, opts?: { timeoutMs?: number; maxDepth?: number }) =>
  renderTemplate(compile(text), c, opts);

async function renderError(
  text: string,
  c: TemplateContext = ctx,
  opts?: { timeoutMs?: number; maxDepth?: number },
): Promise<TemplateError> {
  try {
    await render(text, c, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error(`expected ${text} to fail rendering`);
}

describe('plain text', () => {
  it('returns a string without ${ unchanged, as a static template', () => {
    const t = compile('just text, $5 and {braces}');
    expect(t.isStatic).toBe(true);
    expect(t.hasJsonata).toBe(false);
    expect(renderTemplateSync(t, ctx)).toBe('just text, $5 and {braces}');
  });

  it('renders the empty string as the empty string', () => {
    expect(sync('')).toBe('');
  });

  it('caches compiled templates by text', () => {
    expect(compileTemplate('${vars.qty} items')).toBe(compileTemplate('${vars.qty} items'));
  });
});

describe('type preservation for a template that is exactly one ${...}', () => {
  it('keeps numbers', () => {
    expect(sync('${vars.qty}')).toBe(12);
    expect(sync('${vars.zero}')).toBe(0);
  });

  it('keeps booleans and null', () => {
    expect(sync('${Webhook::Body.order.paid}')).toBe(true);
    expect(sync('${vars.no}')).toBe(false);
    expect(sync('${vars.nil}')).toBeNull();
  });

  it('keeps objects and arrays', () => {
    expect(sync('${vars.obj}')).toEqual({ a: 1 });
    expect(sync('${vars.list}')).toEqual([1, 2, 3]);
    expect(sync('${Webhook::Body.order.lines}')).toEqual([{ sku: 'A' }, { sku: 'B' }]);
  });

  it('returns undefined for a missing value', () => {
    expect(sync('${vars.missing}')).toBeUndefined();
  });

  it('tolerates whitespace inside the braces', () => {
    expect(sync('${  vars.qty  }')).toBe(12);
  });

  it('stringifies when there is any surrounding text, even whitespace', () => {
    expect(sync(' ${vars.qty}')).toBe(' 12');
  });
});

describe('stringification inside a longer string', () => {
  it('inserts strings as they are', () => {
    expect(sync('Hello ${flow.key.name}!')).toBe('Hello Ada!');
  });

  it('writes numbers and booleans with String()', () => {
    expect(sync('qty=${vars.qty} total=${Webhook::Body.order.total} paid=${Webhook::Body.order.paid}')).toBe(
      'qty=12 total=42.5 paid=true',
    );
  });

  it('writes objects and arrays as JSON', () => {
    expect(sync('obj=${vars.obj} list=${vars.list}')).toBe('obj={"a":1} list=[1,2,3]');
  });

  it('writes null and undefined as the empty string', () => {
    expect(sync('[${vars.nil}][${vars.missing}][${Webhook::Body.order.note}]')).toBe('[][][]');
  });

  it('renders several expressions next to each other', () => {
    expect(sync('${run.id}${tenant.id}${flow.id}')).toBe('run_1ten_1flw_1');
  });
});

describe('roots', () => {
  it('reads every documented root', () => {
    expect(sync('${Webhook::Body.order.id}')).toBe('ord_1');
    expect(sync('${Webhook::Query.validationToken}')).toBe('tok');
    expect(sync('${Webhook::Method}')).toBe('POST');
    expect(sync('${Webhook::Path}')).toBe('/hooks/t1/f1');
    expect(sync('${flow.key.name}')).toBe('Ada');
    expect(sync('${flow.id}')).toBe('flw_1');
    expect(sync('${vars.label}')).toBe('widgets');
    expect(sync('${steps.http_1.body.id}')).toBe('remote_9');
    expect(sync('${run.id}')).toBe('run_1');
    expect(sync('${tenant.id}')).toBe('ten_1');
  });

  it('returns a whole root object', () => {
    expect(sync('${Webhook::Query}')).toBe(ctx.Webhook?.Query);
    expect(sync('${flow.key}')).toEqual({ name: 'Ada', order: 'ord_1' });
  });

  it('reads array elements by index', () => {
    expect(sync('${Webhook::Body.order.lines[1].sku}')).toBe('B');
    expect(sync('${Webhook::Body.items[0]}')).toEqual({ price: 10 });
  });

  it('reads a bracket key directly after a Webhook root', () => {
    expect(sync("${Webhook::Body['weird.key']}")).toBe('dotted');
  });

  it('returns undefined for anything missing, at any depth, and for a missing context', () => {
    expect(sync('${Webhook::Body.nope.deeper.still}')).toBeUndefined();
    expect(sync('${Webhook::Body.order.id.length}')).toBeUndefined();
    expect(sync('${steps.http_9.body}')).toBeUndefined();
    expect(sync('${Webhook::Body.order.id}', {})).toBeUndefined();
    expect(sync('${Webhook::Headers.Authorization}', {})).toBeUndefined();
    expect(sync('x${flow.key.name}y', {})).toBe('xy');
  });
});

describe('headers', () => {
  it('matches header names case-insensitively', () => {
    expect(sync('${Webhook::Headers.Authorization}')).toBe('Bearer abc');
    expect(sync('${Webhook::Headers.AUTHORIZATION}')).toBe('Bearer abc');
    expect(sync("${Webhook::Headers['Content-Type']}")).toBe('application/json');
    expect(sync('${Webhook::Headers.Content-Type}')).toBe('application/json');
  });

  it('joins repeated headers with ", "', () => {
    expect(sync('${Webhook::Headers.X-Multi}')).toBe('one, two');
  });

  it('returns undefined for a missing or undefined header', () => {
    expect(sync('${Webhook::Headers.X-Nope}')).toBeUndefined();
    expect(sync('${Webhook::Headers.gone}')).toBeUndefined();
  });

  it('lookupHeader is case-insensitive both ways and tolerates missing headers', () => {
    const headers = { 'X-Hub-Signature': 'sha1=x', accept: ['a', 'b'] };
    expect(lookupHeader(headers, 'x-hub-signature')).toBe('sha1=x');
    expect(lookupHeader(headers, 'X-HUB-SIGNATURE')).toBe('sha1=x');
    expect(lookupHeader(headers, 'Accept')).toBe('a, b');
    expect(lookupHeader(headers, 'missing')).toBeUndefined();
    expect(lookupHeader(undefined, 'accept')).toBeUndefined();
  });

  it('lookupHeader does not find inherited properties', () => {
    expect(lookupHeader({}, 'constructor')).toBeUndefined();
    expect(lookupHeader({}, 'toString')).toBeUndefined();
  });
});

describe('bracket keys in the query', () => {
  it("reads a key containing a dot: ${Webhook::Query['hub.challenge']}", () => {
    expect(sync("${Webhook::Query['hub.challenge']}")).toBe('12345');
    expect(sync('${Webhook::Query["hub.mode"]}')).toBe('subscribe');
  });

  it('does not split a dotted key when written without brackets', () => {
    expect(sync('${Webhook::Query.hub.challenge}')).toBeUndefined();
  });

  it('allows a closing brace inside a quoted bracket key', () => {
    const c: TemplateContext = { Webhook: { Query: { 'a}b': 'ok' } } };
    expect(sync("${Webhook::Query['a}b']}", c)).toBe('ok');
    expect(sync("<${Webhook::Query['a}b']}>", c)).toBe('<ok>');
  });
});

describe('nested config values (renderDeep / renderDeepSync)', () => {
  const config = {
    status: 200,
    enabled: true,
    nothing: null,
    body: '{"order":"${Webhook::Body.order.id}"}',
    headers: [{ name: 'X-Run', value: '${run.id}' }],
    values: { 'flow.key.order': '${Webhook::Body.order.id}', qty: '${vars.qty}', plain: 'no templates here' },
    '${vars.label}': 'keys are not rendered',
  };

  it('renders every string leaf synchronously, keeping non-strings and keys', () => {
    expect(renderDeepSync(config, ctx)).toEqual({
      status: 200,
      enabled: true,
      nothing: null,
      body: '{"order":"ord_1"}',
      headers: [{ name: 'X-Run', value: 'run_1' }],
      values: { 'flow.key.order': 'ord_1', qty: 12, plain: 'no templates here' },
      '${vars.label}': 'keys are not rendered',
    });
  });

  it('renders the same asynchronously, including JSONata leaves', async () => {
    const out = await renderDeep({ ...config, sum: '${= $sum(Webhook::Body.items.price)}' }, ctx);
    expect(out).toMatchObject({ values: { qty: 12 }, sum: 19.5, body: '{"order":"ord_1"}' });
  });

  it('does not modify the input', () => {
    const copy = structuredClone(config);
    renderDeepSync(config, ctx);
    expect(config).toEqual(copy);
  });

  it('renders a top-level string', async () => {
    expect(renderDeepSync('${vars.qty}', ctx)).toBe(12);
    expect(await renderDeep('n=${= vars.qty * 2}', ctx)).toBe('n=24');
  });

  it('renderDeepSync refuses JSONata with a TemplateError', () => {
    expect(() => renderDeepSync({ a: '${= 1 + 1}' }, ctx)).toThrow(TemplateError);
  });

  it('throws a TemplateError for a leaf with a syntax error', async () => {
    expect(() => renderDeepSync({ a: '${nope.x}' }, ctx)).toThrow(TemplateError);
    await expect(renderDeep({ a: ['${vars.x'] }, ctx)).rejects.toBeInstanceOf(TemplateError);
  });
});

describe('__proto__ and inherited properties', () => {
  const body = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": 1}');
  const pc: TemplateContext = { Webhook: { Body: body } };

  it('reads a __proto__ key in data as an ordinary own key', () => {
    expect(sync('${Webhook::Body.__proto__.polluted}', pc)).toBe('yes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never reads inherited properties through a path', () => {
    expect(sync('${Webhook::Body.constructor}', pc)).toBeUndefined();
    expect(sync('${Webhook::Body.a.toString}', pc)).toBeUndefined();
    expect(sync('${vars.hasOwnProperty}')).toBeUndefined();
  });

  it('renderDeep keeps a __proto__ config key as an own key without changing any prototype', async () => {
    const config = JSON.parse('{"__proto__": {"polluted": "${vars.label}"}, "x": "${vars.qty}"}');
    for (const out of [renderDeepSync(config, ctx), await renderDeep(config, ctx)] as Record<
      string,
      unknown
    >[]) {
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.hasOwn(out, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 'widgets' });
      expect(out.polluted).toBeUndefined();
      expect(out.x).toBe(12);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('JSONata cannot reach the constructor of the data', async () => {
    expect(await render('${= Webhook::Body.constructor}', pc)).toBeUndefined();
    await expect(render('${= Webhook::Body.constructor("return process")()}', pc)).rejects.toBeInstanceOf(
      TemplateError,
    );
  });

  it('a JSONata object with a __proto__ key comes back as plain data', async () => {
    const out = (await render('${= {"__proto__": {"polluted": 1}, "b": 2}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(out.b).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('escape', () => {
  it('renders \\${ as a literal ${', () => {
    const t = compile('cost: \\${vars.qty}');
    expect(t.isStatic).toBe(true);
    expect(renderTemplateSync(t, ctx)).toBe('cost: ${vars.qty}');
  });

  it('mixes escaped and real expressions', () => {
    expect(sync('\\${vars.qty} is ${vars.qty}')).toBe('${vars.qty} is 12');
  });

  it('treats a lone $ or $${ as text followed by a template', () => {
    expect(sync('$${vars.qty}')).toBe('$12');
    expect(sync('price: $5')).toBe('price: $5');
  });

  it('an escaped opener needs no closing brace', () => {
    expect(sync('literal \\${ here')).toBe('literal ${ here');
  });
});

describe('syntax errors', () => {
  it('reports an unterminated ${ with its position', () => {
    const error = compileError('hello ${vars.name');
    expect(error).toMatch(/Unterminated/);
    expect(error).toContain('${vars.name');
    expect(error).toContain('position 6');
  });

  it('reports an unterminated ${ when the only } is inside a quoted key', () => {
    expect(compileError("${Webhook::Query['a}")).toMatch(/Unterminated/);
  });

  it('reports an empty ${}', () => {
    expect(compileError('a ${} b')).toMatch(/Empty template expression "\$\{\}"/);
    expect(compileError('${   }')).toMatch(/Empty/);
  });

  it('reports an empty JSONata expression ${=}', () => {
    expect(compileError('${= }')).toMatch(/Empty JSONata expression/);
  });

  it('reports an unknown root, naming it and the expression', () => {
    const error = compileError('x ${order.id} y');
    expect(error).toContain('Unknown root "order"');
    expect(error).toContain('${order.id}');
    expect(error).toContain('Webhook::Body');
  });

  it('reports an unknown Webhook:: root', () => {
    expect(compileError('${Webhook::Bodies.x}')).toContain('Unknown root "Webhook::Bodies"');
    expect(compileError('${Webhook::Body-x}')).toContain('Unknown root');
  });

  it('suggests Webhook::Body for Webhook.Body', () => {
    expect(compileError('${Webhook.Body.order}')).toContain('did you mean "Webhook::Body"');
  });

  it('reports bad path syntax, naming the expression', () => {
    for (const text of [
      '${vars..x}',
      '${vars.}',
      '${Webhook::Body.}',
      '${vars[abc]}',
      "${vars['x]}",
      '${vars[0}',
    ]) {
      const error = compileError(text);
      expect(error, text).toMatch(/Invalid path|Unterminated/);
    }
    expect(compileError('${vars..x}')).toContain('"${vars..x}"');
  });

  it('rejects something richer than a path without = and suggests ${= ...}', () => {
    const error = compileError('${vars.qty + 1}');
    expect(error).toContain('not a plain path');
    expect(error).toContain('${= vars.qty + 1}');
    expect(compileError('${$sum(vars.list)}')).toContain('not a plain path');
  });

  it('reports a JSONata syntax error, naming the expression', () => {
    const error = compileError('total: ${= $sum(Webhook::Body.items.price}');
    expect(error).toMatch(/Invalid JSONata/);
    expect(error).toContain('${= $sum(Webhook::Body.items.price}');
  });

  it('reports an unknown Webhook:: root inside JSONata', () => {
    expect(compileError('${= Webhook::Bogus.x}')).toContain('Unknown root "Webhook::Bogus"');
  });

  it('reports the first error of a template with several expressions', () => {
    expect(compileError('${vars.a} ${bad.root} ${vars.')).toContain('bad.root');
  });
});

describe('JSONata expressions', () => {
  it('sums over the body with a Webhook:: root', async () => {
    expect(await render('${= $sum(Webhook::Body.items.price)}')).toBe(19.5);
  });

  it('compares values', async () => {
    expect(await render('${= vars.qty > 10}')).toBe(true);
    expect(await render('${= vars.qty > 100}')).toBe(false);
  });

  it('reads headers case-insensitively', async () => {
    expect(await render('${= Webhook::Headers.Authorization}')).toBe('Bearer abc');
    expect(await render('${= $lookup(Webhook::Headers, "CONTENT-TYPE")}')).toBe('application/json');
  });

  it('returns the headers as plain data with their received names', async () => {
    expect(await render('${= Webhook::Headers}')).toEqual({
      authorization: 'Bearer abc',
      'x-multi': 'one, two',
      'content-type': 'application/json',
    });
  });

  it('reads all roots', async () => {
    expect(await render('${= flow.key.name & "/" & flow.id & "/" & run.id & "/" & tenant.id}')).toBe(
      'Ada/flw_1/run_1/ten_1',
    );
    expect(await render('${= steps.http_1.status}')).toBe(201);
    expect(await render('${= Webhook::Method & " " & Webhook::Path}')).toBe('POST /hooks/t1/f1');
    expect(await render('${= Webhook::Query.`hub.challenge`}')).toBe('12345');
  });

  it('handles braces and quoted } inside the expression', async () => {
    expect(await render('${= {"a": 1, "b": "}"}}')).toEqual({ a: 1, b: '}' });
    expect(await render('x${= {"n": vars.qty}}y')).toBe('x{"n":12}y');
  });

  it('does not rewrite Webhook:: inside string literals', async () => {
    expect(await render('${= "Webhook::Body"}')).toBe('Webhook::Body');
    expect(await render("${= 'a}Webhook::Body' & Webhook::Method}")).toBe('a}Webhook::BodyPOST');
  });

  it('returns plain arrays (no JSONata sequence markers)', async () => {
    const out = await render('${= Webhook::Body.items.price}');
    expect(out).toEqual([10, 2.5, 7]);
    expect(Object.keys(out as object)).toEqual(['0', '1', '2']);
  });

  it('returns undefined for a missing value and stringifies it as empty text', async () => {
    expect(await render('${= vars.missing}')).toBeUndefined();
    expect(await render('[${= vars.missing}]')).toBe('[]');
  });

  it('mixes paths and JSONata in one string', async () => {
    expect(await render('${flow.key.name} ordered ${= $count(Webhook::Body.items)} items')).toBe(
      'Ada ordered 3 items',
    );
  });

  it('does not return functions', async () => {
    expect(await render('${= function($x){$x}}')).toBeUndefined();
    expect(await render('${= $sum}')).toBeUndefined();
    expect(await render('${= {"f": function($x){$x}, "n": 1}}')).toEqual({ n: 1 });
    expect(await render('f=${= function($x){$x}}')).toBe('f=');
  });

  it('renderTemplate also renders templates without JSONata', async () => {
    expect(await render('${vars.qty}')).toBe(12);
    expect(await render('static')).toBe('static');
  });

  it('renderTemplateSync refuses a JSONata template with a TemplateError naming it', () => {
    const t = compile('a ${= 1 + 1}');
    expect(t.hasJsonata).toBe(true);
    expect(() => renderTemplateSync(t, ctx)).toThrow(TemplateError);
    try {
      renderTemplateSync(t, ctx);
    } catch (err) {
      expect((err as TemplateError).expression).toBe('${= 1 + 1}');
    }
  });

  it('evaluates the same compiled template concurrently with different contexts', async () => {
    const t = compile('${= vars.qty * 2}');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => renderTemplate(t, { vars: { qty: i } })),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });
});

describe('JSONata runtime errors and limits', () => {
  it('turns a runtime error into a TemplateError naming the expression', async () => {
    const err = await renderError('value: ${= $number("abc") + $undefinedFn(1)}');
    expect(err.expression).toBe('${= $number("abc") + $undefinedFn(1)}');
    expect(err.message).toContain('${= $number("abc") + $undefinedFn(1)}');
    expect(err.message).toMatch(/failed/);
  });

  it('turns a type error into a TemplateError', async () => {
    const err = await renderError('${= "a" + 1}');
    expect(err.expression).toBe('${= "a" + 1}');
  });

  it('stops infinite tail recursion by the timeout', async () => {
    const started = Date.now();
    const err = await renderError('${= ($f := function($x){$f($x)}; $f(1))}', ctx, { timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.expression).toBe('${= ($f := function($x){$f($x)}; $f(1))}');
    expect(err.message).toMatch(/timeout/i);
  });

  it('stops infinite non-tail recursion by the depth limit', async () => {
    const err = await renderError('${= ($f := function($x){1 + $f($x)}; $f(1))}');
    expect(err.message).toMatch(/stack|recursi/i);
    expect(err.message).toContain('$f(1)');
  });

  it('allows moderately deep legitimate recursion', async () => {
    expect(await render('${= ($f := function($n){$n <= 0 ? 0 : 1 + $f($n - 1)}; $f(100))}')).toBe(100);
  });

  it('stops a long loop by the timeout', async () => {
    const started = Date.now();
    const err = await renderError('${= $reduce([1..900000], function($a, $b){$a + $b})}', ctx, {
      timeoutMs: 50,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).toMatch(/timeout/i);
    expect(err.message).toContain('$reduce');
  });

  it('stops a long counting loop by the timeout', async () => {
    const text = '${= ($loop := function($i){$i < 100000000 ? $loop($i + 1) : $i}; $loop(0))}';
    const err = await renderError(text, ctx, { timeoutMs: 50 });
    expect(err.expression).toBe(text);
    expect(err.message).toMatch(/timeout/i);
  });

  it('uses a default time limit of about one second', async () => {
    const started = Date.now();
    const err = await renderError('${= ($f := function($x){$f($x)}; $f(1))}');
    const elapsed = Date.now() - started;
    expect(err.message).toMatch(/timeout/i);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
  });

  it('applies the time limit inside $eval too', async () => {
    const err = await renderError('${= $eval("($f := function($x){$f($x)}; $f(1))")}', ctx, {
      timeoutMs: 50,
    });
    expect(err.message).toMatch(/timeout/i);
  });

  it('refuses to build huge sequences', async () => {
    await expect(render('${= $count([1..5000000])}', ctx)).rejects.toBeInstanceOf(TemplateError);
  });

  it('a template works again after a limited run (limits are per evaluation)', async () => {
    const t = compile('${= $count($map([1..200], function($v){$v}))}');
    await expect(renderTemplate(t, ctx, { maxDepth: 3 })).rejects.toBeInstanceOf(TemplateError);
    expect(await renderTemplate(t, ctx)).toBe(200);
  });
});

describe('crypto helpers $hmac and $hash', () => {
  const algorithms = ['sha1', 'sha256', 'sha512'] as const;
  const encodings = ['hex', 'base64', 'base64url'] as const;
  // Non-ASCII, so the UTF-8 reading of key and message is checked too.
  const cc: TemplateContext = { vars: { key: 'k€y-ß', msg: 'héllo, wörld ✓' } };

  it('computes every algorithm × encoding exactly as node:crypto does', async () => {
    for (const alg of algorithms) {
      for (const enc of encodings) {
        const label = `${alg}/${enc}`;
        expect(await render(`\${= $hmac("${alg}", vars.key, vars.msg, "${enc}")}`, cc), label).toBe(
          createHmac(alg, 'k€y-ß').update('héllo, wörld ✓', 'utf8').digest(enc),
        );
        expect(await render(`\${= $hash("${alg}", vars.msg, "${enc}")}`, cc), label).toBe(
          createHash(alg).update('héllo, wörld ✓', 'utf8').digest(enc),
        );
      }
    }
  });

  it('defaults to hex encoding', async () => {
    for (const alg of algorithms) {
      expect(await render(`\${= $hmac("${alg}", vars.key, vars.msg)}`, cc)).toBe(
        createHmac(alg, 'k€y-ß').update('héllo, wörld ✓').digest('hex'),
      );
      expect(await render(`\${= $hash("${alg}", vars.msg)}`, cc)).toBe(
        createHash(alg).update('héllo, wörld ✓').digest('hex'),
      );
    }
    // An encoding argument that evaluates to nothing also means hex.
    expect(await render('${= $hash("sha256", "abc", vars.missing)}')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('matches published test vectors (RFC 4231 case 2, FIPS 180-2 "abc")', async () => {
    expect(await render('${= $hmac("sha256", "Jefe", "what do ya want for nothing?")}')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(await render('${= $hmac("sha512", "Jefe", "what do ya want for nothing?")}')).toBe(
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
    expect(await render('${= $hash("sha256", "abc")}')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(await render('${= $hash("sha1", "abc")}')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('answers a Zoom endpoint.url_validation handshake', async () => {
    const zoom: TemplateContext = {
      Webhook: {
        Body: { event: 'endpoint.url_validation', payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } },
        Headers: { 'content-type': 'application/json' },
        Method: 'POST',
        Path: '/hooks/t1/f1',
      },
      vars: { zoom_secret: 'secret' },
    };
    const expected = {
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: createHmac('sha256', 'secret').update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
    };
    expect(
      await render(
        '${= {"plainToken": Webhook::Body.payload.plainToken, "encryptedToken": $hmac("sha256", "secret", Webhook::Body.payload.plainToken)}}',
        zoom,
      ),
    ).toEqual(expected);
    // The same through renderDeep, with the secret from vars, as a response body config.
    expect(
      await renderDeep(
        {
          body: '${= {"plainToken": Webhook::Body.payload.plainToken, "encryptedToken": $hmac("sha256", vars.zoom_secret, Webhook::Body.payload.plainToken)}}',
        },
        zoom,
      ),
    ).toEqual({ body: expected });
  });

  it('answers an X (Twitter) CRC check inside a longer string', async () => {
    const x: TemplateContext = { Webhook: { Query: { crc_token: 'challenge-123' } } };
    expect(
      await render(
        '{"response_token": "sha256=${= $hmac("sha256", "consumer-secret", Webhook::Query.crc_token, "base64")}"}',
        x,
      ),
    ).toBe(
      `{"response_token": "sha256=${createHmac('sha256', 'consumer-secret').update('challenge-123').digest('base64')}"}`,
    );
  });

  it('is available inside user functions', async () => {
    expect(await render('${= ($h := function($m){$hash("sha1", $m)}; $h("abc"))}')).toBe(
      'a9993e364706816aba3e25717850c26c9cd0d89d',
    );
  });

  it('rejects an unknown algorithm with a TemplateError naming the function and the choices', async () => {
    const err = await renderError('${= $hmac("md5", "k", "m")}');
    expect(err.expression).toBe('${= $hmac("md5", "k", "m")}');
    expect(err.message).toContain('$hmac: algorithm must be one of sha1, sha256, sha512');
    expect((await renderError('${= $hash("SHA256", "m")}')).message).toContain(
      '$hash: algorithm must be one of sha1, sha256, sha512',
    );
    // Checked even when the message is missing, so a typo shows on the first render.
    expect((await renderError('${= $hash("sha265", vars.missing)}')).message).toContain(
      '$hash: algorithm must be one of',
    );
  });

  it('rejects an unknown encoding with a TemplateError naming the function and the choices', async () => {
    const err = await renderError('x=${= $hmac("sha256", "k", "m", "base32")}');
    expect(err.expression).toBe('${= $hmac("sha256", "k", "m", "base32")}');
    expect(err.message).toContain('$hmac: encoding must be one of hex, base64, base64url');
    expect((await renderError('${= $hash("sha256", "m", "latin1")}')).message).toContain(
      '$hash: encoding must be one of hex, base64, base64url',
    );
  });

  it('requires string keys and messages (use $string to convert)', async () => {
    for (const text of [
      '${= $hash("sha256", 42)}',
      '${= $hash("sha256", vars.obj)}',
      '${= $hash("sha256", vars.list)}',
      '${= $hash("sha256", vars.nil)}',
      '${= $hmac("sha256", "k", true)}',
    ]) {
      expect((await renderError(text)).message, text).toMatch(/\$(hash|hmac): message must be a string/);
    }
    expect((await renderError('${= $hmac("sha256", 7, "m")}')).message).toContain(
      '$hmac: key must be a string',
    );
    expect(await render('${= $hash("sha256", $string(vars.obj))}')).toBe(
      createHash('sha256').update('{"a":1}').digest('hex'),
    );
  });

  it('gives undefined for a missing key or message, like JSONata string functions', async () => {
    expect(await render('${= $hash("sha256", vars.missing)}')).toBeUndefined();
    expect(await render('${= $hmac("sha256", vars.missing, "m")}')).toBeUndefined();
    expect(await render('${= $hmac("sha256", "k", Webhook::Body.nope)}')).toBeUndefined();
  });

  it('accepts empty strings as key and message', async () => {
    expect(await render('${= $hash("sha256", "")}')).toBe(createHash('sha256').update('').digest('hex'));
    expect(await render('${= $hmac("sha1", "", "")}')).toBe(createHmac('sha1', '').update('').digest('hex'));
  });

  it('rejects a wrong number of arguments', async () => {
    expect((await renderError('${= $hmac("sha256", "k")}')).message).toContain(
      '$hmac takes 3 or 4 arguments',
    );
    expect((await renderError('${= $hash("sha256")}')).message).toContain('$hash takes 2 or 3 arguments');
    expect((await renderError('${= $hash("sha256", "m", "hex", 1)}')).message).toContain(
      '$hash takes 2 or 3 arguments',
    );
  });

  it('works in templates compiled with other limits', async () => {
    expect(await render('${= $hash("sha256", "abc")}', ctx, { timeoutMs: 250, maxDepth: 50 })).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('validateTemplatesDeep', () => {
  it('returns nothing for a valid config', () => {
    expect(
      validateTemplatesDeep({
        values: { 'flow.key.order': '${Webhook::Body.order.id}' },
        body: 'ok ${= $sum(Webhook::Body.items.price)}',
        n: 1,
        list: ['${run.id}', null, true],
      }),
    ).toEqual([]);
  });

  it('reports every bad leaf with its JSON path', () => {
    const errors = validateTemplatesDeep({
      values: { 'flow.key.order': '${Webhook::Body.order.id', ok: '${vars.x}' },
      body: '${}',
      headers: [{ name: 'A', value: '${= $sum(}' }],
      '${not rendered}': 'fine',
    });
    expect(errors.map((e) => e.path)).toEqual(["values['flow.key.order']", 'body', 'headers[0].value']);
    expect(errors[0].error).toMatch(/Unterminated/);
    expect(errors[1].error).toMatch(/Empty/);
    expect(errors[2].error).toMatch(/Invalid JSONata/);
  });

  it('reports a top-level string with the empty path', () => {
    expect(validateTemplatesDeep('${nope}')).toEqual([
      { path: '', error: expect.stringContaining('Unknown root') },
    ]);
  });
});

describe('performance', () => {
  it('renders a large config of plain and path strings quickly', () => {
    const config = {
      items: Array.from({ length: 5000 }, (_, i) => ({
        plain: `value ${i}`,
        ref: '${Webhook::Body.order.id}',
      })),
    };
    const started = performance.now();
    for (let k = 0; k < 10; k++) renderDeepSync(config, ctx);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('the loop and error roots', () => {
  const inLoop: TemplateContext = {
    ...ctx,
    loop: { item: { sku: 'A', qty: 2 }, index: 3, parent: { item: 'outer', index: 0 } },
    error: { message: 'boom', node_id: 'http_1' },
  };
  it('paths and JSONata both see ${loop.*} and ${error.*}', async () => {
    expect(await render('${loop.item.sku}#${loop.index}', inLoop)).toBe('A#3');
    expect(await render('${= loop.item.qty * 10 + loop.index}', inLoop)).toBe(23);
    expect(await render('${= loop.parent.item}', inLoop)).toBe('outer');
    expect(await render('${= error.node_id & ": " & error.message}', inLoop)).toBe('http_1: boom');
  });
  it('accepts loop and error as roots on save', () => {
    expect(validateTemplatesDeep({ a: '${loop.item.sku}', b: '${error.message}' })).toEqual([]);
  });
});
