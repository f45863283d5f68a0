/**
 * The flow canvas (`/flows/<id>`): components dragged in from the side panel or picked with the
 * plus button, nodes labelled by their ids, edges drawn by dragging from handle to handle, a panel
 * for the selected node (or the flow's settings), and Save — the API's validation errors are
 * shown on the nodes they name. What the node types are — palette, nodes, panels — comes from the
 * node catalog, `GET /api/v1/node-types`.
 */
import '@xyflow/react/dist/style.css';
import './canvas.css';
import {
  addEdge,
  Background,
  type Connection,
  Controls,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type Api, ApiError, errorText, type Page } from '../api.ts';
import { Link, useLeaveGuard } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import {
  ERROR_HANDLE,
  initialWhen,
  type NodeCatalog,
  type NodeCatalogEntry,
  NodeCatalogProvider,
  nodeCatalog,
  outputNames,
  sourceHandleOf,
} from './catalog.ts';
import { ComponentPicker, ComponentsPanel, DRAG_TYPE } from './ComponentPicker.tsx';
import {
  type CanvasEdge,
  type CanvasNode,
  type Config,
  edgeId,
  edgeLabel,
  edgeLook,
  type FlowDoc,
  type FlowProblem,
  type FlowSettings,
  fromCanvas,
  type NodeType,
  nextNodeId,
  type OnError,
  type Retry,
  toCanvas,
} from './document.ts';
import { CUSTOM_PANELS } from './panels/customPanels.tsx';
import { ErrorsSection } from './panels/ErrorsSection.tsx';
import { FlowSettingsPanel } from './panels/FlowSettingsPanel.tsx';
import { Problems, TemplateHints } from './panels/fields.tsx';
import { NodeForm, type PanelContext } from './panels/NodeForm.tsx';
import type { PresetInfo } from './panels/ProviderSection.tsx';
import { StepNode } from './StepNode.tsx';

const NODE_TYPES = { step: StepNode };
/** A step node's size on the canvas at zoom 1 (canvas.css .step is 180 px wide; about 60 px tall). */
const NODE_WIDTH = 180;
const NODE_HEIGHT = 60;

type Catalog = Omit<PanelContext, 'outgoing' | 'setWhen'>;

