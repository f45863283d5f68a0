/**
 * The canvas's draft (docs/api.md §3.12): Save keeps the document as a draft beside the live flow.
 * Here: the line that says which one the canvas shows (the draft and the version it is based on,
 * or the live version), the draft's test URL, and the dialogs of Publish (an optional note) and
 * Discard draft (asked first).
 */
import { useEffect, useId, useState } from 'react';
import { copyText } from '../clipboard.ts';
import { Dialog } from '../Dialog.tsx';
import { useToast } from '../toasts.tsx';
import type { Draft } from '../versions/model.ts';

/**
 * Under the header: which document the canvas shows — "Live: version N", or "Draft (unpublished
 * changes) — based on version N" with the draft's test URL (Copy) and what calling it does.
 */
export function DraftBar({ draft, liveVersion }: { draft: Draft | null; liveVersion: number | undefined }) {
  const toast = useToast();
  if (!draft)
    return (
      <section className="draft-bar draft-bar-live" aria-label="Version">
        <strong data-testid="version-state">Live: version {liveVersion ?? '?'}</strong>
        <span className="muted">
          Save keeps your changes as a draft; Publish makes the draft the live version.
        </span>
      </section>
    );
  const url = draft.test_url;
  return (
    <section className="draft-bar" aria-label="Draft">
      <strong data-testid="version-state">
        Draft (unpublished changes) — based on version {draft.base_version}
      </strong>
      {url ? (
        <>
          <span className="draft-test-url">
            <span>Test URL</span> <code title={url}>{url}</code>
            <button
              type="button"
              className="button button-small"
              onClick={async () =>
                (await copyText(url))
                  ? toast.success('Test URL copied')
                  : toast.error('Could not copy the URL')
              }
            >
              Copy
            </button>
          </span>
          <span className="muted">
            Calling it runs the draft as a test run: its events are not delivered and its e-mails not sent.
          </span>
        </>
      ) : (
        <span className="muted">The draft has no webhook, so no test URL.</span>
      )}
    </section>
  );
}

export function PublishDialog(props: {
  open: boolean;
  draft: Draft | null;
  dirty: boolean;
  busy: boolean;
  onClose: () => void;
  onPublish: (note: string) => void;
}) {
  const [note, setNote] = useState('');
  const noteId = useId();
  useEffect(() => {
    if (props.open) setNote('');
  }, [props.open]);
  return (
    <Dialog
      title="Publish the draft"
      open={props.open}
      onClose={props.onClose}
      onSubmit={() => props.onPublish(note.trim())}
      submitLabel={props.busy ? 'Publishing…' : 'Publish'}
      busy={props.busy}
    >
      <p>
        The draft becomes the next version and serves traffic at once
        {props.draft ? ` (it is based on version ${props.draft.base_version})` : ''}.
        {props.dirty ? ' The unsaved changes on the canvas are saved into it first.' : ''}
      </p>
      <div className="field">
        <label htmlFor={noteId}>Note (optional)</label>
        <input
          id={noteId}
          value={note}
          maxLength={500}
          placeholder="What changed, for the history"
          onChange={(e) => setNote(e.target.value)}
        />
      </div>
    </Dialog>
  );
}

export function DiscardDraftDialog(props: {
  open: boolean;
  liveVersion: number | undefined;
  busy: boolean;
  onClose: () => void;
  onDiscard: () => void;
}) {
  return (
    <Dialog
      title="Discard the draft"
      open={props.open}
      onClose={props.onClose}
      onSubmit={props.onDiscard}
      submitLabel={props.busy ? 'Discarding…' : 'Discard draft'}
      danger
      busy={props.busy}
    >
      <p>
        The draft's changes are dropped and the canvas shows the live version
        {props.liveVersion ? ` (version ${props.liveVersion})` : ''} again. Its test URL then runs the live
        version.
      </p>
    </Dialog>
  );
}
