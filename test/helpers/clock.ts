/**
 * A fake clock for the app (startTestApp's `now`): real time shifted by an offset the test moves,
 * so durable sleeps, back-offs, timeouts and cron ticks come due without waiting.
 */
export function fakeClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    /** Moves the clock forward by `ms`. */
    advance: (ms: number) => {
      offset += ms;
    },
    /** Moves the clock to `ms` (real time then runs on from there). */
    set: (ms: number) => {
      offset = ms - Date.now();
    },
  };
}
