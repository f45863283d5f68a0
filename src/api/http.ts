/** Small helpers shared by the /api/v1 routes: input validation, pagination, OpenAPI registration. */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../tenants/store.ts';
import { HttpError } from './errors.ts';

/** Validates input with a zod schema; a failure is one 400 listing every problem by field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.output<T> {
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ field: i.path.join('.') || where, msg: i.message }));
  const first = errors[0];
  throw new HttpError(
    400,
    'invalid_request',
    `Invalid ${where}: ${first.field === where ? '' : `${first.field}: `}${first.msg}`,
    {
      errors,
    },
  );
}

export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

export function principal(request: FastifyRequest): Principal {
  const p = (request as FastifyRequest & { principal?: Principal }).principal;
  if (!p) throw new HttpError(401, 'unauthorized', 'Missing or invalid API key');
  return p;
}

export type RouteDoc = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Status of success (default 200). */
  status?: number;
};

export class ApiDocs {
  readonly routes: RouteDoc[] = [];

  /** Registers a route on the app and describes it in the OpenAPI document. */
  route(
    app: FastifyInstance,
    doc: RouteDoc,
    handler: (request: FastifyRequest<any>, reply: FastifyReply) => Promise<unknown>,
  ): void {
    this.routes.push(doc);
    app.route({ method: doc.method, url: doc.url, handler: handler as RouteHandlerMethod });
  }

  document(publicUrl: string, version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const query = r.query ? toJsonSchema(r.query) : undefined;
      const queryParams = query?.properties
        ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({
            name,
            in: 'query',
            required: false,
            schema,
          }))
        : [];
      paths[path] ??= {};
      paths[path][r.method.toLowerCase()] = {
        summary: r.summary,
        tags: [r.tag],
        parameters: [...params, ...queryParams],
        ...(r.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: toJsonSchema(r.body) } },
              },
            }
          : {}),
        responses: {
          [String(r.status ?? 200)]: { description: 'Success', content: { 'application/json': {} } },
          '4XX': {
            description: 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
        security: [{ bearer: [] }],
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Hookflow API',
        version,
        description:
          'Management API of Hookflow. Authenticate with `Authorization: Bearer <api key>`. Errors are `{"msg", "code"}`.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: {
          Error: {
            type: 'object',
            required: ['msg', 'code'],
            properties: { msg: { type: 'string' }, code: { type: 'string' } },
          },
        },
      },
      paths,
    };
  }
}

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A page of a list ordered by id: the cursor of the next page is the last id, when the page is full. */
export function page<T extends { id: string }>(
  rows: T[],
  limit: number,
): { data: T[]; next_cursor: string | null } {
  return { data: rows, next_cursor: rows.length === limit ? rows[rows.length - 1].id : null };
}
