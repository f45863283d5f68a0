/**
 * The one outbound HTTP client (http and webhook_call nodes, deliveries): undici with per-origin
 * keep-alive pools, an SSRF guard, timeouts and a response size cap.
 *
 * The guard runs inside the connection's DNS lookup: every address a name resolves to is
 * classified, and the socket connects to the address that was checked — there is no second lookup
 * an attacker could answer differently (DNS rebinding). IP-literal URLs are checked before the
 * request. Redirects are followed by hand (when asked) so each hop goes through the same guard.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { Agent, type Dispatcher, util as undiciUtil } from 'undici';
import { VERSION } from '../version.ts';
import { type AllowList, classifyAddress, parseAllowList } from './ssrf.ts';

export type OutboundRequest = {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Bytes of response body kept; beyond it the body is cut (`truncated`) or the call fails. */
  maxResponseBytes?: number;
  onOversize?: 'truncate' | 'error';
  /** Redirects to follow (each re-checked); 0 = return the 3xx as is. */
  maxRedirects?: number;
  signal?: AbortSignal;
};

export type OutboundResponse = {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  durationMs: number;
  url: string;
  /** No request was made, and why (a replay run's call that was not recorded, docs/api.md §3.14). */
  error?: string;
};

export type OutboundErrorCode =
  | 'ssrf_refused'
  | 'timeout'
  | 'response_too_large'
  | 'invalid_url'
  | 'connection_failed';

export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export type OutboundClientOptions = {
  allowPrivateTargets?: readonly string[];
  userAgent?: string;
  /** Resolver, injectable for tests of the guard (default: the system resolver). */
  lookup?: typeof dns.lookup;
};

export class OutboundClient {
  private readonly allow: AllowList;
  private readonly agent: Agent;
  readonly userAgent: string;

