import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialDataSchemas, STANDARD_WEBHOOKS_TOLERANCE_S, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, NOW_MS, NOW_S, request } from './testing.ts';

// The example secret from the Standard Webhooks spec.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PAYLOAD = '{"type":"order.created","data":{"id":"o_1","note":"Grüße ✓"}}';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';

const sign = (opts: { id?: string; ts?: number; payload?: string; secret?: string } = {}) => ({
  'webhook-id': opts.id ?? MSG_ID,
  'webhook-timestamp': String(opts.ts ?? NOW_S),
  'webhook-signature': new Webhook(opts.secret ?? SECRET).sign(
    opts.id ?? MSG_ID,
    new Date((opts.ts ?? NOW_S) * 1000),
    opts.payload ?? PAYLOAD,
  ),
});

const verify = (
  headers: Record<string, string | string[] | undefined>,
  opts: { body?: string | Buffer; nowMs?: number; secret?: string } = {},
) =>
  verifyRequest(
    'standard_webhooks',
    { secret: opts.secret ?? SECRET },
    request({ headers, body: opts.body ?? PAYLOAD, nowMs: opts.nowMs ?? NOW_MS }),
  );

describe('standard_webhooks verifier', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a request signed with the standardwebhooks package', () => {
    expectAccepted(verify(sign()));
  });

  it('accepts the bare base64 secret as well as whsec_…', () => {
    expectAccepted(verify(sign(), { secret: SECRET.slice('whsec_'.length) }));
  });

  it('agrees with the package verify() on accept and reject (clock pinned to nowMs)', () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW_MS);
    const pkg = new Webhook(SECRET);
    const cases: { headers: Record<string, string>; body: string }[] = [
      { headers: sign(), body: PAYLOAD },
      { headers: sign({ ts: NOW_S - 299 }), body: PAYLOAD },
      { headers: sign({ ts: NOW_S - 400 }), body: PAYLOAD },
      { headers: sign({ ts: NOW_S + 400 }), body: PAYLOAD },
      { headers: sign(), body: PAYLOAD + '\n' },
      { headers: sign({ secret: 'whsec_' + Buffer.from('another key').toString('base64') }), body: PAYLOAD },
      { headers: { ...sign(), 'webhook-id': 'msg_other' }, body: PAYLOAD },
    ];
    for (const c of cases) {
      let pkgOk = true;
      try {
        pkg.verify(c.body, c.headers);
      } catch {
        pkgOk = false;
      }
      expect(verify(c.headers, { body: c.body }).ok).toBe(pkgOk);
    }
  });

  it('accepts timestamps up to 300 s either side of now and rejects beyond', () => {
    expect(STANDARD_WEBHOOKS_TOLERANCE_S).toBe(300);
    expectAccepted(verify(sign({ ts: NOW_S - 300 })));
    expectAccepted(verify(sign({ ts: NOW_S + 300 })));
    expectRejected(verify(sign({ ts: NOW_S - 301 })), /webhook-timestamp.*tolerance/);
    expectRejected(verify(sign({ ts: NOW_S + 301 })), /webhook-timestamp.*tolerance/);
    expectAccepted(verify(sign({ ts: NOW_S - 3600 }), { nowMs: NOW_MS - 3600_000 }));
  });

  it('accepts when any v1 in a space-separated list matches and ignores other versions', () => {
    const good = sign();
    const old = sign({ secret: 'whsec_' + Buffer.from('old key').toString('base64') })['webhook-signature'];
    const v1a = 'v1a,' + Buffer.alloc(64, 7).toString('base64');
    expectAccepted(verify({ ...good, 'webhook-signature': `${v1a} ${old} ${good['webhook-signature']}` }));
    expectRejected(
      verify({ ...good, 'webhook-signature': `${v1a} ${good['webhook-signature'].replace('v1,', 'v2,')}` }),
      /no v1 signature/,
    );
  });

  it('rejects a signature made with the wrong secret without revealing the secret', () => {
    const other = 'whsec_' + Buffer.from('some other secret key').toString('base64');
    expectRejected(verify(sign({ secret: other })), 'No webhook-signature v1 signature matches', [
      SECRET,
      SECRET.slice(6),
    ]);
  });

  it('rejects a tampered body, message id or timestamp', () => {
    const h = sign();
    expectRejected(verify(h, { body: PAYLOAD.replace('o_1', 'o_2') }), /matches/);
    expectRejected(verify({ ...h, 'webhook-id': 'msg_replayed' }), /matches/);
    expectRejected(verify({ ...h, 'webhook-timestamp': String(NOW_S + 1) }), /matches/);
  });

  it('rejects each missing header, naming it', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const h: Record<string, string | undefined> = { ...sign() };
      delete h[name];
      expectRejected(verify(h), `Missing ${name} header`);
      expectRejected(verify({ ...h, [name]: '' }), `Missing ${name} header`);
    }
  });

  it('rejects malformed headers', () => {
    const h = sign();
    expectRejected(verify({ ...h, 'webhook-timestamp': 'yesterday' }), 'Malformed webhook-timestamp header');
    expectRejected(verify({ ...h, 'webhook-timestamp': '-5' }), 'Malformed webhook-timestamp header');
    expectRejected(verify({ ...h, 'webhook-timestamp': '1e9' }), 'Malformed webhook-timestamp header');
    for (const bad of ['garbage', 'v1,', 'v1,!!!not-base64!!!', 'v1', h['webhook-signature'].slice(3)]) {
      expectRejected(verify({ ...h, 'webhook-signature': bad }), /no v1 signature/);
    }
    expectRejected(
      verify({ ...h, 'webhook-signature': 'v1,' + Buffer.alloc(16).toString('base64') }),
      /matches/,
    );
    expectRejected(verify({ ...h, 'webhook-id': [MSG_ID, 'msg_2'] }), /Multiple/);
  });

  describe('svix-* headers (Svix-signed senders such as Clerk)', () => {
    const svixSign = (opts: { ts?: number; payload?: string; secret?: string } = {}) => ({
      'svix-id': MSG_ID,
      'svix-timestamp': String(opts.ts ?? NOW_S),
      'svix-signature': new SvixWebhook(opts.secret ?? SECRET).sign(
        MSG_ID,
        new Date((opts.ts ?? NOW_S) * 1000),
        opts.payload ?? PAYLOAD,
      ),
    });

    it('accepts a request signed with the svix package, in agreement with its verify()', () => {
      vi.useFakeTimers();
      vi.setSystemTime(NOW_MS);
      const h = svixSign();
      expect(new SvixWebhook(SECRET).verify(PAYLOAD, h)).toBeTruthy();
      expectAccepted(verify(h));
    });

    it('rejects another secret, a tampered body, a stale timestamp and a missing header, naming svix-*', () => {
      const other = 'whsec_' + Buffer.from('some other secret key').toString('base64');
      expectRejected(verify(svixSign({ secret: other })), 'No svix-signature v1 signature matches', [SECRET]);
      expectRejected(verify(svixSign(), { body: PAYLOAD.replace('o_1', 'o_2') }), /svix-signature.*matches/);
      expectRejected(verify(svixSign({ ts: NOW_S - 301 })), /svix-timestamp.*tolerance/);
      expectRejected(verify({ ...svixSign(), 'svix-timestamp': 'soon' }), 'Malformed svix-timestamp header');
      for (const name of ['svix-id', 'svix-timestamp', 'svix-signature'] as const) {
        const h: Record<string, string | undefined> = { ...svixSign() };
        delete h[name];
        expectRejected(verify(h), `Missing ${name} header`);
      }
      expectRejected(verify({ ...svixSign(), 'svix-signature': 'v1,!!!' }), /Malformed svix-signature/);
    });

    it('uses webhook-* when any is present and never mixes the two sets', () => {
      const svix = svixSign();
      const std = sign();
      // both complete sets: webhook-* decides (here: valid)
      expectAccepted(verify({ ...svix, ...std }));
      expectAccepted(
        verify({ ...svix, ...std, 'svix-signature': 'v1,' + Buffer.alloc(32).toString('base64') }),
      );
      // a webhook-* set with a wrong signature is not rescued by a good svix-signature
      expectRejected(
        verify({ ...svix, ...std, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') }),
      );
      // one webhook-* header makes the others required under their webhook-* names
      expectRejected(verify({ ...svix, 'webhook-id': MSG_ID }), 'Missing webhook-signature header');
    });
  });

  it('validates credential data: the secret must be base64, optionally prefixed whsec_', () => {
    const s = credentialDataSchemas.standard_webhooks;
    expect(s.safeParse({ secret: SECRET }).success).toBe(true);
    expect(s.safeParse({ secret: SECRET.slice(6) }).success).toBe(true);
    expect(s.safeParse({ secret: 'whsec_' }).success).toBe(false);
    expect(s.safeParse({ secret: 'whsec_not base64!' }).success).toBe(false);
    expect(s.safeParse({ secret: '' }).success).toBe(false);
  });
});
