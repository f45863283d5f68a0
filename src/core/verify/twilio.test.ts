import { parse as parseQuery } from 'node:querystring';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request, signedSchemeCases } from './testing.ts';
import { portVariants } from './twilio.ts';

const TOKEN = '12345abcdef67890twilioauthtoken';
const URL_ = 'https://hooks.example.com/hooks/default/flow_sms?channel=sms';
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const BODY =
  'AccountSid=AC0123456789abcdef&Body=Hello+w%C3%B6rld%21+%E2%9C%93&From=%2B14155550100' +
  '&MessageSid=SM0123456789&To=%2B14155550199';

/** The signature header as Twilio sends it, computed by twilio's own library. */
const twilioSign = (token: string, url: string, body: string) => ({
  'x-twilio-signature': twilio.getExpectedTwilioSignature(
    token,
    url,
    parseQuery(body) as Record<string, string>,
  ),
});

const verify = (
  headers: Record<string, string | string[] | undefined>,
  opts: { body?: string; url?: string; token?: string; contentType?: string } = {},
) =>
  verifyRequest(
    'twilio',
    { auth_token: opts.token ?? TOKEN },
    request({
      headers: { 'content-type': opts.contentType ?? FORM, ...headers },
      body: opts.body ?? BODY,
      url: 'url' in opts ? opts.url : URL_,
    }),
  );

/** What twilio's validateRequest says about the same request (form bodies). */
const twilioSays = (header: string, url: string, body: string, token = TOKEN) =>
  twilio.validateRequest(token, header, url, parseQuery(body) as Record<string, string>);

