/** Which rows have a request in flight (their buttons are disabled until it ends). */
import { useCallback, useState } from 'react';

export function useBusyIds(): [ReadonlySet<string>, (id: string, busy: boolean) => void] {
  const [busyIds, setBusyIds] = useState<ReadonlySet<string>>(new Set());
  const markBusy = useCallback(
    (id: string, busy: boolean) =>
      setBusyIds((s) => {
        const next = new Set(s);
        if (busy) next.add(id);
        else next.delete(id);
        return next;
      }),
    [],
  );
  return [busyIds, markBusy];
}
