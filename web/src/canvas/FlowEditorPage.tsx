/**
 * The flow canvas (`/flows/<id>`): components dragged in from the side panel or picked with the
 * plus button, nodes labelled by their ids, edges drawn by dragging from handle to handle, a panel
 * for the selected node (or the flow's settings), and Save — the API's validation errors are
 * shown on the nodes they name. Save keeps a draft beside the live flow (docs/api.md §3.12):
 * opening a flow with a draft shows the draft; Publish makes it the next version, Discard draft
 * drops it; History lists the versions, Replay runs stored traffic against the draft or a version.
 * Enabling or disabling the flow changes the live flow at once. A container (`loop`) is a group with its body steps inside it:
 * components dropped onto it, picked with its own +, or picked while one of its steps is selected
 * go into its body; edges connect steps of one body (or of the flow) only. What the node types
 * are — palette, nodes, panels — comes from the node catalog, `GET /api/v1/node-types`.
 */
import '@xyflow/react/dist/style.css';
import './canvas.css';
import '../versions/versions.css';
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
import { ReplayDialog } from '../replays/ReplayDialog.tsx';
import { Link, navigate, useLeaveGuard } from '../router.tsx';
import { useToast } from '../toasts.tsx';
import { HistoryDrawer } from '../versions/HistoryDrawer.tsx';
import { type Draft, getDraft } from '../versions/model.ts';
import { ComponentPicker, ComponentsPanel, DRAG_TYPE } from './ComponentPicker.tsx';
import { ADD_TO_BODY_LABEL, ContainerActionsProvider, ContainerNode } from './ContainerNode.tsx';
import {
  ERROR_HANDLE,
  initialWhen,
  mayGoInABody,
  type NodeCatalog,
  type NodeCatalogEntry,
  NodeCatalogProvider,
  nodeCatalog,
  outputNames,
  sourceHandleOf,
} from './catalog.ts';
import { DiscardDraftDialog, DraftBar, PublishDialog } from './DraftControls.tsx';
import {
  absolutePosition,
  allDocNodes,
  type CanvasEdge,
  type CanvasNode,
  CONTAINER_FRAME,
  type Config,
  type DocNode,
  edgeId,
  edgeLabel,
  edgeLook,
  type FlowDoc,
  type FlowProblem,
  type FlowSettings,
  firstBodyPosition,
  fitContainers,
  fromCanvas,
  type NodeType,
  nextNodeId,
  type OnError,
  type Retry,
  STEP_SIZE,
  sizeOf,
  splitContainerConfig,
  toCanvas,
} from './document.ts';
import { CUSTOM_PANELS } from './panels/customPanels.tsx';
import { ErrorsSection } from './panels/ErrorsSection.tsx';
import { FlowSettingsPanel } from './panels/FlowSettingsPanel.tsx';
import { Problems, TemplateHints } from './panels/fields.tsx';
import { NodeForm, type PanelContext } from './panels/NodeForm.tsx';
import type { PresetInfo } from './panels/ProviderSection.tsx';
import { RunNowDialog, type RunTrigger } from './RunNowDialog.tsx';
import { StepNode } from './StepNode.tsx';

