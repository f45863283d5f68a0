/**
 * The canvas's **Run** (docs/api.md §3.1 `POST /flows/:id/run`): a JSON editor for the request a
 * trigger should have received, prefilled from the trigger's captured sample or the last run it
 * started (else an empty POST), and a picker when the flow has several triggers. It runs the
 * live version of the flow; with unsaved changes or a draft it says so (the draft's test URL runs
 * the draft). Invalid
 * JSON is shown and disables Run; the API's refusal (a missing parameter, say) is shown here.
 */
import { useEffect, useId, useState } from 'react';
import { type Api, ApiError, errorText, type Page } from '../api.ts';
import { Dialog } from '../Dialog.tsx';
import type { Run, RunSummary } from '../runs/model.ts';

export type RunTrigger = { id: string; type: string; methods?: string[] };

/** Headers a request carries by itself: not worth sending again. */
const TRANSPORT_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'accept-encoding',
  'keep-alive',
]);

type Request = { method?: unknown; headers?: unknown; query?: unknown; body?: unknown };

export function RunNowDialog(props: {
  api: Api;
  flowId: string;
  open: boolean;
  /** The saved flow's triggers, in document order (the first is the default). */
  triggers: RunTrigger[];
  /** What the canvas shows that Run does not run: unsaved changes, or a draft. */
  notLive: 'unsaved' | 'draft' | null;
  liveVersion?: number;
  onClose: () => void;
  onStarted: (runId: string) => void;
}) {
  const { api, flowId, open, triggers } = props;
  const [nodeId, setNodeId] = useState<string>('');
  const [text, setText] = useState('');
  const [source, setSource] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const editorId = useId();
  const pickerId = useId();
  const trigger = triggers.find((t) => t.id === nodeId) ?? triggers[0];

  // Opening picks the first trigger again.
  const firstId = triggers[0]?.id ?? '';
  useEffect(() => {
    if (open) setNodeId(firstId);
  }, [open, firstId]);

  // The input, prefilled for the chosen trigger when the dialog opens or another is picked (not
  // when "Save first" brings the saved flow, which would overwrite what was typed).
  const tId = trigger?.id;
  const tType = trigger?.type;
  const tMethods = trigger?.methods?.join(',');
  useEffect(() => {
    if (!open || !tId || !tType) return;
    let live = true;
    setLoading(true);
    setRefusal(null);
    prefill(api, flowId, { id: tId, type: tType, methods: tMethods?.split(',') }).then((p) => {
      if (!live) return;
      setText(JSON.stringify(p.input, null, 2));
      setSource(p.source);
      setLoading(false);
    });
    return () => {
      live = false;
    };
  }, [open, api, flowId, tId, tType, tMethods]);

  let parsed: Record<string, unknown> | null = null;
  let jsonError: string | null = null;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v))
      jsonError = 'The input must be a JSON object: {"method", "headers", "query", "body"}.';
    else parsed = v as Record<string, unknown>;
  } catch (err) {
    jsonError = `Not valid JSON: ${errorText(err)}`;
  }

  const run = async () => {
    if (!parsed || !trigger) return;
    setBusy(true);
    setRefusal(null);
    try {
      const r = await api<{ run_id: string }>('POST', `/flows/${encodeURIComponent(flowId)}/run`, {
        ...parsed,
        node_id: trigger.id,
      });
      props.onStarted(r.run_id);
    } catch (err) {
      setRefusal(refusalText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Run the flow"
      open={open}
      onClose={props.onClose}
      onSubmit={run}
      submitLabel={busy ? 'Starting…' : 'Run'}
      busy={busy || loading || !parsed || !trigger}
    >
      <div className="run-now">
        {triggers.length === 0 ? (
          <p className="form-error">This flow has no trigger to run. Add a Webhook and save.</p>
        ) : (
          <>
            <p className="muted">
              Starts a run as if <code>{trigger?.id}</code> had received this request. The API key you signed
              in with stands in for the webhook's authentication.
            </p>
            {props.notLive && (
              <p className="notice" role="note">
                This flow has {props.notLive === 'unsaved' ? 'unsaved changes' : 'a draft'}: Run uses the{' '}
                <strong>live</strong> version{props.liveVersion ? ` (version ${props.liveVersion})` : ''}. To
                try the draft, save it and call its test URL.
              </p>
            )}
            {triggers.length > 1 && (
              <div className="field">
                <label htmlFor={pickerId}>Trigger</label>
                <select id={pickerId} value={trigger?.id} onChange={(e) => setNodeId(e.target.value)}>
                  {triggers.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.id} ({t.type})
                    </option>
                  ))}
                </select>
              </div>
            )}
            <div className="field">
              <label htmlFor={editorId}>Input (JSON)</label>
              <textarea
                id={editorId}
                className="mono run-now-input"
                rows={14}
                value={loading ? '' : text}
                placeholder={loading ? 'Loading the last input…' : undefined}
                spellCheck={false}
                aria-invalid={jsonError !== null}
                onChange={(e) => {
                  setText(e.target.value);
                  setRefusal(null);
                }}
              />
              {!loading && source && <span className="muted run-now-source">Prefilled from {source}.</span>}
            </div>
            {!loading && jsonError && (
              <p className="form-error" role="alert">
                {jsonError}
              </p>
            )}
            {refusal && (
              <p className="form-error" role="alert">
                Not started: {refusal}
              </p>
            )}
          </>
        )}
      </div>
    </Dialog>
  );
}

