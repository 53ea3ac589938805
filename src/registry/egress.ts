// SSRF guard for every outbound connection to registries and token endpoints: addresses in
// loopback, private, link-local (cloud metadata), CGNAT, multicast or reserved ranges are refused
// unless allow-listed, and an allow-list entry opens only the ports it names (443 and 80 when it
// names none). Checked on the addresses DNS returns, as the connection is made, so a name that
// resolves differently later (DNS rebinding) is caught too.
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

/** The ports an allow-list entry without a port opens: HTTPS and HTTP. */
export const DEFAULT_ALLOWED_PORTS: readonly number[] = [443, 80];

/**
 * A refused connection. The message names the host and port as the caller gave them, never the
 * address it resolved to (`address`, for the server's log only).
 */
export class EgressBlockedError extends Error {
  readonly code = 'EGRESS_BLOCKED';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly address: string,
  ) {
    super(
      `${hostPort(host, port)} is not an allowed address: private and special-purpose addresses are refused unless TAGRAPH_EGRESS_ALLOW allows them and the port`,
    );
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** One TAGRAPH_EGRESS_ALLOW entry: a host name or an address range, and its ports. */
interface AllowRule {
  host?: string;
  network?: BlockList;
  /** null: any port (`:*`). */
  ports: ReadonlySet<number> | null;
}

export class EgressConfigError extends Error {}

/**
 * Reads one entry: `host`, `10.0.0.5`, `10.0.0.0/8`, `[fd00::1]`, `fd00::/8` (bare IPv6 takes no
 * port), each optionally followed by `:port` or `:*` (any port), e.g. `registry.internal:5000`,
 * `[fd00::/8]:5000`, `127.0.0.1:*`. Without a port, 443 and 80.
 */
export function parseAllowEntry(entry: string): AllowRule {
  let target = entry.trim();
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.+))?$/.exec(target);
  if (bracketed) {
    target = bracketed[1]!;
    port = bracketed[2];
  } else if ((target.match(/:/g) ?? []).length === 1) {
    [target, port] = target.split(':') as [string, string];
  }
  let ports: Set<number> | null = new Set(DEFAULT_ALLOWED_PORTS);
  if (port === '*') ports = null;
  else if (port !== undefined) {
    const number = Number(port);
    if (!/^\d+$/.test(port) || number < 1 || number > 65535) {
      throw new EgressConfigError(`"${entry}": the port must be 1-65535 or *`);
    }
    ports = new Set([number]);
  }
  const [address, prefix] = target.split('/') as [string, string?];
  const family = isIP(address);
  if (family === 0) {
    if (prefix !== undefined || !/^[a-zA-Z0-9.-]+$/.test(target)) {
      throw new EgressConfigError(`"${entry}": not a host name, address or address range`);
    }
    return { host: target.toLowerCase(), ports };
  }
  const network = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) {
    network.addAddress(address, type);
  } else {
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
      throw new EgressConfigError(`"${entry}": the prefix length is out of range`);
    }
    network.addSubnet(address, bits, type);
  }
  return { network, ports };
}

export class EgressPolicy {
  private readonly blocked = new BlockList();
  private readonly rules: AllowRule[];
  private readonly lookups = new Map<number, LookupFunction>();

  /** `allow`: TAGRAPH_EGRESS_ALLOW's entries (parseAllowEntry); a bad one throws. */
  constructor(allow: readonly string[] = []) {
    for (const [address, prefix] of BLOCKED_V4) this.blocked.addSubnet(address, prefix, 'ipv4');
    for (const [address, prefix] of BLOCKED_V6) this.blocked.addSubnet(address, prefix, 'ipv6');
    this.rules = allow.map(parseAllowEntry);
  }

  /** Whether a connection to `address` (an IP) on `port`, for `host`, may be made. */
  permits(host: string, address: string, port: number): boolean {
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.permits(host, mapped[1]!, port);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!this.blocked.check(address, family)) return true;
    const name = host.toLowerCase().replace(/^\[|\]$/g, '');
    return this.rules.some(
      (rule) =>
        (rule.ports === null || rule.ports.has(port)) &&
        (rule.host !== undefined ? rule.host === name : rule.network!.check(address, family)),
    );
  }

  /** Throws EgressBlockedError for a literal IP host that is not permitted on `port`. */
  checkLiteral(hostname: string, port: number): void {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare) && !this.permits(hostname, bare, port)) {
      throw new EgressBlockedError(hostname, port, bare);
    }
  }

  /** A `lookup` for net/tls connect options to `port` that refuses blocked addresses. */
  lookupFor(port: number): LookupFunction {
    let lookup = this.lookups.get(port);
    if (!lookup) {
      lookup = (hostname, options, callback) => {
        dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
          if (error) return callback(error, '');
          const refused = addresses.find((a) => !this.permits(hostname, a.address, port));
          if (refused) {
            const blocked = new EgressBlockedError(hostname, port, refused.address);
            return callback(blocked as NodeJS.ErrnoException, '');
          }
          if (options.all) return callback(null, addresses);
          const first = addresses[0]!;
          callback(null, first.address, first.family);
        });
      };
      this.lookups.set(port, lookup);
    }
    return lookup;
  }
}
