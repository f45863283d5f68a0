import { describe, expect, it } from 'vitest';
import { classifyAddress, parseAllowList } from './ssrf.ts';

const refused = (a: string) => classifyAddress(a).allowed === false;

describe('SSRF address classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade'],
    ['100.127.255.255', 'carrier-grade'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved|benchmarking'],
  ])('refuses IPv4 %s (%s)', (address, kind) => {
    const v = classifyAddress(address);
    expect(v.allowed).toBe(false);
    expect(!v.allowed && v.reason).toMatch(new RegExp(kind === 'private' ? 'private' : kind, 'i'));
  });

  it.each([
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    '::127.0.0.1',
    'fd00:ec2::254',
    '[::1]',
  ])('refuses IPv6 form %s', (address) => {
    expect(refused(address)).toBe(true);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:81c::200e',
    '::ffff:8.8.8.8',
  ])('allows public address %s', (address) => {
    expect(classifyAddress(address)).toEqual({ allowed: true });
  });

  it('refuses what is not an IP address', () => {
    expect(refused('example.com')).toBe(true);
    expect(refused('999.1.1.1')).toBe(true);
  });

  it('allows listed ranges, single addresses and host names from HOOKFLOW_ALLOW_PRIVATE_TARGETS', () => {
    const allow = parseAllowList(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8', 'internal.example']);
    expect(classifyAddress('127.0.0.1', allow).allowed).toBe(true);
    expect(classifyAddress('127.0.0.2', allow).allowed).toBe(false);
    expect(classifyAddress('10.200.1.1', allow).allowed).toBe(true);
    expect(classifyAddress('::ffff:10.1.1.1', allow).allowed).toBe(true);
    expect(classifyAddress('fd00::5', allow).allowed).toBe(true);
    expect(classifyAddress('192.168.0.1', allow).allowed).toBe(false);
    expect(classifyAddress('192.168.0.1', allow, 'internal.example').allowed).toBe(true);
    expect(classifyAddress('192.168.0.1', allow, 'other.example').allowed).toBe(false);
    expect(classifyAddress('169.254.169.254', parseAllowList(['10.0.0.0/8'])).allowed).toBe(false);
  });
});
