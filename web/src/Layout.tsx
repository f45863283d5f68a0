/** The frame of every signed-in screen: navigation on the left, the screen on the right. */
import type { ReactNode } from 'react';
import { Link } from './router.tsx';

/** The sections of docs/api.md §8, in its order. */
const SECTIONS = [
  { path: '/flows', label: 'Flows' },
  { path: '/runs', label: 'Runs' },
  { path: '/endpoints', label: 'Webhook Settings' },
  { path: '/messages', label: 'Messages' },
  { path: '/credentials', label: 'Credentials' },
  { path: '/settings', label: 'Settings' },
];

export function Layout(props: { path: string; onSignOut: () => void; children: ReactNode }) {
  return (
    <div className="layout">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Hookflow</div>
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <Link
                to={s.path}
                className="nav-link"
                current={props.path === s.path || props.path.startsWith(`${s.path}/`)}
              >
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          <a className="nav-link nav-link-quiet" href="/api/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
          <button type="button" className="button button-quiet" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">{props.children}</main>
    </div>
  );
}
