import { useEffect, useMemo, useState } from 'react';
import { createApi } from './api.ts';
import { CredentialsPage } from './credentials/CredentialsPage.tsx';
import { FlowsPage } from './flows/FlowsPage.tsx';
import { Layout } from './Layout.tsx';
import { Link, navigate, usePath } from './router.tsx';
import { storedKey, storeKey } from './session.ts';
import { SettingsPage } from './settings/SettingsPage.tsx';
import { SignIn } from './SignIn.tsx';
import { ToastProvider } from './toasts.tsx';

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
