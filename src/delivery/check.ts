/**
 * POST /api/v1/endpoints/check (docs/api.md §5.3), the UI's green tick: sends one signed `ping` envelope to
 * a URL the way a delivery would (Standard Webhooks headers, custom headers, auth, the SSRF-guarded
 * client, 15 s timeout) and reports `{ok, status, latency_ms, error}`. A failure to reach the
 * target — refused by the guard, timed out, connection failed — is a result (ok: false with the
 * reason), not an error of this API.
 *
 * Redirects are not followed: a 3xx is reported as not ok, so the check never connects anywhere
 * but the URL it was given (and the operator learns to configure the final URL, since deliveries
 * do not follow redirects either).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import { buildEndpointRequest } from './endpoints/outbound.ts';
import { authSchema as endpointAuthSchema, headersSchema, urlSchema } from './endpoints/schema.ts';
import {
  EndpointCredentialError,
  type EndpointForSending,
  loadEndpointForSending,
  newSigningSecret,
  type ResolvedEndpointAuth,
  resolveCredentialAuth,
} from './endpoints/store.ts';
import { type OutboundClient, OutboundError } from './httpClient.ts';

export const CHECK_TIMEOUT_MS = 15_000;
const CHECK_MAX_RESPONSE_BYTES = 4096;

export type EndpointCheckResult = {
  /** The target answered 2xx. */
  ok: boolean;
  /** The HTTP status, or null when there was no answer. */
  status: number | null;
  latency_ms: number;
  /** Why there was no answer (or why a 3xx is not ok); null otherwise. */
  error: string | null;
};

export type EndpointCheckDeps = { database: Database; secretKey: Buffer; client: OutboundClient };

/** The same rules as endpoint creation: URL syntax, custom headers, inline or credential auth. */
const authSchema = endpointAuthSchema(true);

const checkBody = z
  .object({
    url: urlSchema,
    method: z.enum(['POST', 'PUT', 'PATCH']).optional(),
    auth: authSchema.optional(),
    headers: headersSchema.optional(),
    /** Sign with this endpoint's secrets; method, auth and headers not given are the endpoint's. */
    endpoint_id: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

type AuthBody = z.output<typeof authSchema>;

/** The auth as sent: inline as given, or resolved from the credential (a bad reference is a 400). */
async function resolveAuthBody(
  deps: EndpointCheckDeps,
  tenantId: string,
  auth: AuthBody,
): Promise<ResolvedEndpointAuth> {
  if (auth.type === 'none') return { type: 'none' };
  if (auth.credential_id !== undefined) {
    try {
      return await resolveCredentialAuth(
        deps.database,
        deps.secretKey,
        tenantId,
        auth.type,
        auth.credential_id,
      );
    } catch (err) {
      if (!(err instanceof EndpointCredentialError)) throw err;
      throw new HttpError(400, 'invalid_request', `Invalid body: auth.credential_id: ${err.message}`, {
        errors: [{ field: 'auth.credential_id', msg: err.message }],
      });
    }
  }
  // The schema guarantees the inline fields when there is no credential_id.
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username!, password: auth.password! };
    case 'api_key':
      return { type: 'api_key', in: 'header', name: auth.header!, value: auth.value! };
    case 'bearer':
      return { type: 'bearer', token: auth.token! };
  }
}

/** The result when the ping could not be sent or got no answer. */
const unanswered = (error: string, latencyMs: number): EndpointCheckResult => ({
  ok: false,
  status: null,
  latency_ms: latencyMs,
  error,
});

/**
 * Registers POST /api/v1/endpoints/check. Not for deliveries: nothing is recorded, retried or
 * rate-limited, and the endpoint's body template is not used (the ping is always the envelope).
 */
export function registerEndpointCheckRoute(
  app: FastifyInstance,
  docs: ApiDocs,
  deps: EndpointCheckDeps,
): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints/check',
      summary: 'Send a signed ping to a URL and report whether it answered 2xx (not followed: redirects)',
      tag: 'Endpoints',
      body: checkBody,
    },
    async (req): Promise<EndpointCheckResult> => {
      const tenantId = principal(req).tenantId;
      const body = validate(checkBody, req.body);

      let endpoint: EndpointForSending | undefined;
      if (body.endpoint_id !== undefined) {
        try {
          endpoint = await loadEndpointForSending(deps.database, deps.secretKey, tenantId, body.endpoint_id);
        } catch (err) {
          // The endpoint's own credential is gone or changed type: it cannot be sent to as configured.
          if (err instanceof EndpointCredentialError) return unanswered(err.message, 0);
          throw err;
        }
        if (!endpoint) throw notFound('Endpoint');
      }
      const auth = body.auth
        ? await resolveAuthBody(deps, tenantId, body.auth)
        : (endpoint?.auth ?? { type: 'none' as const });

      const now = new Date();
      const payload = JSON.stringify({
        event_time: now.toISOString(),
        event_type: 'ping',
        current_context: { tenant_id: tenantId },
        data: { message: 'Hookflow connectivity check' },
      });
      const { url, headers } = buildEndpointRequest(
        {
          url: body.url,
          headers: body.headers ?? endpoint?.headers ?? {},
          auth,
          // Without an endpoint the signature is still real, with a secret nobody keeps.
          secrets: endpoint?.secrets ?? [newSigningSecret()],
        },
        { id: newId('msg'), timestamp: now, payload },
      );

      const started = performance.now();
      try {
        const res = await deps.client.request({
          method: body.method ?? endpoint?.method ?? 'POST',
          url,
          headers,
          body: payload,
          timeoutMs: CHECK_TIMEOUT_MS,
          maxResponseBytes: CHECK_MAX_RESPONSE_BYTES,
          maxRedirects: 0,
        });
        const redirect = res.status >= 300 && res.status < 400 ? res.headers.location : undefined;
        return {
          ok: res.status >= 200 && res.status < 300,
          status: res.status,
          latency_ms: res.durationMs,
          error:
            redirect === undefined
              ? null
              : `Answered ${res.status}, a redirect to ${redirect.slice(0, 500)}; redirects are not followed — use the final URL`,
        };
      } catch (err) {
        if (err instanceof OutboundError)
          return unanswered(err.message, Math.round(performance.now() - started));
        throw err;
      }
    },
  );
}
