/**
 * `/flows/<id>/versions/<n>`: one version of a flow, read-only — its canvas (nodes can be clicked,
 * not moved), the selected node's config, who saved it and why — with Compare and Restore.
 */
import '@xyflow/react/dist/style.css';
import '../canvas/canvas.css';
import './versions.css';
import { Background, Controls, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { ContainerNode } from '../canvas/ContainerNode.tsx';
import { type NodeCatalogEntry, NodeCatalogProvider, nodeCatalog } from '../canvas/catalog.ts';
import { allDocNodes, type CanvasEdge, type CanvasNode, toCanvas } from '../canvas/document.ts';
import { StepNode } from '../canvas/StepNode.tsx';
import { formatTime } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { RestoreDialog } from './HistoryDrawer.tsx';
import { compareUrl, type FlowVersion } from './model.ts';

const NODE_TYPES = { step: StepNode, container: ContainerNode };

export function VersionPage(props: { api: Api; flowId: string; version: number }) {
  return (
    <ReactFlowProvider>
      <VersionView {...props} />
    </ReactFlowProvider>
  );
}

function VersionView({ api, flowId, version }: { api: Api; flowId: string; version: number }) {
  const [doc, setDoc] = useState<FlowVersion | null>(null);
  const [flow, setFlow] = useState<{ name: string; version: number; draft_revision?: number | null } | null>(
    null,
  );
  const [entries, setEntries] = useState<NodeCatalogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);
  const path = `/flows/${encodeURIComponent(flowId)}`;

  useEffect(() => {
    let live = true;
    Promise.all([
      api<FlowVersion>('GET', `${path}/versions/${version}`),
      api<{ name: string; version: number; draft_revision?: number | null }>('GET', path),
      api<{ data: NodeCatalogEntry[] }>('GET', '/node-types'),
    ])
      .then(([v, f, n]) => {
        if (!live) return;
        setDoc(v);
        setFlow(f);
        setEntries(n.data);
      })
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [api, path, version]);

  const catalog = useMemo(() => nodeCatalog(entries ?? []), [entries]);
  const drawn = useMemo(() => (doc && entries ? toCanvas(doc, catalog) : null), [doc, entries, catalog]);
  const selected = useMemo(
    () => (doc && selectedId ? allDocNodes(doc.nodes, catalog).get(selectedId) : undefined),
    [doc, selectedId, catalog],
  );

  if (error)
    return (
      <section className="empty">
        <h1>Version not available</h1>
        <p className="muted">{error}</p>
        <Link to={path} className="button">
          Back to the flow
        </Link>
      </section>
    );
  if (!doc || !flow || !drawn) return <p className="muted">Loading the version…</p>;
  const isLive = doc.version === flow.version;

  return (
    <NodeCatalogProvider value={catalog}>
      <section className="editor version-view" aria-label={`Version ${version}`}>
        <header className="editor-header">
          <div className="editor-title">
            <Link to={path} className="back-link">
              ← {flow.name}
            </Link>
            <h1>
              Version {doc.version}: {doc.name}
            </h1>
            {isLive ? (
              <span className="badge">live</span>
            ) : (
              <span className="badge badge-quiet">read-only</span>
            )}
          </div>
          <div className="editor-actions">
            {doc.version > 1 && (
              <Link to={compareUrl(flowId, doc.version - 1, doc.version)} className="button">
                Compare with version {doc.version - 1}
              </Link>
            )}
            {!isLive && (
              <Link to={compareUrl(flowId, doc.version, flow.version)} className="button">
                Compare with live
              </Link>
            )}
            {!isLive && (
              <button
                type="button"
                className="button button-primary"
                onClick={() => setRestoring(doc.version)}
              >
                Restore
              </button>
            )}
          </div>
        </header>
        <p className="muted version-meta">
          Saved {formatTime(doc.created_at)}
          {doc.created_by ? ` by ${doc.created_by}` : ''}
          {doc.note ? ` — ${doc.note}` : ''}. {doc.enabled ? 'Enabled' : 'Disabled'} then.
        </p>
        <div className="editor-body version-body">
          <div className="canvas" role="application" aria-label="Version canvas">
            <ReactFlow<CanvasNode, CanvasEdge>
              nodes={drawn.nodes}
              edges={drawn.edges}
              nodeTypes={NODE_TYPES}
              nodesDraggable={false}
              nodesConnectable={false}
              deleteKeyCode={null}
              onNodeClick={(_, n) => setSelectedId(n.id)}
              onPaneClick={() => setSelectedId(null)}
              fitView
              fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
              defaultEdgeOptions={{ type: 'smoothstep' }}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
            </ReactFlow>
          </div>
          <aside className="inspector" aria-label={selected ? `Node ${selected.id}` : 'Version settings'}>
            {selected ? (
              <>
                <h2 className="mono">{selected.id}</h2>
                <p className="muted">{catalog.byType.get(selected.type)?.label ?? selected.type}</p>
                <pre className="json json-small">
                  {JSON.stringify(
                    {
                      config: selected.config,
                      ...(selected.retry ? { retry: selected.retry } : {}),
                      ...(selected.on_error ? { on_error: selected.on_error } : {}),
                    },
                    null,
                    2,
                  )}
                </pre>
              </>
            ) : (
              <>
                <h2>Settings</h2>
                <p className="muted">Select a node to see its config.</p>
                <pre className="json json-small">{JSON.stringify(doc.settings, null, 2)}</pre>
              </>
            )}
          </aside>
        </div>
        <RestoreDialog
          api={api}
          flowId={flowId}
          version={restoring}
          hasDraft={!!flow.draft_revision}
          dirty={false}
          onClose={() => setRestoring(null)}
          onRestored={() => {
            setRestoring(null);
            navigate(path);
          }}
        />
      </section>
    </NodeCatalogProvider>
  );
}
