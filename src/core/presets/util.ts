/** Small helpers shared by the presets: request field access and handshake answers. */
import { readHeader, readQuery } from '../verify/util.ts';
import type { HandshakeAnswer, PresetRequest } from './types.ts';

/** A header's single value (several values or none: `undefined`). */
export function header(req: PresetRequest, name: string): string | undefined {
  const v = readHeader(req.headers, name);
  return v.kind === 'value' ? v.value : undefined;
}

/** A query parameter's single value (several values or none: `undefined`). */
export function query(req: PresetRequest, name: string): string | undefined {
  const v = readQuery(req.query, name);
  return v.kind === 'value' ? v.value : undefined;
}

/** A top-level string (or number) field of a JSON object body. */
export function bodyField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, name))
    return undefined;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** A de-duplication key read from the first of `names` the request carries. */
export const headerKey =
  (...names: string[]) =>
  (req: PresetRequest): string | undefined => {
    for (const name of names) {
      const v = header(req, name);
      if (v) return v;
    }
    return undefined;
  };

/** A de-duplication key read from a top-level field of the JSON body. */
export const bodyKey =
  (name: string) =>
  (req: PresetRequest): string | undefined =>
    bodyField(req.body, name) || undefined;

export const text = (value: string, headers?: Record<string, string>): HandshakeAnswer => ({
  status: 200,
  text: value,
  ...(headers ? { headers } : {}),
});

/** A GET handshake that needs the credential, on a node whose credential is missing. */
export const credentialMissing: HandshakeAnswer = {
  status: 401,
  json: { msg: 'The credential this webhook requires is not configured', code: 'unauthorized' },
};

/** A string field of the credential data (empty: `undefined`). */
export function secretOf(credential: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = credential?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}
