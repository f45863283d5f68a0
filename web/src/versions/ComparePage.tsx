/**
 * `/flows/<id>/versions/compare?a=<n|draft>&b=<n|draft>`: two documents of a flow side by side,
 * the older on the left (a draft is newer than every version). Either side can be changed here;
 * the choice stays in the URL so a comparison can be linked to.
 */
import './versions.css';
import { useEffect, useId, useMemo, useState } from 'react';
import { type Api, errorText, type Page } from '../api.ts';
import { diffFlows } from '../canvas/versionDiff.ts';
import { Link } from '../router.tsx';
import { DiffView } from './DiffView.tsx';
import {
  compareUrl,
  type Draft,
  type FlowVersion,
  getDraft,
  parseSide,
  type Side,
  sideLabel,
  type VersionSummary,
} from './model.ts';

type Doc = Pick<FlowVersion, 'name' | 'nodes' | 'edges' | 'settings'> & { enabled?: boolean };

/** Older first: versions by number, the draft last. */
const ordered = (a: Side, b: Side): [Side, Side] =>
  a === 'draft' || (b !== 'draft' && a > b) ? [b, a] : [a, b];

export function ComparePage({ api, flowId }: { api: Api; flowId: string }) {
  const initial = useMemo(() => {
    const q = new URLSearchParams(location.search);
    return { a: parseSide(q.get('a')), b: parseSide(q.get('b')) };
  }, []);
  const [sides, setSides] = useState<{ a: Side | null; b: Side | null }>(initial);
  const [flow, setFlow] = useState<{ name: string; version: number; draft_revision?: number | null } | null>(
    null,
  );
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [docs, setDocs] = useState<{ a: Doc; b: Doc } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pickA = useId();
  const pickB = useId();
  const path = `/flows/${encodeURIComponent(flowId)}`;

  useEffect(() => {
    let live = true;
    Promise.all([
      api<{ name: string; version: number; draft_revision?: number | null }>('GET', path),
      api<Page<VersionSummary>>('GET', `${path}/versions?limit=200`),
    ])
      .then(([f, v]) => {
        if (!live) return;
        setFlow(f);
        setVersions(v.data);
        // Without both sides: the live version against the one before it (or the draft).
        setSides((s) => {
          if (s.a !== null && s.b !== null) return s;
          if (f.draft_revision) return { a: f.version, b: 'draft' };
          return { a: Math.max(1, f.version - 1), b: f.version };
        });
      })
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [api, path]);

  const { a, b } = sides;
  useEffect(() => {
    if (a === null || b === null) return;
    let live = true;
    const read = async (s: Side): Promise<Doc> => {
      if (s !== 'draft') return api<FlowVersion>('GET', `${path}/versions/${s}`);
      const d: Draft | null = await getDraft(api, flowId);
      if (!d) throw new Error('This flow has no draft.');
      return d;
    };
    setDocs(null);
    Promise.all([read(a), read(b)])
      .then(([da, db]) => {
        if (!live) return;
        setDocs({ a: da, b: db });
        setError(null);
      })
      .catch((err) => live && setError(errorText(err)));
    history.replaceState(null, '', compareUrl(flowId, a, b));
    return () => {
      live = false;
    };
  }, [api, path, flowId, a, b]);

  const [left, right] = a !== null && b !== null ? ordered(a, b) : [a, b];
  const diff = useMemo(() => {
    if (!docs || a === null || b === null) return null;
    const [older, newer] = left === a ? [docs.a, docs.b] : [docs.b, docs.a];
    return diffFlows(older, newer);
  }, [docs, a, b, left]);

  const options: Side[] = [
    ...(flow?.draft_revision ? (['draft'] as const) : []),
    ...versions.map((v) => v.version),
  ];
  const optionLabel = (s: Side) =>
    s === 'draft' ? 'Draft' : `Version ${s}${s === flow?.version ? ' (live)' : ''}`;

  return (
    <section aria-labelledby="compare-title" className="versions-page">
      <p className="breadcrumb">
        <Link to={path}>← {flow?.name ?? 'Flow'}</Link>
      </p>
      <header className="page-header">
        <div>
          <h1 id="compare-title">
            {left !== null && right !== null
              ? `${sideLabel(left)} → ${sideLabel(right)}`
              : 'Compare versions'}
          </h1>
          <p className="muted">
            Left the older, right the newer. Moving a node on the canvas is not a change.
          </p>
        </div>
        <div className="compare-pickers">
          <label className="field field-inline" htmlFor={pickA}>
            <span>Compare</span>
            <select
              id={pickA}
              value={a ?? ''}
              onChange={(e) => setSides((s) => ({ ...s, a: parseSide(e.target.value) }))}
            >
              {options.map((o) => (
                <option key={o} value={o}>
                  {optionLabel(o)}
                </option>
              ))}
            </select>
          </label>
          <label className="field field-inline" htmlFor={pickB}>
            <span>with</span>
            <select
              id={pickB}
              value={b ?? ''}
              onChange={(e) => setSides((s) => ({ ...s, b: parseSide(e.target.value) }))}
            >
              {options.map((o) => (
                <option key={o} value={o}>
                  {optionLabel(o)}
                </option>
              ))}
            </select>
          </label>
        </div>
      </header>
      {error && (
        <div className="banner banner-error" role="alert">
          <span>Could not compare: {error}</span>
        </div>
      )}
      {!error && !diff && <p className="muted">Loading the versions…</p>}
      {diff && left !== null && right !== null && (
        <DiffView diff={diff} left={optionLabel(left)} right={optionLabel(right)} />
      )}
    </section>
  );
}