const NODE_TYPES = { step: StepNode, container: ContainerNode };
const NODE_WIDTH = STEP_SIZE.width;
const NODE_HEIGHT = STEP_SIZE.height;
/** The space between a node and the one added after it. */
const GAP = 80;

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
  const selectedRef = useRef(selectedId);
  selectedRef.current = selectedId;
  // How many documents were put on the canvas: the inspector is drawn afresh for each.
  const [loads, setLoads] = useState(0);
  const [pickerOpen, setPickerOpen] = useState(false);
  // The container whose body the picker adds to (its + or its panel's button), else null: the flow.
  const [pickerInto, setPickerInto] = useState<string | null>(null);
  const [catalog, setCatalog] = useState<Catalog>({
    credentials: [],
    endpoints: [],
    flows: [],
    eventTypes: [],
  });
  const [presets, setPresets] = useState<PresetInfo[]>([]);
  // The node types; the canvas is drawn once they are here (a flow is only read with them).
  const [nodeTypes, setNodeTypes] = useState<NodeCatalog | null>(null);
  const [nodeTypesError, setNodeTypesError] = useState<string | null>(null);
  // The live flow and its draft (null: none) as read, until they are on the canvas.
  const [fetched, setFetched] = useState<{ live: FlowDoc; draft: Draft | null } | null>(null);
  // The draft the canvas shows (null: the canvas shows the live version).
  const [draft, setDraft] = useState<Draft | null>(null);
  const [publishOpen, setPublishOpen] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [discardOpen, setDiscardOpen] = useState(false);
  const [discarding, setDiscarding] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [replayOpen, setReplayOpen] = useState(false);
  // Run now: its dialog, and the run it started last (linked in the header).
  const [runOpen, setRunOpen] = useState(false);
  const [startedRun, setStartedRun] = useState<string | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      const live = await api<FlowDoc>('GET', `/flows/${encodeURIComponent(flowId)}`);
      // `draft_revision` null: no draft, nothing to ask for.
      const d = live.draft_revision === null ? null : await getDraft(api, flowId);
      setFetched({ live, draft: d });
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [api, flowId]);

  useEffect(() => {
    load();
  }, [load]);

  // The flow as loaded, onto the canvas as soon as the node types are known too.
  // The draft when there is one, else the live version; `enabled` is always the live flow's.
  useEffect(() => {
    if (!fetched || !nodeTypes) return;
    const { live, draft: d } = fetched;
    const doc = d ?? live;
    const c = toCanvas({ nodes: withUrls(doc.nodes, live, d), edges: doc.edges }, nodeTypes);
    setFlow(live);
    setDraft(d);
    setEdges(c.edges);
    setName(doc.name);
    setEnabled(live.enabled);
    setSettings(doc.settings);
    setDirty(false);
    setProblems([]);
    // The selected node stays selected when the new document has it; its panel is drawn afresh
    // (a panel keeps what was typed into it).
    const keep = c.nodes.some((n) => n.id === selectedRef.current) ? selectedRef.current : null;
    setNodes(c.nodes.map((n) => (n.id === keep ? { ...n, selected: true } : n)));
    setSelectedId(keep);
    setLoads((n) => n + 1);
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
      api<Page<Catalog['flows'][number]>>('GET', '/flows?limit=500'),
    ]).then(([n, c, e, t, p, f]) => {
      if (!live) return;
      if (n.status === 'fulfilled') setNodeTypes(nodeCatalog(n.value.data));
      else setNodeTypesError(errorText(n.reason));
      setPresets(p.status === 'fulfilled' ? p.value.data : []);
      setCatalog({
        credentials: c.status === 'fulfilled' ? c.value.data : [],
        endpoints: e.status === 'fulfilled' ? e.value.data : [],
        flows: f.status === 'fulfilled' ? f.value.data : [],
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
    (position: { x: number; y: number }, size = STEP_SIZE) => {
      const box = wrapper.current?.getBoundingClientRect();
      if (!box) return;
      const viewport = flowApi.getViewport();
      const topLeft = flowApi.flowToScreenPosition(position);
      const margin = 24;
      const overshoot = (start: number, size: number, min: number, max: number) =>
        start < min ? start - min : start + size > max ? start + size - max : 0;
      const dx = overshoot(topLeft.x, size.width * viewport.zoom, box.left + margin, box.right - margin);
      const dy = overshoot(topLeft.y, size.height * viewport.zoom, box.top + margin, box.bottom - margin);
      if (dx || dy) void flowApi.setViewport({ x: viewport.x - dx, y: viewport.y - dy, zoom: viewport.zoom });
    },
    [flowApi],
  );

  /**
   * Adds a node of `type`: at `at` (a drop, in flow coordinates), else after the selected node (and
   * connected from it), else after the rightmost one. It goes into the body of `into` (a drop onto a
   * container, its + button); with neither `at` nor `into`, into the body the selected step is in
   * when the type may go there.
   */
  const addNode = useCallback(
    (type: NodeType, opts: { at?: { x: number; y: number }; into?: string } = {}) => {
      const entry = nodeTypes?.byType.get(type);
      if (!entry) return;
      const selectedNode = selectedId ? nodes.find((n) => n.id === selectedId) : undefined;
      const implicit = !opts.at && opts.into === undefined;
      const parentId =
        opts.into ??
        (implicit && selectedNode?.parentId && mayGoInABody(entry) ? selectedNode.parentId : undefined);
      const parent = parentId ? nodes.find((n) => n.id === parentId) : undefined;
      if (parentId && (!parent || !mayGoInABody(entry))) {
        toast.error(
          `${entry.label} cannot go inside ${parentId}: a body holds no triggers and no Respond node.`,
        );
        return;
      }
      const id = nextNodeId(
        type,
        nodes.map((n) => n.id),
      );
      // Picked while a node of the same body (or of the flow) is selected: the new one follows it.
      const from = implicit && selectedNode?.parentId === parentId ? selectedNode : undefined;
      const siblings = nodes.filter((n) => n.parentId === parentId);
      let position: { x: number; y: number };
      if (opts.at) {
        const origin = parent ? absolutePosition(nodes, parent) : { x: 0, y: 0 };
        position = { x: opts.at.x - origin.x, y: opts.at.y - origin.y };
        // Inside a body: below the header, inside the frame.
        if (parent)
          position = {
            x: Math.max(CONTAINER_FRAME.pad / 2, position.x),
            y: Math.max(CONTAINER_FRAME.header, position.y),
          };
      } else {
        // After the selected node, else after the rightmost one: a new node never hides another.
        const after =
          from ??
          siblings.reduce<CanvasNode | undefined>(
            (a, n) => (!a || n.position.x > a.position.x ? n : a),
            undefined,
          );
        if (after) position = { x: after.position.x + sizeOf(after).width + GAP, y: after.position.y };
        else if (parent) position = firstBodyPosition();
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
        type: entry.container ? 'container' : 'step',
        position,
        ...(parentId ? { parentId, extent: 'parent' as const, expandParent: true } : {}),
        selected: true,
        data: {
          type,
          config: entry.container
            ? splitContainerConfig(structuredClone(entry.initial_config)).own
            : structuredClone(entry.initial_config),
          problems: [],
        },
      };
      // The new node and its container's frame grown to hold it.
      const next = fitContainers([...nodes.map((n) => ({ ...n, selected: false })), node]);
      setNodes(next);
      const fromEntry = from ? nodeTypes?.byType.get(from.data.type) : undefined;
      if (from && !fromEntry?.terminal && !entry.trigger) {
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
      if (!opts.at) {
        const added = next.find((n) => n.id === id) ?? node;
        revealInView(absolutePosition(next, added), sizeOf(added));
      }
    },
    [nodes, edges, selectedId, nodeTypes, setNodes, setEdges, flowApi, revealInView, toast],
  );

  const openBodyPicker = useCallback((containerId: string) => {
    setPickerInto(containerId);
    setPickerOpen(true);
  }, []);
  const containerActions = useMemo(() => ({ addToBody: openBodyPicker }), [openBodyPicker]);

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

  // One edge from a node to another per handle (an error or timeout edge may go beside a normal one); both
  // ends in the same body (or both in the flow): no edge crosses a container's frame.
  const isValidConnection = useCallback(
    (c: Connection | CanvasEdge) => {
      const parentOf = (id: string) => nodes.find((n) => n.id === id)?.parentId;
      return (
        c.source !== c.target &&
        parentOf(c.source) === parentOf(c.target) &&
        !edges.some(
          (e) =>
            e.source === c.source &&
            e.target === c.target &&
            (e.sourceHandle ?? null) === (c.sourceHandle ?? null),
        )
      );
    },
    [nodes, edges],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData(DRAG_TYPE) as NodeType;
      if (!nodeTypes?.byType.has(type)) return;
      const at = flowApi.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // Dropped onto a container: into its body (the innermost one; bodies follow their container).
      const into = nodes.findLast((n) => {
        if (n.type !== 'container') return false;
        const p = absolutePosition(nodes, n);
        const size = sizeOf(n);
        return at.x >= p.x && at.y >= p.y && at.x <= p.x + size.width && at.y <= p.y + size.height;
      });
      addNode(type, { at: { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 }, into: into?.id });
    },
    [flowApi, addNode, nodeTypes, nodes],
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

  /** Removes a node, and with a container its body (at any depth), and their edges. */
  const removeNode = (id: string) => {
    const gone = new Set([id]);
    for (const n of nodes) if (n.parentId && gone.has(n.parentId)) gone.add(n.id);
    setNodes((ns) => ns.filter((n) => !gone.has(n.id)));
    setEdges((es) => es.filter((e) => !gone.has(e.source) && !gone.has(e.target)));
    setSelectedId(null);
    setDirty(true);
  };

  /** Saves the canvas as the draft (the live flow is not changed); false when it was refused. */
  const save = async (): Promise<boolean> => {
    if (!settings || !flow) return false;
    setSaving(true);
    try {
      const doc = fromCanvas(nodes, edges);
      const saved = await api<Draft>('PUT', `/flows/${encodeURIComponent(flowId)}/draft`, {
        name,
        enabled,
        settings,
        ...doc,
      });
      setDraft(saved);
      setName(saved.name);
      const urls = new Map(withUrls(saved.nodes, flow, saved).map((n) => [n.id, n.url]));
      const stored = allDocNodes(saved.nodes, nodeTypes ?? nodeCatalog([]));
      // As the API stored them: config and retry with their defaults filled in (a container's body
      // stays the canvas's own nodes).
      setNodes((ns) =>
        ns.map((n) => {
          const found = stored.get(n.id);
          const s =
            found && n.type === 'container'
              ? { ...found, config: splitContainerConfig(found.config).own }
              : found;
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
      toast.success(`Flow “${saved.name}” saved as a draft`);
      return true;
    } catch (err) {
      const list =
        err instanceof ApiError && Array.isArray(err.body.errors) ? (err.body.errors as FlowProblem[]) : [];
      showProblems(list);
      toast.error(`Not saved: ${errorText(err)}`);
      return false;
    } finally {
      setSaving(false);
    }
  };

  /** Publishes the draft (saving unsaved changes into it first); the canvas then shows the live flow. */
  const publish = async (note: string) => {
    setPublishing(true);
    try {
      if (dirty && !(await save())) return;
      const published = await api<{ version?: number }>(
        'POST',
        `/flows/${encodeURIComponent(flowId)}/draft/publish`,
        note ? { note } : {},
      );
      setPublishOpen(false);
      toast.success(`Published as version ${published.version ?? '?'}`);
      await load();
    } catch (err) {
      const list =
        err instanceof ApiError && Array.isArray(err.body.errors) ? (err.body.errors as FlowProblem[]) : [];
      if (list.length) showProblems(list);
      toast.error(`Not published: ${errorText(err)}`);
    } finally {
      setPublishing(false);
    }
  };

  const discard = async () => {
    setDiscarding(true);
    try {
      await api('DELETE', `/flows/${encodeURIComponent(flowId)}/draft`);
      setDiscardOpen(false);
      toast.success('Draft discarded: the canvas shows the live version');
      await load();
    } catch (err) {
      toast.error(`Could not discard the draft: ${errorText(err)}`);
    } finally {
      setDiscarding(false);
    }
  };

  /** Enabling or disabling is a change of the live flow, at once (not kept in the draft). */
  const changeEnabled = async (v: boolean) => {
    setEnabled(v);
    try {
      const updated = await api<FlowDoc>('PATCH', `/flows/${encodeURIComponent(flowId)}`, { enabled: v });
      setFlow((f) => (f ? { ...f, enabled: updated.enabled, version: updated.version } : f));
      setEnabled(updated.enabled);
      toast.success(`“${updated.name}” ${updated.enabled ? 'enabled' : 'disabled'}`);
    } catch (err) {
      setEnabled(!v);
      toast.error(`Could not ${v ? 'enable' : 'disable'} the flow: ${errorText(err)}`);
    }
  };

  const selected = nodes.find((n) => n.id === selectedId) ?? null;
  const savedIds = useMemo(() => new Set(flow?.nodes.map((n) => n.id) ?? []), [flow]);
  const hints = useMemo(
    () => (nodeTypes ? templateHints(nodes, nodeTypes, selectedId) : []),
    [nodes, nodeTypes, selectedId],
  );
  const flowProblems = problems.filter((p) => !p.node);
  // The saved flow's triggers: what Run can start (it runs the saved version).
  const runTriggers = useMemo<RunTrigger[]>(
    () =>
      (flow?.nodes ?? [])
        .filter((n) => nodeTypes?.byType.get(n.type)?.trigger)
        .map((n) => ({
          id: n.id,
          type: n.type,
          methods: Array.isArray(n.config?.methods) ? (n.config.methods as string[]) : undefined,
        })),
    [flow, nodeTypes],
  );

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
            {startedRun && (
              <Link to={`/runs/${encodeURIComponent(startedRun)}`} className="button">
                Open run
              </Link>
            )}
            <Link to={`/runs?flow_id=${encodeURIComponent(flow.id)}`} className="button">
              Runs
            </Link>
            <button type="button" className="button" onClick={() => setRunOpen(true)}>
              Run
            </button>
            <button type="button" className="button" onClick={() => setHistoryOpen(true)}>
              History
            </button>
            <button type="button" className="button" onClick={() => setReplayOpen(true)}>
              Replay
            </button>
            {draft && (
              <button
                type="button"
                className="button button-danger-quiet"
                onClick={() => setDiscardOpen(true)}
              >
                Discard draft
              </button>
            )}
            <button
              type="button"
              className="button"
              onClick={() => setPublishOpen(true)}
              disabled={(!draft && !dirty) || publishing}
            >
              Publish
            </button>
            <button type="button" className="button button-primary" onClick={save} disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
          </div>
        </header>
        <DraftBar draft={draft} liveVersion={flow.version} />
        {flowProblems.length > 0 && <Problems problems={flowProblems} />}
        <div className="editor-body">
          <ComponentsPanel onPick={(t) => addNode(t)} />
          <ContainerActionsProvider value={containerActions}>
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
                onClick={() => {
                  setPickerInto(null);
                  setPickerOpen(true);
                }}
              >
                +
              </button>
              {nodes.length === 0 && (
                <div className="canvas-empty">
                  Drag a Webhook from the left, or press + to add a component.
                </div>
              )}
            </div>
          </ContainerActionsProvider>
          <aside className="inspector" aria-label={selected ? `Settings of ${selected.id}` : 'Flow settings'}>
            {selected ? (
              <div key={`${selected.id}:${loads}`}>
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
                        nodeId={selected.id}
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
                {selectedEntry?.container && (
                  <BodySection
                    steps={nodes.filter((n) => n.parentId === selected.id).length}
                    onAdd={() => openBodyPicker(selected.id)}
                  />
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
                key={loads}
                api={api}
                flowId={flowId}
                name={name}
                enabled={enabled}
                settings={settings}
                onName={(v) => {
                  setName(v);
                  setDirty(true);
                }}
                onEnabled={changeEnabled}
                onSettings={(s) => {
                  setSettings(s);
                  setDirty(true);
                }}
              />
            )}
          </aside>
        </div>
        <RunNowDialog
          api={api}
          flowId={flow.id}
          open={runOpen}
          triggers={runTriggers}
          notLive={dirty ? 'unsaved' : draft ? 'draft' : null}
          liveVersion={flow.version}
          onClose={() => setRunOpen(false)}
          onStarted={(runId) => {
            setRunOpen(false);
            setStartedRun(runId);
            toast.success(`Run ${runId} started`);
          }}
        />
        <PublishDialog
          open={publishOpen}
          draft={draft}
          dirty={dirty}
          busy={publishing || saving}
          onClose={() => setPublishOpen(false)}
          onPublish={publish}
        />
        <DiscardDraftDialog
          open={discardOpen}
          liveVersion={flow.version}
          busy={discarding}
          onClose={() => setDiscardOpen(false)}
          onDiscard={discard}
        />
        <HistoryDrawer
          api={api}
          flowId={flow.id}
          open={historyOpen}
          onClose={() => setHistoryOpen(false)}
          liveVersion={flow.version ?? 0}
          draft={draft}
          dirty={dirty}
          onRestored={() => {
            setHistoryOpen(false);
            load();
          }}
        />
        <ReplayDialog
          api={api}
          flowId={flow.id}
          open={replayOpen}
          liveVersion={flow.version ?? 0}
          draft={draft}
          dirty={dirty}
          saving={saving}
          onSave={save}
          onClose={() => setReplayOpen(false)}
          onStarted={(id) => {
            setReplayOpen(false);
            navigate(`/replays/${encodeURIComponent(id)}`);
          }}
        />
        <ComponentPicker
          open={pickerOpen}
          onClose={() => setPickerOpen(false)}
          title={pickerInto ? `Add to the body of ${pickerInto}` : undefined}
          only={pickerInto ? mayGoInABody : undefined}
          onPick={(t) => {
            setPickerOpen(false);
            addNode(t, pickerInto ? { into: pickerInto } : {});
          }}
        />
      </section>
    </NodeCatalogProvider>
  );
}

/** A container's body in its panel: how many steps it has, and a button to add one. */
function BodySection({ steps, onAdd }: { steps: number; onAdd: () => void }) {
  return (
    <section className="panel-section" aria-label="Body">
      <h3>Body</h3>
      <p className="muted">
        {steps === 0
          ? 'No steps yet: they run once per item.'
          : `${steps} step${steps === 1 ? '' : 's'}, run once per item; each item starts at the steps no edge leads to.`}{' '}
        Drop components onto the group, or add one here.
      </p>
      <button type="button" className="button button-small" onClick={onAdd}>
        {ADD_TO_BODY_LABEL}
      </button>
    </section>
  );
}

/**
 * The document's nodes with the URL each webhook answers at: the live flow's (a webhook node only
 * the draft has has none until it is published), or the draft's own where its answer names one.
 */
function withUrls(nodes: DocNode[], live: FlowDoc, draft: Draft | null): DocNode[] {
  const urls = new Map(live.webhooks.map((w) => [w.node_id, w.url]));
  for (const w of draft?.webhooks ?? []) urls.set(w.node_id, w.url);
  return nodes.map((n) => (urls.has(n.id) ? { ...n, url: urls.get(n.id) } : n));
}

function onDragOver(e: DragEvent) {
  e.preventDefault();
  e.dataTransfer.dropEffect = 'move';
}

/** A place a node may write a value: `vars.<name>` or `flow.key.<name>`. */
const VALUE_KEY = /^(vars|flow\.key)\.[A-Za-z_]/;

/**
 * What a template of the selected node can name: the trigger's fields (its own panel says which),
 * the variables nodes set (a key of a key-value field, or a plain-text field, naming `vars.…` or
 * `flow.key.…`), and what an action's or a container's result holds, as its catalog entry's
 * output lists it — of the flow's nodes and of the bodies the node is in (a container's panel sees
 * its own body too); inside a body also the item, `${loop.item}` and `${loop.index}`; and each
 * wait's resume URL, `${resume.<id>}`.
 */
function templateHints(nodes: CanvasNode[], catalog: NodeCatalog, selectedId: string | null): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const selected = selectedId ? byId.get(selectedId) : undefined;
  // The bodies in view: the one the node is in and those around it, and a container's own.
  const bodies = new Set<string | undefined>([undefined]);
  if (selected?.type === 'container') bodies.add(selected.id);
  for (let p = selected?.parentId; p; p = byId.get(p)?.parentId) bodies.add(p);
  const out = new Set<string>(['${Webhook::Body}', '${Webhook::Method}']);
  if (bodies.size > 1) {
    out.add('${loop.item}');
    out.add('${loop.index}');
  }
  for (const n of nodes) {
    if (!bodies.has(n.parentId)) continue;
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
    // What an action's call answered (an HTTP request's status and body, say), or a loop's
    // results — not inside that loop, where they are still being made.
    if (entry.category === 'action' || (entry.container && !bodies.has(n.id)))
      for (const name of outputNames(entry)) out.add(`\${steps.${n.id}.${name}}`);
    // A wait's resume URL, in every template of the run (before the wait too), and what called it.
    if (n.data.type === 'wait') {
      out.add(`\${resume.${n.id}}`);
      if (n.id !== selectedId) out.add(`\${steps.${n.id}.body}`);
    }
  }
  out.add('${run.id}');
  return [...out];
}
