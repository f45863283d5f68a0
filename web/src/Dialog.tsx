/** A modal built on <dialog>: focus is trapped and Escape closes it, as the browser does natively. */
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { type Api, errorText } from './api.ts';
import { useToast } from './toasts.tsx';

export function Dialog(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  onSubmit: () => void;
  submitLabel: string;
  danger?: boolean;
  busy?: boolean;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!props.busy) props.onSubmit();
  };
  return (
    <dialog ref={ref} className="dialog" aria-label={props.title} onClose={props.onClose}>
      {props.open && (
        <form onSubmit={submit}>
          <h2>{props.title}</h2>
          <div className="dialog-body">{props.children}</div>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={props.onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className={props.danger ? 'button button-danger' : 'button button-primary'}
              disabled={props.busy}
            >
              {props.submitLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

/**
 * "Delete <thing>?" with the API call behind it: Delete sends DELETE to `path(item)`, then toasts and
 * calls `onDeleted`; a refusal is toasted in the API's words and the dialog stays open.
 */
export function DeleteDialog<T extends { id: string; name: string }>(props: {
  api: Api;
  /** "flow", "credential", "endpoint": the title, the button and the toasts name it. */
  noun: string;
  item: T | null;
  path: (item: T) => string;
  onClose: () => void;
  onDeleted: (item: T) => void;
  /** What deleting it does, shown under the question. */
  children: (item: T) => ReactNode;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const { api, noun, item, path, onClose, onDeleted } = props;
  const remove = async () => {
    if (!item) return;
    setBusy(true);
    try {
      await api('DELETE', path(item));
      toast.success(`${capitalized(noun)} “${item.name}” deleted`);
      onDeleted(item);
      onClose();
    } catch (err) {
      toast.error(`Could not delete “${item.name}”: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Delete ${noun}`}
      open={item !== null}
      onClose={onClose}
      onSubmit={remove}
      submitLabel={busy ? 'Deleting…' : `Delete ${noun}`}
      danger
      busy={busy}
    >
      {item && (
        <p>
          Delete <strong>{item.name}</strong> (<code>{item.id}</code>)? {props.children(item)}
        </p>
      )}
    </Dialog>
  );
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A panel over the right edge of the screen, built on <dialog> like Dialog (Escape and × close
 * it): for lists beside the screen that opened them (a flow's history).
 */
export function Drawer(props: { title: string; open: boolean; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} className="drawer" aria-label={props.title} onClose={props.onClose}>
      {props.open && (
        <>
          <div className="drawer-head">
            <h2>{props.title}</h2>
            <button type="button" className="toast-close" aria-label="Close" onClick={props.onClose}>
              ×
            </button>
          </div>
          <div className="drawer-body">{props.children}</div>
        </>
      )}
    </dialog>
  );
}