/** The API's sentence, with the parameters it names (missing or of the wrong type). */
function refusalText(err: unknown): string {
  const text = errorText(err);
  if (!(err instanceof ApiError)) return text;
  const missing = err.body.missing;
  if (Array.isArray(missing) && missing.length) return `${text}: ${missing.join(', ')}`;
  const invalid = err.body.invalid;
  if (Array.isArray(invalid) && invalid.length)
    return `${text}: ${invalid
      .map(
        (i: { param?: string; expected?: string; got?: string }) =>
          `${i.param} (${i.expected}, got ${i.got})`,
      )
      .join(', ')}`;
  return text;
}

/**
 * What the editor starts with: the trigger's captured sample, else the trigger of the last run it
 * started, else an empty POST (for a webhook; another trigger gets its own default body).
 */
async function prefill(
  api: Api,
  flowId: string,
  trigger: RunTrigger,
): Promise<{ input: Record<string, unknown>; source: string | null }> {
  const flow = encodeURIComponent(flowId);
  const webhook = trigger.type === 'webhook';
  const shape = (r: Request) => {
    const methods = trigger.methods ?? ['POST'];
    const method = typeof r.method === 'string' && methods.includes(r.method) ? r.method : methods[0];
    const headers: Record<string, string> = {};
    if (r.headers && typeof r.headers === 'object')
      for (const [k, v] of Object.entries(r.headers))
        if (!TRANSPORT_HEADERS.has(k.toLowerCase()) && typeof v === 'string') headers[k] = v;
    const query = r.query && typeof r.query === 'object' ? r.query : {};
    return webhook ? { method, headers, query, body: r.body ?? {} } : { body: r.body ?? {} };
  };
  if (webhook) {
    try {
      const s = await api<{ request: Request | null }>(
        'GET',
        `/flows/${flow}/nodes/${encodeURIComponent(trigger.id)}/sample`,
      );
      if (s.request) return { input: shape(s.request), source: 'the sample of this webhook' };
    } catch {
      // No sample: the last run, or the empty request.
    }
  }
  try {
    const runs = await api<Page<RunSummary>>('GET', `/runs?flow_id=${flow}&limit=20`);
    const last = runs.data.find((r) => r.trigger_node_id === trigger.id);
    if (last) {
      const r = await api<Run>('GET', `/runs/${encodeURIComponent(last.id)}`);
      return { input: shape(r.trigger), source: `the last run, ${last.id}` };
    }
  } catch {
    // Runs unavailable: the empty request.
  }
  return {
    input: webhook ? { method: trigger.methods?.[0] ?? 'POST', headers: {}, query: {}, body: {} } : {},
    source: null,
  };
}
