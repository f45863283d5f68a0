import { describe, expect, it } from 'vitest';
import { requestIdFor } from './requestId.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const idFor = (value?: string | string[]) => requestIdFor({ headers: { 'x-request-id': value } as any });

describe('requestIdFor', () => {
  it('keeps a sane X-Request-Id: trace ids, UUIDs, base64, up to 128 characters', () => {
    for (const id of [
      'abc',
      'f47ac10b-58cc-4372-a567-0e02b2c3d479',
      'Root=1-5759e988:bd862e3f',
      'aGk+/w==',
      'z'.repeat(128),
    ])
      expect(idFor(id)).toBe(id);
  });

  it('makes a new UUID when there is none, or it is too long, empty, repeated or has unsafe characters', () => {
    for (const id of [undefined, '', 'z'.repeat(129), 'a b', 'a"b', 'a\tb', '<x>', 'é', ['a', 'b']])
      expect(idFor(id)).toMatch(UUID);
    expect(idFor()).not.toBe(idFor());
  });
});
