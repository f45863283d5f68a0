/**
 * The README is a user's document that must not drift from the product: its "Receiving from
 * providers" table covers every provider preset (docs/api.md §3.10), and every link from it into
 * docs/api.md lands on a heading that exists.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRESET_IDS } from '../src/core/presets/index.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const apiDoc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function section(doc: string, title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('"Receiving from providers" has a row for every preset, naming its id, the URL and the secret', () => {
    const providers = section(readme, 'Receiving from providers');
    const rows = providers.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| provider'));
    for (const id of PRESET_IDS) {
      const row = rows.find((r) => r.split('|')[1]?.includes(`(\`${id}\`)`));
      expect(row, `a row for preset ${id}`).toBeDefined();
      // provider | where the URL goes | the secret | handshake | repeats: every cell filled in.
      const cells = row?.split('|').slice(1, -1) ?? [];
      expect(cells, id).toHaveLength(5);
      for (const cell of cells) expect(cell.trim().length, `${id}: ${row}`).toBeGreaterThan(0);
    }
    expect(rows).toHaveLength(PRESET_IDS.length);
  });

  it('links into docs/api.md land on headings that exist', () => {
    const anchors = new Set(
      apiDoc
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => slug(l.replace(/^#+ /, ''))),
    );
    const links = [...readme.matchAll(/\(docs\/api\.md#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const anchor of links) expect(anchors.has(anchor as string), `docs/api.md#${anchor}`).toBe(true);
  });
});
