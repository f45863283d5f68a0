/** A modal built on <dialog>: focus is trapped and Escape closes it, as the browser does natively. */
import { type FormEvent, type ReactNode, useEffect, useRef } from 'react';

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