describe('twilio verifier', () => {
  signedSchemeCases({
    type: 'twilio',
    data: { auth_token: TOKEN },
    header: 'X-Twilio-Signature',
    body: BODY,
    sign: (data, body) => twilioSign(data.auth_token, URL_, body),
    input: { url: URL_, headers: { 'content-type': FORM } },
    malformed: ['!!!!', Buffer.alloc(32).toString('base64'), 'a'.repeat(40)],
  });

  it("accepts what twilio's getExpectedTwilioSignature signs, in agreement with validateRequest", () => {
    const header = twilioSign(TOKEN, URL_, BODY)['x-twilio-signature'];
    expect(twilioSays(header, URL_, BODY)).toBe(true);
    expectAccepted(verify({ 'x-twilio-signature': header }));
  });

  it('signs the parameters sorted by name, a repeated name once per distinct value (as twilio does)', () => {
    const body = 'To=%2B1555&MediaUrl1=b&MediaUrl0=z&MediaUrl0=a&MediaUrl0=z&Body=';
    const header = twilioSign(TOKEN, URL_, body)['x-twilio-signature'];
    expect(twilioSays(header, URL_, body)).toBe(true);
    expectAccepted(verify({ 'x-twilio-signature': header }, { body }));
    // the order of the parameters in the body does not matter to the signature …
    const reordered = 'MediaUrl0=a&Body=&MediaUrl0=z&MediaUrl1=b&To=%2B1555';
    expect(twilioSays(header, URL_, reordered)).toBe(true);
    expectAccepted(verify({ 'x-twilio-signature': header }, { body: reordered }));
    // … but every name and value does
    for (const changed of [body.replace('z', 'y'), `${body}&Extra=1`, body.replace('&Body=', '')]) {
      expect(twilioSays(header, URL_, changed)).toBe(false);
      expectRejected(verify({ 'x-twilio-signature': header }, { body: changed }), 'Signature does not match');
    }
  });

  it('signs the full URL: another path, query or host does not verify', () => {
    const header = twilioSign(TOKEN, URL_, BODY)['x-twilio-signature'];
    for (const url of [
      URL_.replace('flow_sms', 'flow_other'),
      URL_.replace('?channel=sms', ''),
      URL_.replace('https:', 'http:'),
      URL_.replace('hooks.example.com', 'evil.example.com'),
    ]) {
      expect(twilioSays(header, url, BODY)).toBe(false);
      expectRejected(verify({ 'x-twilio-signature': header }, { url }), 'Signature does not match');
    }
  });

  it('accepts the URL with or without its port, as validateRequest does', () => {
    const withPort = URL_.replace('.com/', '.com:443/');
    for (const [signedUrl, receivedUrl] of [
      [withPort, URL_],
      [URL_, withPort],
      // received on a non-default port, signed without it
      ['http://hooks.example.com/h?x=1', 'http://hooks.example.com:8080/h?x=1'],
    ]) {
      const header = twilioSign(TOKEN, signedUrl, BODY)['x-twilio-signature'];
      expect(twilioSays(header, receivedUrl, BODY)).toBe(true);
      expectAccepted(verify({ 'x-twilio-signature': header }, { url: receivedUrl }));
    }
    expect(portVariants('https://h.example/p?q=1')).toEqual([
      'https://h.example/p?q=1',
      'https://h.example:443/p?q=1',
    ]);
    expect(portVariants('http://[::1]:8787/p')).toEqual(['http://[::1]:8787/p', 'http://[::1]/p']);
    expect(portVariants('http://h.example')).toEqual(['http://h.example', 'http://h.example:80']);
    // a port that is neither the received one nor the default is not accepted (nor by twilio)
    const on8080 = twilioSign(TOKEN, 'http://hooks.example.com:8080/h', BODY)['x-twilio-signature'];
    expect(twilioSays(on8080, 'http://hooks.example.com/h', BODY)).toBe(false);
    expectRejected(verify({ 'x-twilio-signature': on8080 }, { url: 'http://hooks.example.com/h' }));
    // an http URL with :443 is not the https one
    const header = twilioSign(TOKEN, 'https://hooks.example.com/h', BODY)['x-twilio-signature'];
    expectRejected(verify({ 'x-twilio-signature': header }, { url: 'http://hooks.example.com:443/h' }));
  });

  describe('a JSON body, covered by bodySHA256 in the URL', () => {
    const json = JSON.stringify({
      event: 'com.twilio.messaging.message.delivered',
      data: { to: '+1555', n: 1 },
    });
    const url = `${URL_}&bodySHA256=${twilio.getExpectedBodyHash(json)}`;
    const header = twilio.getExpectedTwilioSignature(TOKEN, url, {});
    const sendJson = (body: string, u = url, h = header) =>
      verify({ 'x-twilio-signature': h }, { body, url: u, contentType: 'application/json' });

    it('accepts the signed URL with the hash of the body, as validateRequestWithBody does', () => {
      expect(twilio.validateRequestWithBody(TOKEN, header, url, json)).toBe(true);
      expectAccepted(sendJson(json));
    });

    it('rejects a tampered body (the hash no longer matches) and a tampered hash (the signature no longer does)', () => {
      const tampered = json.replace('"n":1', '"n":2');
      expect(twilio.validateRequestWithBody(TOKEN, header, url, tampered)).toBe(false);
      expectRejected(sendJson(tampered), 'bodySHA256 does not match the body');
      const rehashed = `${URL_}&bodySHA256=${twilio.getExpectedBodyHash(tampered)}`;
      expect(twilio.validateRequestWithBody(TOKEN, header, rehashed, tampered)).toBe(false);
      expectRejected(sendJson(tampered, rehashed), 'Signature does not match');
      expectRejected(sendJson(json, `${URL_}&bodySHA256=nothex`), 'bodySHA256 does not match the body');
      expectRejected(
        sendJson(json, `${url}&bodySHA256=${twilio.getExpectedBodyHash(json)}`),
        /Multiple bodySHA256/,
      );
    });

    it('rejects another secret and a body no signature covers', () => {
      const other = twilio.getExpectedTwilioSignature('another-token', url, {});
      expectRejected(sendJson(json, url, other), 'Signature does not match', [TOKEN]);
      // a URL-only signature does not vouch for a JSON body without bodySHA256
      const urlOnly = twilio.getExpectedTwilioSignature(TOKEN, URL_, {});
      expectRejected(sendJson(json, URL_, urlOnly), /bodySHA256/);
    });
  });

  it('accepts an empty body signed over the URL alone', () => {
    const header = twilio.getExpectedTwilioSignature(TOKEN, URL_, {});
    expectAccepted(verify({ 'x-twilio-signature': header }, { body: '', contentType: 'text/plain' }));
  });

  it('fails with a clear reason when the request URL is not known or not a URL', () => {
    const headers = twilioSign(TOKEN, URL_, BODY);
    expectRejected(verify(headers, { url: undefined }), /URL.*not known/);
    expectRejected(verify(headers, { url: '' }), /URL.*not known/);
    expectRejected(verify(headers, { url: '/hooks/default/flow_sms' }), /not a valid absolute URL/);
  });
});
