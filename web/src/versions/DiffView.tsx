/**
 * Two documents of a flow side by side (left the older, right the newer), from versionDiff.ts:
 * nodes added in green, removed in red, changed in amber with each field's old and new value;
 * unchanged nodes (a move on the canvas is no change) folded away; edges added and removed; the
 * name, enabled and the settings.
 */
import type { ReactNode } from 'react';
import type { FieldChange, FlowDiff, NodeDiff } from '../canvas/versionDiff.ts';

export function DiffView(props: { diff: FlowDiff; left: string; right: string }) {
  const { diff } = props;
  const shown = diff.nodes.filter((n) => n.status !== 'unchanged');
  const unchanged = diff.nodes.filter((n) => n.status === 'unchanged');
  const flowChanges = [diff.name, diff.enabled].filter((c): c is FieldChange => c !== null);
  return (
    <section className="diff" aria-label="Differences">
      <div className="diff-columns diff-heads">
        <div className="diff-head">{props.left}</div>
        <div className="diff-head">{props.right}</div>
      </div>
      {diff.same && (
        <p className="notice" role="note">
          No differences{unchanged.some((n) => n.moved) ? ' but where nodes are drawn' : ''}.
        </p>
      )}

      {flowChanges.length > 0 && (
        <DiffSection title="Flow">
          {flowChanges.map((c) => (
            <ChangeRows key={c.path} change={c} />
          ))}
        </DiffSection>
      )}

      {(shown.length > 0 || unchanged.length > 0) && (
        <DiffSection title="Nodes">
          {shown.map((n) => (
            <NodeRow key={`${n.status}:${n.id}`} node={n} />
          ))}
          {unchanged.length > 0 && (
            <details className="diff-unchanged">
              <summary>
                {unchanged.length} unchanged node{unchanged.length === 1 ? '' : 's'}
              </summary>
              <ul>
                {unchanged.map((n) => (
                  <li key={n.id}>
                    <code>{n.id}</code> <span className="muted">{n.type}</span>
                    {n.moved && <span className="muted diff-moved"> · moved</span>}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </DiffSection>
      )}

      {(diff.edges.added.length > 0 || diff.edges.removed.length > 0) && (
        <DiffSection title="Edges">
          {diff.edges.removed.map((e) => (
            <section
              key={`-${e.key}`}
              className="diff-columns diff-row diff-removed"
              aria-label={`Edge ${e.key} removed`}
            >
              <div className="diff-cell">
                <code>{e.key}</code> <span className="diff-tag">removed</span>
              </div>
              <div className="diff-cell diff-empty" />
            </section>
          ))}
          {diff.edges.added.map((e) => (
            <section
              key={`+${e.key}`}
              className="diff-columns diff-row diff-added"
              aria-label={`Edge ${e.key} added`}
            >
              <div className="diff-cell diff-empty" />
              <div className="diff-cell">
                <code>{e.key}</code> <span className="diff-tag">added</span>
              </div>
            </section>
          ))}
          {diff.edges.unchanged > 0 && (
            <p className="muted diff-note">
              {diff.edges.unchanged} unchanged edge{diff.edges.unchanged === 1 ? '' : 's'}
            </p>
          )}
        </DiffSection>
      )}

      {diff.settings.length > 0 && (
        <DiffSection title="Settings">
          {diff.settings.map((c) => (
            <ChangeRows key={c.path} change={c} />
          ))}
        </DiffSection>
      )}
    </section>
  );
}

function DiffSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="diff-section" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function NodeRow({ node }: { node: NodeDiff }) {
  const head = (
    <>
      <code className="diff-node-id">{node.id}</code> <span className="muted">{node.type}</span>{' '}
      <span className="diff-tag">{node.status}</span>
      {node.moved && <span className="muted diff-moved"> · moved</span>}
    </>
  );
  return (
    <section className={`diff-node diff-${node.status}`} aria-label={`Node ${node.id} ${node.status}`}>
      <div className="diff-columns diff-row">
        <div className={node.status === 'added' ? 'diff-cell diff-empty' : 'diff-cell'}>
          {node.status !== 'added' && head}
          {node.status === 'removed' && <NodeConfig node={node.before} />}
        </div>
        <div className={node.status === 'removed' ? 'diff-cell diff-empty' : 'diff-cell'}>
          {node.status !== 'removed' && head}
          {node.status === 'added' && <NodeConfig node={node.after} />}
        </div>
      </div>
      {node.status === 'changed' && node.changes.map((c) => <ChangeRows key={c.path} change={c} />)}
    </section>
  );
}

/** An added or removed node's config, so what it does can be read here. */
function NodeConfig({ node }: { node?: { config?: Record<string, unknown> } }) {
  const config = node?.config ?? {};
  if (Object.keys(config).length === 0) return null;
  return <pre className="json json-small diff-config">{JSON.stringify(config, null, 2)}</pre>;
}

/** A field that changed: its path over both columns, the old value left and the new one right. */
function ChangeRows({ change }: { change: FieldChange }) {
  return (
    <section className={`diff-change diff-change-${change.kind}`} aria-label={`Change ${change.path}`}>
      <div className="diff-path">
        <code>{change.path}</code> <span className="diff-tag">{change.kind}</span>
      </div>
      <div className="diff-columns">
        <div className="diff-cell">
          {change.kind !== 'added' && <Value value={change.before} className="diff-old" />}
        </div>
        <div className="diff-cell">
          {change.kind !== 'removed' && <Value value={change.after} className="diff-new" />}
        </div>
      </div>
    </section>
  );
}

export function Value({ value, className }: { value: unknown; className: string }) {
  const text =
    value === undefined
      ? '(not set)'
      : typeof value === 'string'
        ? value
        : JSON.stringify(value, null, typeof value === 'object' && value !== null ? 2 : undefined);
  return <pre className={`diff-value ${className}`}>{text}</pre>;
}
