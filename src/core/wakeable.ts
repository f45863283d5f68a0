/**
 * The idle wait of a polling worker: sleeps until the poll interval passes or someone pokes it
 * (a NOTIFY, a fake clock moved forward). A poke that comes while the worker is busy is kept, so the
 * next idle check does not sleep through it.
 */
export class Wakeable {
  private wake?: () => void;
  private pending = false;

  poke(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Call before looking for work: pokes from now on count. */
  arm(): void {
    this.pending = false;
  }

  /** Sleeps `ms` unless poked since `arm()` (then returns at once) or while sleeping. */
  sleep(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