export function FlowEditorPage(props: { api: Api; flowId: string }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

function Editor({ api, flowId }: { api: Api; flowId: string }) {
  const toast = useToast();
  const flowApi = useReactFlow<CanvasNode, CanvasEdge>();
  const [flow, setFlow] = useState<FlowDoc | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<CanvasNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<CanvasEdge>([]);
  const [name, setName] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [settings, setSettings] = useState<FlowSettings | null>(null);
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [problems, setProblems] = useState<FlowProblem[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [catalog, setCatalog] = useState<Catalog>({ credentials: [], endpoints: [], eventTypes: [] });
  const [presets, setPresets] = useState<PresetInfo[]>([]);
  // The node types; the canvas is drawn once they are here (a flow is only read with them).
  const [nodeTypes, setNodeTypes] = useState<NodeCatalog | null>(null);
  const [nodeTypesError, setNodeTypesError] = useState<string | null>(null);
  const [fetched, setFetched] = useState<FlowDoc | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      setFetched(await api<FlowDoc>('GET', `/flows/${encodeURIComponent(flowId)}`));
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [api, flowId]);

  useEffect(() => {
    load();
  }, [load]);

  // The flow as loaded, onto the canvas as soon as the node types are known too.
  useEffect(() => {
    if (!fetched || !nodeTypes) return;
    const c = toCanvas(fetched, nodeTypes);
    setFlow(fetched);
    setNodes(c.nodes);
    setEdges(c.edges);
    setName(fetched.name);
    setEnabled(fetched.enabled);
    setSettings(fetched.settings);
    setDirty(false);
    setProblems([]);
    setFetched(null);
  }, [fetched, nodeTypes, setNodes, setEdges]);

  // The node types, and what the panels offer in their dropdowns; a list that fails to load only
  // leaves its dropdown empty (without the node types there is no canvas to draw).
  useEffect(() => {
    let live = true;
    Promise.allSettled([
      api<{ data: NodeCatalogEntry[] }>('GET', '/node-types'),
      api<{ data: Catalog['credentials'] }>('GET', '/credentials'),
      api<Page<Catalog['endpoints'][number]>>('GET', '/endpoints?limit=200'),
      api<{ data: { name: string }[] }>('GET', '/event-types'),
      api<{ data: PresetInfo[] }>('GET', '/presets'),
    ]).then(([n, c, e, t, p]) => {
      if (!live) return;
      if (n.status === 'fulfilled') setNodeTypes(nodeCatalog(n.value.data));
      else setNodeTypesError(errorText(n.reason));
      setPresets(p.status === 'fulfilled' ? p.value.data : []);
      setCatalog({
        credentials: c.status === 'fulfilled' ? c.value.data : [],
        endpoints: e.status === 'fulfilled' ? e.value.data : [],
        eventTypes: t.status === 'fulfilled' ? t.value.data.map((x) => x.name) : [],
      });
    });
    return () => {
      live = false;
    };
  }, [api]);

  // Leaving with unsaved changes asks first (a link in the app, a reload, closing the tab).
  useLeaveGuard(dirty ? 'This flow has unsaved changes. Leave without saving them?' : null);

  const showProblems = useCallback(
    (list: FlowProblem[]) => {
      setProblems(list);
      setNodes((ns) =>
        ns.map((n) => ({ ...n, data: { ...n.data, problems: list.filter((p) => p.node === n.id) } })),
      );
    },
    [setNodes],
  );

  const onNodesChangeTracked = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      onNodesChange(changes);
      if (
        changes.some((c) => c.type === 'remove' || c.type === 'add' || (c.type === 'position' && !c.dragging))
      )
        setDirty(true);
      for (const c of changes) if (c.type === 'remove' && c.id === selectedId) setSelectedId(null);
    },
    [onNodesChange, selectedId],
  );

  /**
   * Pans (keeping the zoom) just far enough that a node placed at `position` can be seen, so a new
   * node is never off screen and the ones beside it stay in view. At once, not animated: React
   * Flow's animated pan zooms out and back in on the way.
   */
  const revealInView = useCallback(
    (position: { x: number; y: number }) => {
      const box = wrapper.current?.getBoundingClientRect();
      if (!box) return;
      const viewport = flowApi.getViewport();
      const topLeft = flowApi.flowToScreenPosition(position);
      const margin = 24;
      const overshoot = (start: number, size: number, min: number, max: number) =>
        start < min ? start - min : start + size > max ? start + size - max : 0;
      const dx = overshoot(topLeft.x, NODE_WIDTH * viewport.zoom, box.left + margin, box.right - margin);
      const dy = overshoot(topLeft.y, NODE_HEIGHT * viewport.zoom, box.top + margin, box.bottom - margin);
      if (dx || dy) void flowApi.setViewport({ x: viewport.x - dx, y: viewport.y - dy, zoom: viewport.zoom });
    },
    [flowApi],
  );

  const addNode = useCallback(
    (type: NodeType, at?: { x: number; y: number }) => {
      const entry = nodeTypes?.byType.get(type);
      if (!entry) return;
      const id = nextNodeId(
        type,
        nodes.map((n) => n.id),
      );
      const from = selectedId ? nodes.find((n) => n.id === selectedId) : undefined;
      let position = at;
      if (!position) {
        // After the selected node, else after the rightmost one: a new node never hides another.
        const after =
          from ??
          nodes.reduce<CanvasNode | undefined>(
            (a, n) => (!a || n.position.x > a.position.x ? n : a),
            undefined,
          );
        if (after) position = { x: after.position.x + 260, y: after.position.y };
        else {
          const box = wrapper.current?.getBoundingClientRect();
          position = box
            ? flowApi.screenToFlowPosition({
                x: box.left + box.width / 2 - NODE_WIDTH / 2,
                y: box.top + box.height / 2 - NODE_HEIGHT / 2,
              })
            : { x: 0, y: 0 };
        }
      }
      const node: CanvasNode = {
        id,
        type: 'step',
        position,
        selected: true,
        data: { type, config: structuredClone(entry.initial_config), problems: [] },
      };
      setNodes((ns) => [...ns.map((n) => ({ ...n, selected: false })), node]);
      // Picked with the plus button while a node is selected: the new node follows it (an If's true path).
      const fromEntry = from ? nodeTypes?.byType.get(from.data.type) : undefined;
      if (!at && from && !fromEntry?.terminal && !entry.trigger) {
        const when = initialWhen(
          fromEntry,
          'true',
          edges.filter((e) => e.source === from.id).map((e) => e.data?.when),
        );
        setEdges((es) => [
          ...es,
          {
            id: edgeId({ from: from.id, to: id, when }),
            source: from.id,
            target: id,
            sourceHandle: sourceHandleOf(fromEntry, when, from.data.on_error),
            label: edgeLabel(when),
            data: when === undefined ? {} : { when },
          },
        ]);
      }
      setSelectedId(id);
      setDirty(true);
      if (!at) revealInView(position);
    },
    [nodes, edges, selectedId, nodeTypes, setNodes, setEdges, flowApi, revealInView],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const source = nodes.find((n) => n.id === c.source);
      const when = initialWhen(
        source ? nodeTypes?.byType.get(source.data.type) : undefined,
        c.sourceHandle,
        edges.filter((e) => e.source === c.source).map((e) => e.data?.when),
      );
      setEdges((es) =>
        addEdge(
          {
            ...c,
            id: edgeId({ from: c.source, to: c.target, when }),
            label: edgeLabel(when),
            ...edgeLook(c.sourceHandle),
            data: when === undefined ? {} : { when },
          },
          es,
        ),
      );
      setDirty(true);
    },
    [nodes, edges, nodeTypes, setEdges],
  );

  // One edge from a node to another, except that an error edge may go beside a normal one.
  const isValidConnection = useCallback(
    (c: Connection | CanvasEdge) => {
      const isError = (h: string | null | undefined) => h === ERROR_HANDLE;
      return (
        c.source !== c.target &&
        !edges.some(
          (e) =>
            e.source === c.source &&
            e.target === c.target &&
            isError(e.sourceHandle) === isError(c.sourceHandle),
        )
      );
    },
    [edges],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData(DRAG_TYPE) as NodeType;
      if (!nodeTypes?.byType.has(type)) return;
      const at = flowApi.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(type, { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 });
    },
    [flowApi, addNode, nodeTypes],
  );

  const updateConfig = useCallback(
    (id: string, config: Config) => {
      setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)));
      setDirty(true);
    },
    [setNodes],
  );

  /** A node's `retry` or `on_error` (undefined removes the key: the API's default). */
  const updateErrors = useCallback(
    (id: string, patch: { retry?: Retry; on_error?: OnError }) => {
      setNodes((ns) =>
        ns.map((n) => {
          if (n.id !== id) return n;
          const data = { ...n.data, ...patch };
          for (const key of ['retry', 'on_error'] as const)
            if (key in patch && patch[key] === undefined) delete data[key];
          return { ...n, data };
        }),
      );
      setDirty(true);
    },
    [setNodes],
  );

  const setWhen = useCallback(
    (id: string, when: string) => {
      setEdges((es) => es.map((e) => (e.id === id ? { ...e, label: when, data: { when } } : e)));
      setDirty(true);
    },
    [setEdges],
  );

  const removeNode = (id: string) => {
    setNodes((ns) => ns.filter((n) => n.id !== id));
    setEdges((es) => es.filter((e) => e.source !== id && e.target !== id));
    setSelectedId(null);
    setDirty(true);
  };

  const save = async () => {
    if (!settings) return;
    setSaving(true);
    try {
      const doc = fromCanvas(nodes, edges);
      const saved = await api<FlowDoc>('PUT', `/flows/${encodeURIComponent(flowId)}`, {
        name,
        enabled,
        settings,
        ...doc,
      });
      setFlow(saved);
      setName(saved.name);
      const urls = new Map(saved.webhooks.map((w) => [w.node_id, w.url]));
      const stored = new Map(saved.nodes.map((n) => [n.id, n]));
      // As the API stored them: config and retry with their defaults filled in.
      setNodes((ns) =>
        ns.map((n) => {
          const s = stored.get(n.id);
          const { retry: _r, on_error: _o, ...rest } = n.data;
          return {
            ...n,
            data: {
              ...(s ? rest : n.data),
              url: urls.get(n.id),
              config: s?.config ?? n.data.config,
              ...(s?.retry ? { retry: s.retry } : {}),
              ...(s?.on_error ? { on_error: s.on_error } : {}),
              problems: [],
            },
          };
        }),
      );
      setProblems([]);
      setDirty(false);
      toast.success(`Flow “${saved.name}” saved`);
    } catch (err) {
      const list =
        err instanceof ApiError && Array.isArray(err.body.errors) ? (err.body.errors as FlowProblem[]) : [];
      showProblems(list);
      toast.error(`Not saved: ${errorText(err)}`);
    } finally {
      setSaving(false);
    }
  };

  const selected = nodes.find((n) => n.id === selectedId) ?? null;
  const savedIds = useMemo(() => new Set(flow?.nodes.map((n) => n.id) ?? []), [flow]);
  const hints = useMemo(() => (nodeTypes ? templateHints(nodes, nodeTypes) : []), [nodes, nodeTypes]);
  const flowProblems = problems.filter((p) => !p.node);

  if (loadError || nodeTypesError)
    return (
      <section className="empty">
        <h1>Flow not available</h1>
        <p className="muted">{loadError ?? `The node types did not load: ${nodeTypesError}`}</p>
        <Link to="/flows" className="button">
          Back to Flows
        </Link>
      </section>
    );
  if (!flow || !settings || !nodeTypes) return <p className="muted">Loading the flow…</p>;
  const selectedEntry = selected ? nodeTypes.byType.get(selected.data.type) : undefined;
  const CustomPanel = selectedEntry?.panel ? CUSTOM_PANELS[selectedEntry.panel]?.Panel : undefined;
  const selectedOut = selected ? edges.filter((e) => e.source === selected.id) : [];

  return (
    <NodeCatalogProvider value={nodeTypes}>
      <section className="editor" aria-label="Flow editor">
        <header className="editor-header">
          <div className="editor-title">
            <Link to="/flows" className="back-link">
              ← Flows
            </Link>
            <h1>{name || flow.name}</h1>
            {dirty ? (
              <span className="badge badge-warn">Unsaved changes</span>
            ) : (
              <span className="badge">Saved</span>
            )}
          </div>
          <div className="editor-actions">
            <Link to={`/runs?flow_id=${encodeURIComponent(flow.id)}`} className="button">
              Runs
            </Link>
            <button type="button" className="button button-primary" onClick={save} disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
          </div>
        </header>
        {flowProblems.length > 0 && <Problems problems={flowProblems} />}
        <div className="editor-body">
          <ComponentsPanel onPick={(t) => addNode(t)} />
          <div
            className="canvas"
            role="application"
            aria-label="Flow canvas"
            ref={wrapper}
            onDragOver={onDragOver}
            onDrop={onDrop}
          >
            <ReactFlow<CanvasNode, CanvasEdge>
              nodes={nodes}
              edges={edges}
              nodeTypes={NODE_TYPES}
              onNodesChange={onNodesChangeTracked}
              onEdgesChange={(changes) => {
                onEdgesChange(changes);
                if (changes.some((c) => c.type === 'remove')) setDirty(true);
              }}
              onConnect={onConnect}
              isValidConnection={isValidConnection}
              onNodeClick={(_, n) => setSelectedId(n.id)}
              onPaneClick={() => setSelectedId(null)}
              deleteKeyCode={['Backspace', 'Delete']}
              fitView
              fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
              defaultEdgeOptions={{ type: 'smoothstep' }}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
            </ReactFlow>
            <button
              type="button"
              className="plus-button"
              aria-label="Add a component"
              title="Add a component"
              onClick={() => setPickerOpen(true)}
            >
              +
            </button>
            {nodes.length === 0 && (
              <div className="canvas-empty">Drag a Webhook from the left, or press + to add a component.</div>
            )}
          </div>
          <aside className="inspector" aria-label={selected ? `Settings of ${selected.id}` : 'Flow settings'}>
            {selected ? (
              <div key={selected.id}>
                <div className="inspector-head">
                  <div>
                    <h2 className="mono">{selected.id}</h2>
                    <p className="muted">{selectedEntry?.description}</p>
                  </div>
                  <button
                    type="button"
                    className="button button-small button-danger-quiet"
                    onClick={() => removeNode(selected.id)}
                  >
                    Delete node
                  </button>
                </div>
                <Problems problems={selected.data.problems} />
                {CustomPanel ? (
                  <CustomPanel
                    api={api}
                    flowId={flow.id}
                    nodeId={selected.id}
                    saved={savedIds.has(selected.id)}
                    url={selected.data.url}
                    config={selected.data.config}
                    onChange={(c) => updateConfig(selected.id, c)}
                    credentials={catalog.credentials}
                    presets={presets}
                    onCredentialCreated={(c) =>
                      setCatalog((cat) => ({ ...cat, credentials: [...cat.credentials, c] }))
                    }
                  />
                ) : (
                  <>
                    <TemplateHints hints={hints} />
                    {selectedEntry ? (
                      <NodeForm
                        entry={selectedEntry}
                        config={selected.data.config}
                        onChange={(c) => updateConfig(selected.id, c)}
                        ctx={{
                          ...catalog,
                          // Its error edges are not cases (nor true/false): they leave the error handle.
                          outgoing: selectedOut
                            .filter((e) => e.sourceHandle !== ERROR_HANDLE)
                            .map((e) => ({ id: e.id, target: e.target, when: e.data?.when })),
                          setWhen,
                        }}
                      />
                    ) : (
                      <p className="muted">This version of Hookflow does not know this node type.</p>
                    )}
                  </>
                )}
                {/* A trigger runs nothing, and a terminal node ends its branch on purpose: neither retries. */}
                {selectedEntry && !selectedEntry.trigger && !selectedEntry.terminal && (
                  <ErrorsSection
                    nodeId={selected.id}
                    retry={selected.data.retry}
                    onError={selected.data.on_error}
                    errorEdges={selectedOut.filter((e) => e.sourceHandle === ERROR_HANDLE).length}
                    onRetry={(retry) => updateErrors(selected.id, { retry })}
                    onOnError={(on_error) => updateErrors(selected.id, { on_error })}
                  />
                )}
              </div>
            ) : (
              <FlowSettingsPanel
                name={name}
                enabled={enabled}
                settings={settings}
                onName={(v) => {
                  setName(v);
                  setDirty(true);
                }}
                onEnabled={(v) => {
                  setEnabled(v);
                  setDirty(true);
                }}
                onSettings={(s) => {
                  setSettings(s);
                  setDirty(true);
                }}
              />
            )}
          </aside>
        </div>
        <ComponentPicker
          open={pickerOpen}
          onClose={() => setPickerOpen(false)}
          onPick={(t) => {
            setPickerOpen(false);
            addNode(t);
          }}
        />
      </section>
    </NodeCatalogProvider>
  );
}

