/** Flows: list, search (name, id or a pasted hook URL), enable/disable, copy URL, add, delete. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { type Api, errorText, type Flow, type Page } from '../api.ts';
import { useBusyIds } from '../busy.ts';
import { copyText } from '../clipboard.ts';
import { DeleteDialog, Dialog } from '../Dialog.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useToast } from '../toasts.tsx';

const PAGE_SIZE = 50;

/** The smallest flow that does something: one webhook trigger that acknowledges every POST. */
function newFlowDocument(name: string) {
  return {
    name,
    enabled: true,
    nodes: [
      {
        id: 'webhook_1',
        type: 'webhook',
        position: { x: 0, y: 0 },
        config: { methods: ['POST'], auth: { type: 'none' }, response: { mode: 'ack' } },
      },
    ],
    edges: [],
  };
}

export function FlowsPage({ api }: { api: Api }) {
  const toast = useToast();
  const [search, setSearch] = useState('');
  const [flows, setFlows] = useState<Flow[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busyIds, markBusy] = useBusyIds();
  const [adding, setAdding] = useState(false);
  const [newName, setNewName] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const [addBusy, setAddBusy] = useState(false);
  const [deleting, setDeleting] = useState<Flow | null>(null);
  // Only the answer to the newest request is shown (typing fires one request per pause).
  const requestSeq = useRef(0);

  const load = useCallback(
    async (query: string, cursor?: string) => {
      const seq = ++requestSeq.current;
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (query.trim()) params.set('search', query.trim());
      if (cursor) params.set('cursor', cursor);
      try {
        const page = await api<Page<Flow>>('GET', `/flows?${params}`);
        if (seq !== requestSeq.current) return;
        setFlows((prev) => (cursor && prev ? [...prev, ...page.data] : page.data));
        setNextCursor(page.next_cursor);
        setLoadError(null);
      } catch (err) {
        if (seq === requestSeq.current) setLoadError(errorText(err));
      }
    },
    [api],
  );

  useEffect(() => {
    const t = setTimeout(() => load(search), search ? 250 : 0);
    return () => clearTimeout(t);
  }, [search, load]);

  const toggle = async (flow: Flow) => {
    markBusy(flow.id, true);
    try {
      const updated = await api<Flow>('PATCH', `/flows/${encodeURIComponent(flow.id)}`, {
        enabled: !flow.enabled,
      });
      setFlows((all) => all?.map((f) => (f.id === flow.id ? updated : f)) ?? null);
      toast.success(`“${updated.name}” ${updated.enabled ? 'enabled' : 'disabled'}`);
    } catch (err) {
      toast.error(`Could not change “${flow.name}”: ${errorText(err)}`);
    } finally {
      markBusy(flow.id, false);
    }
  };

  const copy = async (url: string) => {
    if (await copyText(url)) toast.success(`Copied ${url}`);
    else toast.error('The browser did not allow copying; select the URL and copy it by hand');
  };

  const openAdd = () => {
    setNewName('');
    setAddError(null);
    setAdding(true);
  };
  const add = async () => {
    const name = newName.trim();
    if (!name) return setAddError('Give the flow a name');
    setAddBusy(true);
    try {
      const created = await api<Flow>('POST', '/flows', newFlowDocument(name));
      setAdding(false);
      toast.success(`Flow “${created.name}” created`);
      if (search) setSearch('');
      else await load('');
    } catch (err) {
      setAddError(errorText(err));
    } finally {
      setAddBusy(false);
    }
  };

  return (
    <section aria-labelledby="flows-title">
      <header className="page-header">
        <div>
          <h1 id="flows-title">Flows</h1>
          <p className="muted">
            Each flow starts from its webhook URL or its schedule. A disabled flow refuses its webhooks and
            starts no run.
          </p>
        </div>
        <button type="button" className="button button-primary" onClick={openAdd}>
          Add flow
        </button>
      </header>

      <div className="toolbar">
        <input
          type="search"
          className="search"
          aria-label="Search flows"
          placeholder="Search by name or id, or paste a webhook URL"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>

      {loadError && (
        <div className="banner banner-error" role="alert">
          <span>Could not load flows: {loadError}</span>
          <button type="button" className="button" onClick={() => load(search)}>
            Try again
          </button>
        </div>
      )}

      {flows === null && !loadError && <p className="muted">Loading flows…</p>}

      {flows !== null && flows.length === 0 && (
        <div className="empty">
          {search.trim() ? (
            <>
              <h2>No flow matches “{search.trim()}”</h2>
              <p className="muted">Search looks at names and ids; a pasted webhook URL finds its flow.</p>
            </>
          ) : (
            <>
              <h2>No flows yet</h2>
              <p className="muted">A flow gets a webhook URL; every request to it starts a run.</p>
              <button type="button" className="button button-primary" onClick={openAdd}>
                Add your first flow
              </button>
            </>
          )}
        </div>
      )}

      {flows !== null && flows.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Flows">
            <thead>
              <tr>
                <th>Name</th>
                <th>ID</th>
                <th>Enabled</th>
                <th>Trigger</th>
                <th>Created</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {flows.map((f) => (
                <tr key={f.id} data-flow-id={f.id}>
                  <td className="cell-name">
                    <Link to={`/flows/${encodeURIComponent(f.id)}`}>{f.name}</Link>
                  </td>
                  <td>
                    <code>{f.id}</code>
                  </td>
                  <td>
                    <label className="switch">
                      <input
                        type="checkbox"
                        role="switch"
                        aria-checked={f.enabled}
                        aria-label={`Enabled: ${f.name}`}
                        checked={f.enabled}
                        disabled={busyIds.has(f.id)}
                        onChange={() => toggle(f)}
                      />
                      <span className="switch-track" aria-hidden="true" />
                      <span className="switch-text">{f.enabled ? 'On' : 'Off'}</span>
                    </label>
                  </td>
                  <td>
                    {f.webhooks.length === 0 && !f.schedules?.length && (
                      <span className="muted">No webhook node</span>
                    )}
                    {f.schedules?.map((sc) => (
                      <div
                        key={sc.node_id}
                        className="url-cell"
                        title={sc.next_runs[0] ? `Next run ${sc.next_runs[0]}` : undefined}
                      >
                        <span>
                          Schedule <code>{sc.cron}</code>
                          {sc.timezone !== 'UTC' && <span className="muted"> {sc.timezone}</span>}
                          {sc.next_runs[0] && (
                            <span className="muted"> · next {formatTime(sc.next_runs[0])}</span>
                          )}
                        </span>
                      </div>
                    ))}
                    {f.webhooks.map((w) => (
                      <div key={w.node_id} className="url-cell">
                        <code className="url" title={w.url}>
                          {w.url}
                        </code>
                        <button
                          type="button"
                          className="button button-small"
                          aria-label={`Copy URL of ${f.name}${f.webhooks.length > 1 ? ` (${w.node_id})` : ''}`}
                          onClick={() => copy(w.url)}
                        >
                          Copy
                        </button>
                      </div>
                    ))}
                  </td>
                  <td className="cell-time">{formatTime(f.created_at)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="button button-small button-danger-quiet"
                      aria-label={`Delete ${f.name}`}
                      onClick={() => setDeleting(f)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {nextCursor && flows && flows.length > 0 && (
        <div className="more">
          <button type="button" className="button" onClick={() => load(search, nextCursor)}>
            Show more
          </button>
        </div>
      )}

      <Dialog
        title="Add flow"
        open={adding}
        onClose={() => setAdding(false)}
        onSubmit={add}
        submitLabel={addBusy ? 'Creating…' : 'Create flow'}
        busy={addBusy}
      >
        <p className="muted">The flow starts with one webhook trigger that accepts POST requests.</p>
        <label className="field">
          <span>Name</span>
          <input name="flow-name" autoFocus value={newName} onChange={(e) => setNewName(e.target.value)} />
        </label>
        {addError && (
          <p className="form-error" role="alert">
            {addError}
          </p>
        )}
      </Dialog>

      <DeleteDialog
        api={api}
        noun="flow"
        item={deleting}
        path={(f) => `/flows/${encodeURIComponent(f.id)}`}
        onClose={() => setDeleting(null)}
        onDeleted={(flow) => setFlows((all) => all?.filter((f) => f.id !== flow.id) ?? null)}
      >
        {() => 'Its webhook URL stops working at once. Its runs are kept.'}
      </DeleteDialog>
    </section>
  );
}
