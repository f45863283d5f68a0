/**
 * A node on the canvas: its id as the label, its kind, a one-line summary, and its problems. What
 * the kind is called, its colour, its summary and its handles come from the node catalog: a trigger
 * takes no edge in, a terminal node none out, boolean edges leave from a true and a false handle.
 * A node with `on_error: "branch"` has an error handle too (kept while error edges leave it, so
 * they stay drawn after the setting changed and the save can say what is wrong).
 */
import { Handle, type NodeProps, Position, useStore, useUpdateNodeInternals } from '@xyflow/react';
import { memo, useEffect, useRef } from 'react';
import { ERROR_HANDLE, kindClasses, summaryOf, TIMEOUT_HANDLE, useNodeCatalog } from './catalog.ts';
import type { CanvasNode, FlowProblem } from './document.ts';

/** A labelled source handle at `top` (a percentage of the node's height). */
function LabelledHandle({ id, label, top }: { id: string; label: string; top: number }) {
  return (
    <>
      <Handle
        type="source"
        position={Position.Right}
        id={id}
        className={`handle handle-${id}`}
        style={{ top: `${top}%` }}
      />
      <span className={`handle-label handle-label-${id}`} style={{ top: `calc(${top}% - 7px)` }}>
        {label}
      </span>
    </>
  );
}

/**
 * A node's handles by its catalog entry: one in (not on a trigger); out, one plain or a true and a
 * false one (none on a terminal node); and the error handle of a node with `on_error: "branch"`
 * (kept while error edges leave it). Returns whether the error handle is drawn.
 */
export function useErrorHandle(id: string, data: CanvasNode['data']): boolean {
  const entry = useNodeCatalog().byType.get(data.type);
  const hasErrorEdges = useStore((s) =>
    s.edges.some((e) => e.source === id && e.sourceHandle === ERROR_HANDLE),
  );
  const errorHandle = !entry?.terminal && (data.on_error === 'branch' || hasErrorEdges);
  // An error handle that comes or goes is measured again, so edges attach to it. Not on mount:
  // React Flow measures a new node itself (and fits the view to the nodes once they are measured).
  const updateNodeInternals = useUpdateNodeInternals();
  const measured = useRef(errorHandle);
  useEffect(() => {
    if (measured.current === errorHandle) return;
    measured.current = errorHandle;
    updateNodeInternals(id);
  }, [id, errorHandle, updateNodeInternals]);
  return errorHandle;
}

export function NodeHandles({ type, errorHandle }: { type: string; errorHandle: boolean }) {
  const entry = useNodeCatalog().byType.get(type);
  const boolean = entry?.edges === 'boolean';
  const timeout = entry?.edges === 'timeout';
  return (
    <>
      {!entry?.trigger && <Handle type="target" position={Position.Left} className="handle" />}
      {entry?.terminal ? null : boolean ? (
        <>
          <LabelledHandle id="true" label="true" top={errorHandle ? 28 : 35} />
          <LabelledHandle id="false" label="false" top={errorHandle ? 54 : 70} />
        </>
      ) : timeout ? (
        <>
          <Handle
            type="source"
            position={Position.Right}
            className="handle"
            style={{ top: errorHandle ? '28%' : '35%' }}
          />
          <LabelledHandle id={TIMEOUT_HANDLE} label="timeout" top={errorHandle ? 54 : 70} />
        </>
      ) : (
        <Handle
          type="source"
          position={Position.Right}
          className="handle"
          style={errorHandle ? { top: '35%' } : undefined}
        />
      )}
      {errorHandle && <LabelledHandle id={ERROR_HANDLE} label="error" top={boolean || timeout ? 80 : 72} />}
    </>
  );
}

/** The problems the API found in a node, as a list on it. */
export function NodeProblems({ problems, className }: { problems: FlowProblem[]; className: string }) {
  if (problems.length === 0) return null;
  return (
    <ul className={className} role="alert">
      {problems.map((p) => (
        <li key={`${p.field}:${p.msg}`}>
          {p.field.replace(/^config\./, '')}: {p.msg}
        </li>
      ))}
    </ul>
  );
}

export const StepNode = memo(function StepNode({ id, data, selected }: NodeProps<CanvasNode>) {
  const entry = useNodeCatalog().byType.get(data.type);
  const hasProblems = data.problems.length > 0;
  const summary = summaryOf(entry, data.config);
  const errorHandle = useErrorHandle(id, data);
  return (
    <div
      className={`step ${kindClasses('step', entry)}${selected ? ' step-selected' : ''}${hasProblems ? ' step-invalid' : ''}${errorHandle ? ' step-with-error' : ''}`}
      data-testid={`node-${id}`}
    >
      <div className="step-head">
        <span className="step-id">{id}</span>
        <span className="step-kind">{entry?.label ?? data.type}</span>
      </div>
      <div className="step-summary" title={summary}>
        {summary || '\u00a0'}
      </div>
      <NodeProblems problems={data.problems} className="step-problems" />
      <NodeHandles type={data.type} errorHandle={errorHandle} />
    </div>
  );
});
