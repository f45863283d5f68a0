/**
 * The UI's only way to the server: the public /api/v1 with the signed-in key. An error carries the
 * API's own sentence (`msg`), which the screens show as is.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole error body, for details beside msg and code (a flow's `errors`, say). */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type Flow = {
  id: string;
  tenant_id: string;
  name: string;
  enabled: boolean;
  webhooks: { node_id: string; url: string }[];
  /** Each schedule node's cron, zone and next five ticks (none while disabled; docs/api.md §4.8). */
  schedules?: { node_id: string; cron: string; timezone: string; next_runs: string[] }[];
  created_at: string;
  updated_at: string;
};

export type Page<T> = { data: T[]; next_cursor: string | null };

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** A client for one API key; `onUnauthorized` runs when the key stops working (revoked). */
export function createApi(key: string, onUnauthorized?: (msg: string) => void): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network_error', 'Hookflow did not answer; check that it is running');
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed ?? {}) as { msg?: unknown; code?: unknown };
      const msg =
        typeof err.msg === 'string' && err.msg
          ? err.msg
          : `The server answered ${res.status} ${res.statusText}`.trim();
      const apiError = new ApiError(
        res.status,
        typeof err.code === 'string' ? err.code : 'error',
        msg,
        parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {},
      );
      if (res.status === 401) onUnauthorized?.(msg);
      throw apiError;
    }
    return parsed as T;
  };
}

/** Checks a key by asking for one flow: any key may list its own tenant's flows. */
export async function checkKey(key: string): Promise<void> {
  await createApi(key)('GET', '/flows?limit=1');
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
