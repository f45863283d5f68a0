/**
 * /api/docs: a self-contained, browsable page of the OpenAPI document (no assets from elsewhere):
 * operations grouped by tag, each with its parameters and request schema.
 */
const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export function renderDocsPage(doc: Record<string, any>): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const body = op.requestBody?.content?.['application/json']?.schema;
      const html = `<details class="op"><summary><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code> — ${esc(op.summary)}</summary>
${params.length ? `<p>Parameters: ${params.map((p) => `<code>${esc(p.name)}</code> <small>(${esc(p.in)})</small>`).join(', ')}</p>` : ''}
${body ? `<p>Request body (JSON Schema):</p><pre>${esc(JSON.stringify(body, null, 2))}</pre>` : ''}
</details>`;
      const tag = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1f2937}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #e5e7eb}
.op{border:1px solid #e5e7eb;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
.op summary{cursor:pointer}.m{display:inline-block;min-width:4.2rem;font-weight:600;font-size:12px;text-align:center;border-radius:4px;padding:1px 4px;color:#fff}
.get{background:#2563eb}.post{background:#16a34a}.put{background:#d97706}.patch{background:#7c3aed}.delete{background:#dc2626}
pre{background:#f9fafb;padding:.6rem;overflow:auto;font-size:12px}
</style></head><body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p>
<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
${sections}
</body></html>`;
}