  constructor(opts: OutboundClientOptions = {}) {
    this.allow = parseAllowList(opts.allowPrivateTargets ?? []);
    this.userAgent = opts.userAgent ?? `Hookflow/${VERSION}`;
    const resolve = opts.lookup ?? dns.lookup;
    const allow = this.allow;
    // net.connect calls this for host names (never for IP literals, which are checked up front).
    const guardedLookup = (
      hostname: string,
      options: dns.LookupOptions,
      callback: (...args: any[]) => void,
    ) => {
      resolve(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err);
        const list = addresses as dns.LookupAddress[];
        for (const a of list) {
          const verdict = classifyAddress(a.address, allow, hostname);
          if (!verdict.allowed)
            return callback(
              new OutboundError('ssrf_refused', `Refused to connect to ${hostname}: ${verdict.reason}`),
            );
        }
        if (options.all) return callback(null, list);
        callback(null, list[0].address, list[0].family);
      });
    };
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connections: 128,
      connect: { lookup: guardedLookup as any, timeout: 10_000 },
    });
  }

  /** Checks a URL without connecting: scheme, and an IP-literal host against the guard. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundError('invalid_url', `"${raw.slice(0, 200)}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new OutboundError('invalid_url', `Only http and https URLs can be called (got ${url.protocol})`);
    if (url.username || url.password)
      throw new OutboundError('invalid_url', 'Put credentials in a credential or header, not in the URL');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const verdict = classifyAddress(host, this.allow);
      if (!verdict.allowed)
        throw new OutboundError('ssrf_refused', `Refused to connect to ${host}: ${verdict.reason}`);
    } else if (/^localhost$|\.localhost$/i.test(host) && !this.allow.hosts.has(host.toLowerCase())) {
      // Resolved by the guard too, but say it plainly without a DNS round trip.
      const verdict = classifyAddress('127.0.0.1', this.allow, host);
      if (!verdict.allowed)
        throw new OutboundError('ssrf_refused', `Refused to connect to ${host}: it is a loopback name`);
    }
    return url;
  }

  async request(req: OutboundRequest): Promise<OutboundResponse> {
    const started = performance.now();
    const timeoutMs = req.timeoutMs ?? 15_000;
    const maxBytes = req.maxResponseBytes ?? 5 * 1024 * 1024;
    let url = this.checkUrl(req.url);
    let method = req.method.toUpperCase();
    let body = req.body;
    let headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(req.headers ?? {}) };
    // One deadline for the whole call (every hop), one timer, cleared at the end.
    const call: CallState = { timedOut: false, aborted: false };
    const timer = setTimeout(() => {
      call.timedOut = true;
      call.abort?.(new OutboundError('timeout', `No answer from ${url.host} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onCallerAbort = () => {
      call.aborted = true;
      call.abort?.(new OutboundError('connection_failed', `The call to ${url.host} was aborted`));
    };
    if (req.signal?.aborted) onCallerAbort();
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      for (let hop = 0; ; hop++) {
        if (call.timedOut || call.aborted)
          throw call.timedOut
            ? new OutboundError('timeout', `No answer from ${url.host} within ${timeoutMs} ms`)
            : new OutboundError('connection_failed', `The call to ${url.host} was aborted`);
        let res: HopResponse;
        try {
          res = await this.hop(url, method, headers, body, timeoutMs, maxBytes, call);
        } catch (err) {
          throw toOutboundError(err, call, timeoutMs, url);
        }
        const location = res.headers.location;
        if (res.status >= 300 && res.status < 400 && location && hop < (req.maxRedirects ?? 0)) {
          const next = new URL(String(location), url);
          url = this.checkUrl(next.toString());
          if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
            const { 'content-type': _ct, 'content-length': _cl, ...rest } = headers;
            headers = rest;
          }
          continue;
        }
        if (res.truncated && req.onOversize === 'error') {
          throw new OutboundError(
            'response_too_large',
            `The response from ${url.host} is larger than ${maxBytes} bytes`,
          );
        }
        return {
          status: res.status,
          headers: res.headers,
          body: res.body,
          truncated: res.truncated,
          durationMs: Math.round(performance.now() - started),
          url: url.toString(),
        };
      }
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /**
   * One request/response through undici's dispatcher with a plain handler: no response stream, no
   * promise per chunk. The body is kept up to `maxBytes`; past it the connection is dropped and the
   * response marked truncated.
   */
  private hop(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    timeoutMs: number,
    maxBytes: number,
    call: CallState,
  ): Promise<HopResponse> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let resHeaders: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const done = (err: unknown, value?: HopResponse) => {
        if (settled) return;
        settled = true;
        call.abort = undefined;
        if (err) reject(err);
        else resolve(value!);
      };
      this.agent.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        {
          onConnect(abort: (err?: Error) => void) {
            if (call.timedOut || call.aborted) abort(new Error('aborted'));
            else call.abort = abort;
          },
          onHeaders(statusCode: number, rawHeaders: Buffer[]) {
            if (statusCode < 200) return true; // 1xx: the real answer follows
            status = statusCode;
            resHeaders = flattenHeaders(undiciUtil.parseHeaders(rawHeaders));
            return true;
          },
          onData(chunk: Buffer) {
            if (settled) return false;
            const room = maxBytes - size;
            if (chunk.length > room) {
              if (room > 0) chunks.push(chunk.subarray(0, room));
              size += Math.max(0, room);
              const abort = call.abort;
              done(null, { status, headers: resHeaders, body: Buffer.concat(chunks, size), truncated: true });
              abort?.(new Error('response body over the limit'));
              return false;
            }
            chunks.push(chunk);
            size += chunk.length;
            return true;
          },
          onComplete() {
            done(null, {
              status,
              headers: resHeaders,
              body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size),
              truncated: false,
            });
          },
          onError(err: Error) {
            done(err);
          },
        } as unknown as Dispatcher.DispatchHandler,
      );
    });
  }

  /**
   * Ends every connection, aborting requests still open. Called at shutdown after the workers have
   * finished or released their work: a call still waiting belongs to a run whose lease was given
   * back (it will be made again elsewhere), and waiting for it could outlast the shutdown limit.
   */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

type CallState = { timedOut: boolean; aborted: boolean; abort?: (err?: Error) => void };
type HopResponse = { status: number; headers: Record<string, string>; body: Buffer; truncated: boolean };

function toOutboundError(err: unknown, call: CallState, timeoutMs: number, url: URL): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as { code?: string; message?: string; cause?: unknown; name?: string };
  if (e?.cause instanceof OutboundError) return e.cause;
  if (
    call.timedOut ||
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return new OutboundError('timeout', `No answer from ${url.host} within ${timeoutMs} ms`);
  const detail = e?.code ?? (e?.cause as { code?: string })?.code ?? e?.message ?? 'error';
  return new OutboundError('connection_failed', `Could not reach ${url.host}: ${detail}`);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
