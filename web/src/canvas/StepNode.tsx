/**
 * A node on the canvas: its id as the label, its kind, a one-line summary, and its problems. What
 * the kind is called, its colour, its summary and its handles come from the node catalog: a trigger
 * takes no edge in, a terminal node none out, boolean edges leave from a true and a false handle.
 */
import { Handle, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import { kindClasses, summaryOf, useNodeCatalog } from './catalog.ts';
import type { CanvasNode } from './document.ts';

export const StepNode = memo(function StepNode({ id, data, selected }: NodeProps<CanvasNode>) {
  const entry = useNodeCatalog().byType.get(data.type);
  const hasProblems = data.problems.length > 0;
  const summary = summaryOf(entry, data.config);
  return (
    <div
      className={`step ${kindClasses('step', entry)}${selected ? ' step-selected' : ''}${hasProblems ? ' step-invalid' : ''}`}
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
      {entry?.terminal ? null : entry?.edges === 'boolean' ? (
        <>
          <Handle
            type="source"
            position={Position.Right}
            id="true"
            className="handle handle-true"
            style={{ top: '35%' }}
          />
          <span className="handle-label handle-label-true">true</span>
          <Handle
            type="source"
            position={Position.Right}
            id="false"
            className="handle handle-false"
            style={{ top: '70%' }}
          />
          <span className="handle-label handle-label-false">false</span>
        </>
      ) : (
        <Handle type="source" position={Position.Right} className="handle" />
      )}
    </div>
  );
});
