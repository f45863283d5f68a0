/**
 * `hookflow flows export <id>` and `hookflow flows apply <file|->` (docs/api.md §3.12): a client of
 * a running Hookflow's API, configured by HOOKFLOW_URL and HOOKFLOW_API_KEY.
 */
import { readFile } from 'node:fs/promises';

export const FLOWS_USAGE = `Usage: hookflow flows export <flow id>      print the flow's portable document
       hookflow flows apply <file | ->       create the flow, or update the one of the same name

Set HOOKFLOW_URL (e.g. http://127.0.0.1:3000) and HOOKFLOW_API_KEY.`;

class CliError extends Error {}

type Client = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

function client(env: NodeJS.ProcessEnv): Client {
  const base = env.HOOKFLOW_URL?.trim();
  const key = env.HOOKFLOW_API_KEY?.trim();
  const missing = [!base && 'HOOKFLOW_URL', !key && 'HOOKFLOW_API_KEY'].filter(Boolean);
  if (missing.length)
    throw new CliError(
      `set ${missing.join(' and ')} (the server's address, e.g. http://127.0.0.1:3000, and an API key)`,
    );
  let url: URL;
  try {
    url = new URL(base!);
  } catch {
    throw new CliError(`HOOKFLOW_URL is not a URL: "${base}"`);
  }
  const root = url.href.replace(/\/+$/, '');
  return async (method, path, body) => {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${root} (${cause?.code ?? cause?.message ?? (err as Error).message})`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the message.
    }
    return { status: res.status, body: parsed };
  };
}

function serverError(r: { status: number; body: any }): CliError {
  const b = r.body;
  const lines = [
    typeof b?.msg === 'string'
      ? `${b.msg} (${r.status} ${b.code ?? ''})`.trim()
      : `HTTP ${r.status}: ${String(b ?? '').slice(0, 500)}`,
  ];
  for (const u of Array.isArray(b?.unresolved) ? b.unresolved : [])
    lines.push(
      `  unresolved ${u.kind} ${u.name === null ? '(unnamed)' : JSON.stringify(u.name)}: ${u.node ? `node ${u.node}, ` : ''}${u.field} (${u.reason})`,
    );
  for (const e of Array.isArray(b?.errors) ? b.errors : [])
    lines.push(`  ${e.node ? `node ${e.node}, ` : ''}${e.field}: ${e.msg}`);
  return new CliError(lines.join('\n'));
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file === '-' ? 'stdin' : file} is not JSON: ${(err as Error).message}`);
  }
}

async function apply(api: Client, file: string): Promise<string> {
  const doc = await readDocument(file);
  const name = (doc as { name?: unknown })?.name;
  if (typeof name !== 'string' || !name)
    throw new CliError(`${file === '-' ? 'stdin' : file} has no flow name ("name")`);
  // The flows of exactly this name (search matches substrings, so filter; follow the pages).
  const same: string[] = [];
  let cursor: string | undefined;
  do {
    const r = await api(
      'GET',
      `/api/v1/flows?limit=100&search=${encodeURIComponent(name)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (r.status !== 200) throw serverError(r);
    for (const f of r.body.data ?? []) if (f.name === name) same.push(f.id);
    cursor = r.body.next_cursor ?? undefined;
  } while (cursor);
  if (same.length > 1)
    throw new CliError(`${same.length} flows are named "${name}" (${same.join(', ')}); rename all but one`);
  const path = same.length
    ? `/api/v1/flows/import?update=${encodeURIComponent(same[0])}`
    : '/api/v1/flows/import';
  const r = await api('POST', path, doc);
  if (r.status !== 200 && r.status !== 201) throw serverError(r);
  return same.length
    ? `updated ${r.body.id} ${JSON.stringify(r.body.name)} (version ${r.body.version})`
    : `created ${r.body.id} ${JSON.stringify(r.body.name)}`;
}

/** Runs `hookflow flows …`; the exit code. */
export async function flowsCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, arg, ...extra] = args;
  if ((sub !== 'export' && sub !== 'apply') || !arg || extra.length) {
    console.error(FLOWS_USAGE);
    return 2;
  }
  try {
    const api = client(env);
    if (sub === 'export') {
      const r = await api('GET', `/api/v1/flows/${encodeURIComponent(arg)}/export`);
      if (r.status !== 200) throw serverError(r);
      process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    } else console.log(await apply(api, arg));
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    console.error(`hookflow: ${err.message}`);
    return 1;
  }
}
