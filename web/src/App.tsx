import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { type Api, createApi } from './api.ts';
import { CredentialsPage } from './credentials/CredentialsPage.tsx';
import { EndpointsPage } from './endpoints/EndpointsPage.tsx';
import { FlowsPage } from './flows/FlowsPage.tsx';
import { Layout } from './Layout.tsx';
import { MessageDetailPage } from './messages/MessageDetailPage.tsx';
import { MessagesPage } from './messages/MessagesPage.tsx';
import { ReplayPage } from './replays/ReplayPage.tsx';
import { Link, navigate, usePath } from './router.tsx';
import { RunDetailPage } from './runs/RunDetailPage.tsx';
import { RunsPage } from './runs/RunsPage.tsx';
import { SignIn } from './SignIn.tsx';
import { storedKey, storeKey } from './session.ts';
import { SettingsPage } from './settings/SettingsPage.tsx';
import { ToastProvider } from './toasts.tsx';
import { ComparePage } from './versions/ComparePage.tsx';

/** The canvas (and React Flow with it) loads only when a flow is opened. */
const FlowEditorPage = lazy(() =>
  import('./canvas/FlowEditorPage.tsx').then((m) => ({ default: m.FlowEditorPage })),
);
/** A version drawn read-only: React Flow again. */
const VersionPage = lazy(() =>
  import('./versions/VersionPage.tsx').then((m) => ({ default: m.VersionPage })),
);

/** `/flows/<id>`, `/flows/<id>/versions/compare`, `/flows/<id>/versions/<n>`. */
function flowRoute(path: string): { flowId: string; view: 'canvas' | 'compare' | number | null } {
  const [id = '', section, sub, ...rest] = path.slice('/flows/'.length).split('/');
  const flowId = decodeURIComponent(id);
  if (section === undefined) return { flowId, view: 'canvas' };
  if (section !== 'versions' || rest.length > 0) return { flowId, view: null };
  if (sub === 'compare') return { flowId, view: 'compare' };
  const n = Number(sub);
  return { flowId, view: Number.isInteger(n) && n >= 1 ? n : null };
}

function NotFound({ path }: { path: string }) {
  return (
    <section className="empty">
      <h1>Nothing here</h1>
      <p className="muted">
        There is no page at <code>{path}</code>.
      </p>
      <Link to="/flows" className="button">
        Go to Flows
      </Link>
    </section>
  );
}

/** A flow's screens: its canvas, a version of it, two versions compared. */
function FlowScreens({ api, path }: { api: Api; path: string }) {
  const { flowId, view } = flowRoute(path);
  if (view === null) return <NotFound path={path} />;
  if (view === 'compare') return <ComparePage api={api} flowId={flowId} />;
  return (
    <Suspense fallback={<p className="muted">Loading the canvas…</p>}>
      {view === 'canvas' ? (
        <FlowEditorPage api={api} flowId={flowId} />
      ) : (
        <VersionPage api={api} flowId={flowId} version={view} />
      )}
    </Suspense>
  );
}

export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePath();

  const signOut = (why: string | null) => {
    storeKey(null);
    setKey(null);
    setNotice(why);
  };
  // A key revoked while signed in: back to the sign-in screen, saying why.
  // biome-ignore lint/correctness/useExhaustiveDependencies: signOut only sets state
  const api = useMemo(() => (key ? createApi(key, (msg) => signOut(msg)) : null), [key]);

  useEffect(() => {
    if (path === '/') navigate('/flows', { replace: true });
  }, [path]);

  return (
    <ToastProvider>
      {!api ? (
        <SignIn
          notice={notice}
          onSignedIn={(k) => {
            storeKey(k);
            setNotice(null);
            setKey(k);
          }}
        />
      ) : (
        <Layout path={path} onSignOut={() => signOut('Signed out.')}>
          {path === '/flows' || path === '/' ? (
            <FlowsPage api={api} />
          ) : path.startsWith('/flows/') ? (
            <FlowScreens key={path} api={api} path={path} />
          ) : path.startsWith('/replays/') ? (
            <ReplayPage key={path} api={api} id={decodeURIComponent(path.slice('/replays/'.length))} />
          ) : path === '/runs' ? (
            <RunsPage api={api} />
          ) : path.startsWith('/runs/') ? (
            <RunDetailPage api={api} id={decodeURIComponent(path.slice('/runs/'.length))} />
          ) : path === '/endpoints' ? (
            <EndpointsPage api={api} />
          ) : path === '/messages' ? (
            <MessagesPage api={api} />
          ) : path.startsWith('/messages/') ? (
            <MessageDetailPage
              key={path}
              api={api}
              id={decodeURIComponent(path.slice('/messages/'.length))}
            />
          ) : path === '/credentials' ? (
            <CredentialsPage api={api} />
          ) : path === '/settings' ? (
            <SettingsPage api={api} />
          ) : (
            <NotFound path={path} />
          )}
        </Layout>
      )}
    </ToastProvider>
  );
}
