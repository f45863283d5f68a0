/**
 * An endpoint's circuit breaker as Webhook Settings shows it (docs/api.md §5.7): nothing while it is
 * closed and healthy, a quiet "N recent failures" while closed after failed attempts, a red badge
 * with the retry time while open, and "Probing…" while half open.
 */
import { useEffect, useState } from 'react';
import { formatClock, formatCountdown } from '../format.ts';
import type { Endpoint, EndpointCircuit } from './types.ts';

const OPEN_TEXT =
  'After repeated failed attempts Hookflow has paused sending to this endpoint for a cool-down. ' +
  'Its deliveries wait and keep their place; waiting uses none of their attempts. ' +
  'At the retry time one delivery goes out as a probe: a 2xx closes the circuit and the rest follow, ' +
  'a failure pauses it again for twice as long (at most 10 min).';
const HALF_OPEN_TEXT =
  'The cool-down is over: one delivery is being sent as a probe. A 2xx closes the circuit and the ' +
  'waiting deliveries go out; a failure pauses the endpoint again for twice as long. ' +
  'Waiting uses none of the deliveries’ attempts.';
const failuresText = (n: number) =>
  `The last ${n === 1 ? 'attempt' : `${n} attempts`} to this endpoint failed. After 5 failures in a row ` +
  '(by default) the circuit opens: deliveries then wait for a cool-down instead of using up their retries. ' +
  'A 2xx answer resets the count.';

/** Whether the circuit says more than "all well" (the page then keeps it fresh). */
export function circuitWorthWatching(ep: Endpoint): boolean {
  return ep.enabled && (ep.circuit.state !== 'closed' || ep.circuit.consecutive_failures > 0);
}

/** An open circuit whose retry time is still ahead (its countdown ticks). */
export function circuitCountingDown(ep: Endpoint, now: number): boolean {
  return (
    ep.enabled &&
    ep.circuit.state === 'open' &&
    ep.circuit.until !== null &&
    new Date(ep.circuit.until).getTime() > now
  );
}

/** The current time, updated every second while `active`. */
export function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** When the probe goes: "retries at 2:05:30 PM (in 25 s)", or with the next due delivery. */
function RetryAt({ until, now }: { until: string | null; now: number }) {
  const at = until ? new Date(until).getTime() : Number.NaN;
  if (!until || Number.isNaN(at) || at <= now) return <>probe goes with the next due delivery</>;
  return (
    <>
      retries at{' '}
      <time className="circuit-until" dateTime={until}>
        {formatClock(until)}
      </time>{' '}
      <span className="circuit-countdown">(in {formatCountdown(at - now)})</span>
    </>
  );
}

/** The circuit in a list row: one line, the explanation as its tooltip. */
export function CircuitBadge({ circuit, now }: { circuit: EndpointCircuit; now: number }) {
  if (circuit.state === 'open')
    return (
      <div className="circuit circuit-open" title={OPEN_TEXT} data-circuit="open">
        <span className="circuit-badge">Circuit open</span>
        <span className="circuit-when">
          <RetryAt until={circuit.until} now={now} />
        </span>
      </div>
    );
  if (circuit.state === 'half_open')
    return (
      <div className="circuit circuit-half-open" title={HALF_OPEN_TEXT} data-circuit="half_open">
        <span className="circuit-badge">Probing…</span>
      </div>
    );
  if (circuit.consecutive_failures > 0)
    return (
      <div
        className="circuit circuit-failing"
        title={failuresText(circuit.consecutive_failures)}
        data-circuit="closed"
      >
        {circuit.consecutive_failures} recent {circuit.consecutive_failures === 1 ? 'failure' : 'failures'}
      </div>
    );
  return null;
}

/** The circuit in the edit panel: the badge with its explanation written out. */
export function CircuitDetail({ circuit, now }: { circuit: EndpointCircuit; now: number }) {
  if (circuit.state === 'closed' && circuit.consecutive_failures === 0) return null;
  const text =
    circuit.state === 'open'
      ? OPEN_TEXT
      : circuit.state === 'half_open'
        ? HALF_OPEN_TEXT
        : failuresText(circuit.consecutive_failures);
  return (
    <div className="circuit-detail">
      <CircuitBadge circuit={circuit} now={now} />
      <p className="muted hint">
        {text}
        {circuit.state !== 'closed' && circuit.consecutive_failures > 0 && (
          <> {circuit.consecutive_failures} failed attempts in a row so far.</>
        )}
      </p>
    </div>
  );
}
