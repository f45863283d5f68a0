import { describe, expect, it } from 'vitest';
import { idTime, newId } from './ids.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const randomPart = (id: string) =>
  [...id.slice(-16)].reduce((n, ch) => n * 32n + BigInt(ALPHABET.indexOf(ch)), 0n);

describe('ids', () => {
  it('are a prefix and 26 Crockford base32 characters carrying the creation time', () => {
    const at = Date.parse('2026-11-23T12:34:56.789Z');
    const id = newId('run', at + 10_000_000);
    expect(id).toMatch(/^run_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(idTime(id)?.getTime()).toBe(at + 10_000_000);
  });

  it('made in the same millisecond sort in creation order, each the previous random part plus one', () => {
    const ms = Date.now() + 20_000_000;
    const ids = Array.from({ length: 2000 }, () => newId('evt', ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(randomPart(ids[i]) - randomPart(ids[i - 1])).toBe(1n);
  });

  it('never go backwards when the clock does', () => {
    const a = newId('x', Date.now() + 30_000_000);
    const b = newId('x', Date.now());
    expect(b > a).toBe(true);
  });

  it('use all 80 random bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(newId('r', Date.now() + 40_000_000 + i * 2).slice(-16, -14));
    // the top characters of the random part vary across milliseconds (not stuck at 0)
    expect(seen.size).toBeGreaterThan(20);
  });
});
