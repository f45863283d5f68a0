/**
 * The components, one per entry of the node catalog in its order: a side panel to drag them from
 * (or click), and the plus button's searchable picker (which, adding to a container's body, offers
 * only the types a body may hold).
 */
import { type DragEvent, useEffect, useRef, useState } from 'react';
import { kindClasses, type NodeCatalogEntry, useNodeCatalog } from './catalog.ts';
import type { NodeType } from './document.ts';

export const DRAG_TYPE = 'application/x-hookflow-component';

export function ComponentsPanel({ onPick }: { onPick: (t: NodeType) => void }) {
  const { entries } = useNodeCatalog();
  const start = (e: DragEvent, type: NodeType) => {
    e.dataTransfer.setData(DRAG_TYPE, type);
    e.dataTransfer.effectAllowed = 'move';
  };
  return (
    <aside className="components" aria-label="Components">
      <h2>Components</h2>
      <p className="muted">Drag onto the canvas, or click to add.</p>
      <ul>
        {entries.map((c) => (
          <li key={c.type}>
            <button
              type="button"
              className={`component ${kindClasses('component', c)}`}
              draggable
              onDragStart={(e) => start(e, c.type)}
              onClick={() => onPick(c.type)}
              title={c.description}
            >
              {c.label}
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}

function matches(c: NodeCatalogEntry, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (!s) return true;
  return [c.label, c.type, c.description].some((x) => x.toLowerCase().includes(s));
}

export function ComponentPicker(props: {
  open: boolean;
  onClose: () => void;
  onPick: (t: NodeType) => void;
  /** The dialog's title; default "Add a component". */
  title?: string;
  /** Only the entries this keeps are offered. */
  only?: (entry: NodeCatalogEntry) => boolean;
}) {
  const title = props.title ?? 'Add a component';
  const all = useNodeCatalog().entries;
  const entries = props.only ? all.filter(props.only) : all;
  const ref = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      setQuery('');
      setActive(0);
      d.showModal();
    }
    if (!props.open && d.open) d.close();
  }, [props.open]);
  const found = entries.filter((c) => matches(c, query));
  const pick = (c: NodeCatalogEntry | undefined) => {
    if (c) props.onPick(c.type);
  };
  return (
    <dialog ref={ref} className="dialog picker" aria-label={title} onClose={props.onClose}>
      {props.open && (
        <>
          <h2>{title}</h2>
          <input
            type="search"
            className="search"
            aria-label="Search components"
            placeholder="Search: http, respond, delay…"
            value={query}
            autoFocus
            onChange={(e) => {
              setQuery(e.target.value);
              setActive(0);
            }}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown') {
                e.preventDefault();
                setActive((a) => Math.min(a + 1, found.length - 1));
              } else if (e.key === 'ArrowUp') {
                e.preventDefault();
                setActive((a) => Math.max(a - 1, 0));
              } else if (e.key === 'Enter') {
                e.preventDefault();
                pick(found[active]);
              }
            }}
          />
          <ul className="picker-list" aria-label="Components found">
            {found.map((c, i) => (
              <li key={c.type}>
                <button
                  type="button"
                  className={`picker-item${i === active ? ' picker-item-active' : ''}`}
                  onClick={() => pick(c)}
                  onMouseEnter={() => setActive(i)}
                >
                  <strong>{c.label}</strong>
                  <span className="muted">{c.description}</span>
                </button>
              </li>
            ))}
            {found.length === 0 && <li className="muted">No component matches “{query}”.</li>}
          </ul>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={props.onClose}>
              Cancel
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
