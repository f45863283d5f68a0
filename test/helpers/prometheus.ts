/** Reads samples out of a Prometheus text exposition (what /metrics answers). */

/**
 * The value of the sample `name` whose label set is exactly `labels`; undefined when there is none.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]] as const),
    );
    if (got.size === wanted.length && wanted.every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

/** Names of every metric the text declares (its `# TYPE` lines). */
export function metricNames(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
}
