/** A node on the canvas: its id as the label, its kind, a one-line summary, and its problems. */
import { Handle, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import { type CanvasNode, COMPONENT_BY_TYPE, type Config, type NodeType } from './document.ts';

function summary(type: NodeType, c: Config): string {
  const s = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  switch (type) {
    case 'webhook': {
      const methods = Array.isArray(c.methods) ? c.methods.join(', ') : 'POST';
      const mode = (c.response as { mode?: string } | undefined)?.mode ?? 'ack';
      return `${methods} · answers ${mode}`;
    }
    case 'set':
      return `${Object.keys((c.values as object) ?? {}).length} value(s)`;
    case 'if':
      return s(c.condition);
    case 'switch':
      return s(c.value);
    case 'transform':
      return `→ ${s(c.into)}`;
    case 'http':
      return `${s(c.method) || 'GET'} ${s(c.url)}`;
    case 'webhook_call':
      return c.endpoint_id ? `endpoint ${s(c.endpoint_id)}` : 'no endpoint chosen';
    case 'emit':
      return s(c.event_type);
    case 'delay':
      return c.until ? `until ${s(c.until)}` : `${Number(c.ms ?? 0) / 1000} s`;
    case 'respond':
      return `answers ${s(c.status) || '200'}`;
    case 'fail':
      return s(c.message);
  }
}

export const StepNode = memo(function StepNode({ id, data, selected }: NodeProps<CanvasNode>) {
  const component = COMPONENT_BY_TYPE.get(data.type);
  const hasProblems = data.problems.length > 0;
  return (
    <div
      className={`step step-${data.type}${selected ? ' step-selected' : ''}${hasProblems ? ' step-invalid' : ''}`}
      data-testid={`node-${id}`}
    >
      {!component?.trigger && <Handle type="target" position={Position.Left} className="handle" />}
      <div className="step-head">
        <span className="step-id">{id}</span>
        <span className="step-kind">{component?.label ?? data.type}</span>
      </div>
      <div className="step-summary" title={summary(data.type, data.config)}>
        {summary(data.type, data.config) || '\u00a0'}
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
      {data.type === 'if' ? (
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
        !component?.terminal && <Handle type="source" position={Position.Right} className="handle" />
      )}
    </div>
  );
});