function onDragOver(e: DragEvent) {
  e.preventDefault();
  e.dataTransfer.dropEffect = 'move';
}

/** A place a node may write a value: `vars.<name>` or `flow.key.<name>`. */
const VALUE_KEY = /^(vars|flow\.key)\.[A-Za-z_]/;

/**
 * What a template in this flow can name: the trigger's fields (its own panel says which), the
 * variables nodes set (a key of a key-value field, or a plain-text field, naming `vars.…` or
 * `flow.key.…`), and what an action's result holds, as its catalog entry's output lists it.
 */
function templateHints(nodes: CanvasNode[], catalog: NodeCatalog): string[] {
  const out = new Set<string>(['${Webhook::Body}', '${Webhook::Method}']);
  for (const n of nodes) {
    const entry = catalog.byType.get(n.data.type);
    if (!entry) continue;
    const c = n.data.config;
    if (entry.panel) for (const h of CUSTOM_PANELS[entry.panel]?.hints?.(c) ?? []) out.add(h);
    for (const f of entry.fields) {
      const v = c[f.key];
      if (f.kind === 'key_value' && v && typeof v === 'object')
        for (const k of Object.keys(v)) if (VALUE_KEY.test(k)) out.add(`\${${k}}`);
      if (f.kind === 'text' && typeof v === 'string' && VALUE_KEY.test(v)) out.add(`\${${v}}`);
    }
    // What an action's call answered (an HTTP request's status and body, say) is worth naming.
    if (entry.category === 'action')
      for (const name of outputNames(entry)) out.add(`\${steps.${n.id}.${name}}`);
  }
  out.add('${run.id}');
  return [...out];
}
