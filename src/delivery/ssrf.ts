/**
 * The SSRF guard's address classifier: pure functions deciding whether an outbound call may reach an
 * address. Refused by default: loopback, RFC 1918 private, CGNAT, link-local (including the cloud
 * metadata address 169.254.169.254), "this network", multicast, reserved and broadcast, benchmarking,
 * IPv6 unique-local and link-local, and IPv4 ranges hidden inside IPv6 (IPv4-mapped, NAT64, 6to4,
 * Teredo). An operator may allow listed ranges or host names (HOOKFLOW_ALLOW_PRIVATE_TARGETS).
 */
import ipaddr from 'ipaddr.js';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** ipaddr.js range names that are never a public internet destination. */
const REFUSED_V4 = new Set([
  'unspecified', // 0.0.0.0/8
  'broadcast',
  'multicast',
  'linkLocal', // 169.254.0.0/16, metadata endpoints
  'loopback',
  'carrierGradeNat', // 100.64.0.0/10
  'private', // 10/8, 172.16/12, 192.168/16
  'reserved', // 240/4, 192.0.0.0/24, 198.18/15 …
  'benchmarking',
  'amt',
  'as112',
  'deprecated',
  'orchid2',
]);
const REFUSED_V6 = new Set([
  'unspecified',
  'linkLocal', // fe80::/10
  'multicast',
  'loopback',
  'uniqueLocal', // fc00::/7
  'reserved',
  'benchmarking',
  'discard',
  'orchid2',
  'droneRemoteIdProtocolEntityTags',
  'amt',
  'as112v6',
  'deprecated',
]);

const METADATA_V4 = ['169.254.169.254', '169.254.170.2', '100.100.100.200'];
const METADATA_V6 = ['fd00:ec2::254'];

export type AllowList = { ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][]; hosts: Set<string> };

/** Parses HOOKFLOW_ALLOW_PRIVATE_TARGETS entries: CIDRs, single addresses, or host names. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  const hosts = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    try {
      if (entry.includes('/')) ranges.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry)) {
        const a = ipaddr.parse(entry);
        ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      } else hosts.add(entry.toLowerCase().replace(/\.$/, ''));
    } catch {
      hosts.add(entry.toLowerCase());
    }
  }
  return { ranges, hosts };
}

export const EMPTY_ALLOW_LIST: AllowList = { ranges: [], hosts: new Set() };

/**
 * Classifies one IP address (text). `hostname` is the name that was resolved, when there was one:
 * an allow-list entry naming that host allows whatever it resolves to.
 */
export function classifyAddress(
  address: string,
  allow: AllowList = EMPTY_ALLOW_LIST,
  hostname?: string,
): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return { allowed: false, reason: `"${address}" is not an IP address` };
  }
  if (hostname && allow.hosts.has(hostname.toLowerCase().replace(/\.$/, ''))) return { allowed: true };
  const candidates = [parsed, ...embeddedV4(parsed)];
  for (const a of candidates) {
    if (allow.ranges.some(([range, bits]) => range.kind() === a.kind() && a.match(range, bits)))
      return { allowed: true };
  }
  for (const a of candidates) {
    const text = a.toString();
    if (a.kind() === 'ipv4') {
      if (METADATA_V4.includes(text))
        return { allowed: false, reason: `${address} is a cloud metadata address` };
      const range = (a as ipaddr.IPv4).range();
      if (REFUSED_V4.has(range))
        return { allowed: false, reason: `${address} is a ${describe(range)} address` };
    } else {
      if (METADATA_V6.includes(text))
        return { allowed: false, reason: `${address} is a cloud metadata address` };
      const range = (a as ipaddr.IPv6).range();
      if (REFUSED_V6.has(range))
        return { allowed: false, reason: `${address} is a ${describe(range)} address` };
    }
  }
  return { allowed: true };
}

/** IPv4 addresses carried inside an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo, IPv4-compatible ::a.b.c.d). */
function embeddedV4(a: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4[] {
  if (a.kind() !== 'ipv6') return [];
  const v6 = a as ipaddr.IPv6;
  const out: ipaddr.IPv4[] = [];
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  if (v6.isIPv4MappedAddress()) out.push(v6.toIPv4Address());
  const range = v6.range();
  if (range === 'rfc6052' || range === 'rfc6145') out.push(v4(p[6], p[7])); // NAT64 / SIIT
  if (range === '6to4') out.push(v4(p[1], p[2]));
  if (range === 'teredo') out.push(v4(p[6] ^ 0xffff, p[7] ^ 0xffff));
  // IPv4-compatible (deprecated) ::a.b.c.d — all leading zero except the last 32 bits.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7] > 1)) out.push(v4(p[6], p[7]));
  return out;
}

function describe(range: string): string {
  const names: Record<string, string> = {
    unspecified: 'unspecified ("this network")',
    broadcast: 'broadcast',
    multicast: 'multicast',
    linkLocal: 'link-local',
    loopback: 'loopback',
    carrierGradeNat: 'carrier-grade NAT (100.64.0.0/10)',
    private: 'private-network (RFC 1918)',
    reserved: 'reserved',
    uniqueLocal: 'unique-local (fc00::/7)',
    benchmarking: 'benchmarking',
  };
  return names[range] ?? range;
}
