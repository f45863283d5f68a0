/**
 * A flow's history beside its canvas: its versions newest first (GET /flows/:id/versions, paged),
 * the live one marked, and the draft above them when there is one. Each version can be viewed
 * (read-only) or restored (asked first); any two can be compared side by side.
 */
import './versions.css';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { type Api, errorText, type Flow, type Page } from '../api.ts';
import { Dialog, Drawer } from '../Dialog.tsx';
import { formatTime } from '../format.ts';
import { navigate } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import { compareUrl, type Side, sideLabel, type VersionSummary, versionUrl } from './model.ts';

const PAGE_SIZE = 50;

export function HistoryDrawer(props: {
  api: Api;
  flowId: string;
  open: boolean;
  onClose: () => void;
  /** The version serving traffic. */
  liveVersion: number;
  draft: { revision: number; base_version: number } | null;
  /** Unsaved changes on the canvas (a restore reloads it). */
  dirty: boolean;
  onRestored: (flow: Flow & { version: number }) => void;
}) {
  const { api, flowId, open, liveVersion } = props;
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<Side[]>([]);
  const [restoring, setRestoring] = useState<number | null>(null);
  const base = `/flows/${encodeURIComponent(flowId)}/versions`;

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api<Page<VersionSummary>>(
          'GET',
          `${base}?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        setVersions((prev) => (cursor && prev ? [...prev, ...page.data] : page.data));
        setNextCursor(page.next_cursor);
        setError(null);
      } catch (err) {
        setError(errorText(err));
      }
    },
    [api, base],
  );

  // Read again each time it opens (a restore closes it).
  useEffect(() => {
    if (!open) return;
    setPicked([]);
    load();
  }, [open, load]);

  // Two at most: a third replaces the older pick.
  const toggle = (s: Side) =>
    setPicked((p) => (p.includes(s) ? p.filter((x) => x !== s) : [...p, s].slice(-2)));

  const row = (side: Side, body: ReactNode, actions: ReactNode) => (
    <li key={side} className="history-item" data-version={side}>
      <label className="history-pick">
        <input
          type="checkbox"
          checked={picked.includes(side)}
          onChange={() => toggle(side)}
          aria-label={`Pick ${sideLabel(side).toLowerCase()} to compare`}
        />
      </label>
      <div className="history-text">{body}</div>
      <div className="history-actions">{actions}</div>
    </li>
  );

  return (
    <Drawer title="History" open={open} onClose={props.onClose}>
      <p className="muted">
        Every publish, restore and change of the live flow is a version. Pick two to compare them.
      </p>
      <div className="history-compare">
        <button
          type="button"
          className="button button-primary button-small"
          disabled={picked.length !== 2}
          onClick={() => navigate(compareUrl(flowId, picked[0], picked[1]))}
        >
          Compare
        </button>
        <span className="muted">
          {picked.length === 2 ? picked.map(sideLabel).join(' and ') : `${picked.length} of 2 picked`}
        </span>
      </div>
      {error && (
        <div className="banner banner-error" role="alert">
          <span>Could not load the versions: {error}</span>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}
      {versions === null && !error && <p className="muted">Loading the versions…</p>}
      {versions && (
        <ul className="history" aria-label="Versions">
          {props.draft &&
            row(
              'draft',
              <>
                <strong>Draft</strong> <span className="badge badge-warn">unpublished</span>
                <div className="muted">
                  revision {props.draft.revision}, based on version {props.draft.base_version}
                </div>
              </>,
              <button
                type="button"
                className="button button-small"
                onClick={() => navigate(compareUrl(flowId, liveVersion, 'draft'))}
              >
                Compare with live
              </button>,
            )}
          {versions.map((v) =>
            row(
              v.version,
              <>
                <strong>Version {v.version}</strong>{' '}
                {v.version === liveVersion && <span className="badge">live</span>}
                <div className="muted">
                  {formatTime(v.created_at)}
                  {v.created_by ? ` · ${v.created_by}` : ''}
                </div>
                {v.note && <div className="history-note">{v.note}</div>}
              </>,
              <>
                <button
                  type="button"
                  className="button button-small"
                  aria-label={`View version ${v.version}`}
                  onClick={() => navigate(versionUrl(flowId, v.version))}
                >
                  View
                </button>
                {v.version !== liveVersion && (
                  <button
                    type="button"
                    className="button button-small"
                    aria-label={`Restore version ${v.version}`}
                    onClick={() => setRestoring(v.version)}
                  >
                    Restore
                  </button>
                )}
              </>,
            ),
          )}
        </ul>
      )}
      {nextCursor && (
        <div className="more">
          <button type="button" className="button button-small" onClick={() => load(nextCursor)}>
            Load more
          </button>
        </div>
      )}
      <RestoreDialog
        api={api}
        flowId={flowId}
        version={restoring}
        hasDraft={props.draft !== null}
        dirty={props.dirty}
        onClose={() => setRestoring(null)}
        onRestored={(f) => {
          setRestoring(null);
          props.onRestored(f);
        }}
      />
    </Drawer>
  );
}

/** "Restore version n?" with POST …/versions/:n/restore behind it. */
export function RestoreDialog(props: {
  api: Api;
  flowId: string;
  version: number | null;
  hasDraft: boolean;
  dirty: boolean;
  onClose: () => void;
  onRestored: (flow: Flow & { version: number }) => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const { version } = props;
  const restore = async () => {
    if (version === null) return;
    setBusy(true);
    try {
      const f = await props.api<Flow & { version: number }>(
        'POST',
        `/flows/${encodeURIComponent(props.flowId)}/versions/${version}/restore`,
      );
      toast.success(`Version ${version} restored as version ${f.version}`);
      props.onRestored(f);
    } catch (err) {
      toast.error(`Could not restore version ${version}: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Restore version ${version ?? ''}`}
      open={version !== null}
      onClose={props.onClose}
      onSubmit={restore}
      submitLabel={busy ? 'Restoring…' : `Restore version ${version}`}
      busy={busy}
    >
      <p>
        Version {version} is saved again as the next version and serves traffic at once; the versions after it
        are kept.
        {props.hasDraft ? ' The draft stays as it is.' : ''}
        {props.dirty ? ' The canvas has unsaved changes: they are lost.' : ''}
      </p>
    </Dialog>
  );
}
