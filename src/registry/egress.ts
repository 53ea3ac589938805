// SSRF guard for every outbound connection to registries and token endpoints: addresses in
// loopback, private, link-local (cloud metadata), CGNAT, multicast or reserved ranges are refused
// unless allow-listed. Checked on the addresses DNS returns, as the connection is made, so a
// name that resolves differently later (DNS rebinding) is caught too.
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Private and special-purpose ranges (RFC 6890 and friends). */
const BLOCKED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const BLOCKED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata)
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

export class EgressBlockedError extends Error {
  readonly code = 'EGRESS_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host} resolves to ${address}, a private or special-purpose address: refused (allow it with TAGRAPH_EGRESS_ALLOW)`,
    );
  }
}

export class EgressPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();
  private readonly allowedHosts = new Set<string>();

  /** `allow`: addresses (`127.0.0.1`), ranges (`10.0.0.0/8`, `fd00::/8`) or host names. */
  constructor(allow: readonly string[] = []) {
    for (const [address, prefix] of BLOCKED_V4) this.blocked.addSubnet(address, prefix, 'ipv4');
    for (const [address, prefix] of BLOCKED_V6) this.blocked.addSubnet(address, prefix, 'ipv6');
    for (const entry of allow) {
      const [address, prefix] = entry.split('/') as [string, string?];
      const family = isIP(address);
      if (family === 0) {
        this.allowedHosts.add(entry.toLowerCase());
      } else if (prefix === undefined) {
        this.allowed.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      } else {
        this.allowed.addSubnet(address, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
      }
    }
  }

  /** Whether a connection to `address` (an IP) for `host` may be made. */
  permits(host: string, address: string): boolean {
    if (this.allowedHosts.has(host.toLowerCase())) return true;
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.permits(host, mapped[1]!);
    if (this.allowed.check(address, family)) return true;
    return !this.blocked.check(address, family);
  }

  /** Throws EgressBlockedError for a literal IP host that is not permitted. */
  checkLiteral(hostname: string): void {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare) && !this.permits(hostname, bare)) throw new EgressBlockedError(hostname, bare);
  }

  /** A `lookup` for net/tls connect options that refuses blocked addresses. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.find((a) => !this.permits(hostname, a.address));
      if (refused) {
        const blocked = new EgressBlockedError(hostname, refused.address);
        return callback(blocked as NodeJS.ErrnoException, '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
