/**
 * A node on the canvas: its id as the label, its kind, a one-line summary, and its problems. What
 * the kind is called, its colour, its summary and its handles come from the node catalog: a trigger
 * takes no edge in, a terminal node none out, boolean edges leave from a true and a false handle.
 * A node with `on_error: "branch"` has an error handle too (kept while error edges leave it, so
 * they stay drawn after the setting changed and the save can say what is wrong).
 */
import { Handle, type NodeProps, Position, useStore, useUpdateNodeInternals } from '@xyflow/react';
import { memo, useEffect, useRef } from 'react';
import { ERROR_HANDLE, kindClasses, summaryOf, useNodeCatalog } from './catalog.ts';
import type { CanvasNode } from './document.ts';

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

export const StepNode = memo(function StepNode({ id, data, selected }: NodeProps<CanvasNode>) {
  const entry = useNodeCatalog().byType.get(data.type);
  const hasProblems = data.problems.length > 0;
  const summary = summaryOf(entry, data.config);
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
  const boolean = entry?.edges === 'boolean';
  return (
    <div
      className={`step ${kindClasses('step', entry)}${selected ? ' step-selected' : ''}${hasProblems ? ' step-invalid' : ''}${errorHandle ? ' step-with-error' : ''}`}
      data-testid={`node-${id}`}
    >
      {!entry?.trigger && <Handle type="target" position={Position.Left} className="handle" />}
      <div className="step-head">
        <span className="step-id">{id}</span>
        <span className="step-kind">{entry?.label ?? data.type}</span>
      </div>
      <div className="step-summary" title={summary}>
        {summary || '\u00a0'}
      </div>
      {hasProblems && (
        <ul className="step-problems" role="alert">
          {data.problems.map((p) => (
            <li key={`${p.field}:${p.msg}`}>
              {p.field.replace(/^config\./, '')}: {p.msg}
            </li>
          ))}
        </ul>
      )}
      {entry?.terminal ? null : boolean ? (
        <>
          <LabelledHandle id="true" label="true" top={errorHandle ? 28 : 35} />
          <LabelledHandle id="false" label="false" top={errorHandle ? 54 : 70} />
        </>
      ) : (
        <Handle
          type="source"
          position={Position.Right}
          className="handle"
          style={errorHandle ? { top: '35%' } : undefined}
        />
      )}
      {errorHandle && <LabelledHandle id={ERROR_HANDLE} label="error" top={boolean ? 80 : 72} />}
    </div>
  );
});
