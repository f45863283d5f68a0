/** A small history router: the server answers every UI path with index.html, so links can be shared. */
import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';

const listeners = new Set<() => void>();

/** A screen with unsaved work asks before a link takes the person elsewhere. */
let leaveGuard: string | null = null;

export function useLeaveGuard(message: string | null): void {
  useEffect(() => {
    if (!message) return;
    leaveGuard = message;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => {
      if (leaveGuard === message) leaveGuard = null;
      window.removeEventListener('beforeunload', warn);
    };
  }, [message]);
}

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (leaveGuard && path !== location.pathname + location.search && !window.confirm(leaveGuard)) return;
  leaveGuard = null;
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const l of listeners) l();
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

export function Link(props: { to: string; className?: string; children: ReactNode; current?: boolean }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={props.to}
      className={props.className}
      aria-current={props.current ? 'page' : undefined}
      onClick={onClick}
    >
      {props.children}
    </a>
  );
}
