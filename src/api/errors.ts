/**
 * The one error type routes throw: it knows its HTTP status and renders as
 * `{"msg": "<human sentence>", "code": "<stable_code>", ...details}`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(msg);
    this.name = 'HttpError';
  }

  toJSON(): Record<string, unknown> {
    return { msg: this.message, code: this.code, ...this.details };
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const badRequest = (code: string, msg: string, details?: Record<string, unknown>) =>
  new HttpError(400, code, msg, details);
