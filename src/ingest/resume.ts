/**
 * The resume URL of a wait node, `/resume/{run_id}/{node_id}/{token}` (docs/api.md §4.7): any
 * method. The token is checked (constant time) before anything is read; the call is stored before
 * it is answered, one per run and node, and wakes the run. Answers: the wait node's configured
 * response; `409 already_resumed` for a second call; `409 run_finished` / `wait_timed_out` when
 * the run no longer waits; `404 resume_not_found` for a wrong token, run or node.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseBody } from '../core/body.ts';
import { checkResumeToken } from '../core/crypto.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { getRunForResume, type ResumeRequest, storeResume } from '../flows/runsStore.ts';
import { type WaitResponse, waitResponseSchema } from '../nodes/wait/index.ts';
import {
  type Answer,
  BodyReader,
  checkStorableQuery,
  problem,
  ROUTE_METHODS,
  tooLarge,
  withHeader,
} from './route.ts';

export type ResumeDeps = { database: Database; secretKey: Buffer; maxBodyBytes: number; now: () => number };

type Params = { run: string; node: string; token: string };

export function registerResumeRoutes(app: FastifyInstance, deps: ResumeDeps): void {
  app.register(async (scope) => {
    // Bodies are read by hand, like the inbound endpoint's: the size limit applies while streaming.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.route({
      method: [...ROUTE_METHODS],
      url: '/resume/:run/:node/:token',
      handler: async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
        const answer = await handleResume(request, deps);
        reply.code(answer.status).headers(answer.headers);
        return reply.send(answer.body);
      },
    });
  });
}

const notFound = () => problem(404, 'resume_not_found', 'No run waits at this URL');

async function handleResume(request: FastifyRequest<{ Params: Params }>, deps: ResumeDeps): Promise<Answer> {
  const { run: runId, node: nodeId, token } = request.params;
  const tenantId = checkResumeToken(deps.secretKey, token, runId, nodeId);
  if (!tenantId) return notFound();
  const db = deps.database.db;
  try {
    const run = await getRunForResume(db, tenantId, runId, nodeId);
    if (!run || run.node?.type !== 'wait') return notFound();
    if (run.node_status === 'succeeded')
      return problem(409, 'already_resumed', 'This run was resumed already');
    if (run.node_status === 'failed')
      return problem(409, 'wait_timed_out', 'This wait gave up: no call came in time');
    if (!['queued', 'running'].includes(run.status))
      return problem(409, 'run_finished', `The run has ended (${run.status})`, { status: run.status });

    const raw = await new BodyReader(request.raw, deps.maxBodyBytes).read();
    if (raw === 'too_large') return tooLarge(deps.maxBodyBytes);
    if (raw === 'aborted')
      return problem(400, 'body_incomplete', 'The request body was not received completely');
    const parsed = await parseBody(raw, request.headers['content-type']);
    if (!parsed.ok) return problem(400, parsed.error.code, parsed.error.msg);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const queryProblem = checkStorableQuery(query);
    if (queryProblem) return problem(400, 'invalid_query', queryProblem);

    const call: ResumeRequest = {
      method: request.method,
      headers: { ...request.headers },
      query,
      body: parsed.body.value,
      body_kind: parsed.body.kind,
      received_at: new Date(deps.now()).toISOString(),
    };
    const stored = await storeResume(db, {
      tenantId,
      runId,
      nodeId,
      request: call,
      now: new Date(deps.now()),
    });
    if (!stored) return problem(409, 'already_resumed', 'This run was resumed already');
    const config = waitResponseSchema.safeParse(
      (run.node.config as { response?: unknown } | undefined)?.response ?? {},
    );
    return configuredAnswer(config.success ? config.data : waitResponseSchema.parse({}));
  } catch (err) {
    const code = String((err as { code?: unknown })?.code ?? '');
    if (code === '23503') return notFound(); // the run was removed meanwhile
    if (code.startsWith('22'))
      return problem(400, 'unstorable_request', 'The request contains data that cannot be stored');
    request.log.warn({ err: (err as Error).message, run_id: runId }, 'storing a resume call failed');
    return withHeader(
      problem(
        503,
        isDatabaseUnavailable(err) ? 'database_unavailable' : 'not_stored',
        'The call could not be stored and was not accepted; try again shortly',
      ),
      'retry-after',
      '1',
    );
  }
}

function configuredAnswer(r: WaitResponse): Answer {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers))
    headers[k.toLowerCase()] = String(v).replace(/[\r\n\0]/g, ' ');
  headers['content-type'] = r.content_type.replace(/[\r\n\0]/g, ' ');
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? null);
  return { status: r.status, headers, body: Buffer.from(body) };
}
