/**
 * A signing secret shown once (after create and after rotation): the API never returns it again,
 * so the dialog says so and offers a copy button. Closing it forgets the secret.
 */
import { useEffect, useRef } from 'react';
import { copyText } from '../clipboard.ts';
import { useToast } from '../toasts.tsx';

export function SecretDialog(props: {
  title: string;
  secret: string | null;
  note: string;
  onClose: () => void;
}) {
  const toast = useToast();
  const ref = useRef<HTMLDialogElement>(null);
  const open = props.secret !== null;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const copy = async () => {
    if (props.secret && (await copyText(props.secret))) toast.success('Signing secret copied');
    else toast.error('The browser did not allow copying; select the secret and copy it by hand');
  };
  return (
    <dialog ref={ref} className="dialog" aria-label={props.title} onClose={props.onClose}>
      {open && (
        <div>
          <h2>{props.title}</h2>
          <p className="muted">{props.note}</p>
          <div className="secret-box">
            <code className="secret-value">{props.secret}</code>
            <button type="button" className="button button-small" onClick={copy}>
              Copy
            </button>
          </div>
          <p className="notice">
            Copy it now: <strong>you will not see this secret again.</strong> Receivers use it to check the{' '}
            <code>webhook-signature</code> header (Standard Webhooks).
          </p>
          <div className="dialog-actions">
            <button type="button" className="button button-primary" onClick={props.onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}
