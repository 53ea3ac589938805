// The SSRF guard's address rules: private and special ranges refused unless allow-listed, and an
// allow-list entry opens only its ports (443 and 80 unless it names others).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { EgressBlockedError, EgressPolicy, parseAllowEntry } from '../../src/registry/egress.ts';

describe('EgressPolicy', () => {
  const policy = new EgressPolicy();

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:127.0.0.1',
  ])('refuses %s', (address) => {
    expect(policy.permits('registry.example.com', address, 443)).toBe(false);
  });

  it.each(['8.8.8.8', '52.1.2.3', '2606:4700::1111'])('permits public %s', (address) => {
    expect(policy.permits('registry.example.com', address, 443)).toBe(true);
    expect(policy.permits('registry.example.com', address, 5000)).toBe(true);
  });

  it('allow-lists addresses, ranges and host names on 443 and 80 when no port is named', () => {
    const allowing = new EgressPolicy(['127.0.0.1', '10.0.0.0/8', 'registry.internal']);
    expect(allowing.permits('x', '127.0.0.1', 443)).toBe(true);
    expect(allowing.permits('x', '127.0.0.1', 80)).toBe(true);
    expect(allowing.permits('x', '127.0.0.1', 22)).toBe(false);
    expect(allowing.permits('x', '127.0.0.1', 5432)).toBe(false);
    expect(allowing.permits('x', '127.0.0.2', 443)).toBe(false);
    expect(allowing.permits('x', '10.200.1.1', 443)).toBe(true);
    expect(allowing.permits('x', '10.200.1.1', 6379)).toBe(false);
    expect(allowing.permits('registry.internal', '192.168.0.5', 443)).toBe(true);
    expect(allowing.permits('registry.internal', '192.168.0.5', 25)).toBe(false);
    expect(allowing.permits('other.internal', '192.168.0.5', 443)).toBe(false);
  });

  it('opens exactly the port an entry names, or any with :*', () => {
    const allowing = new EgressPolicy([
      'registry.internal:5000',
      '10.0.0.0/8:5000',
      '[fd00::1]:8443',
      '[fd00:1::/32]:5000',
      'fd00:2::/32',
      '127.0.0.1:*',
    ]);
    expect(allowing.permits('registry.internal', '192.168.0.5', 5000)).toBe(true);
    expect(allowing.permits('registry.internal', '192.168.0.5', 443)).toBe(false);
    expect(allowing.permits('x', '10.1.1.1', 5000)).toBe(true);
    expect(allowing.permits('x', '10.1.1.1', 5001)).toBe(false);
    expect(allowing.permits('x', 'fd00::1', 8443)).toBe(true);
    expect(allowing.permits('x', 'fd00::1', 443)).toBe(false);
    expect(allowing.permits('x', 'fd00:1::9', 5000)).toBe(true);
    expect(allowing.permits('x', 'fd00:2::9', 443)).toBe(true);
    expect(allowing.permits('x', 'fd00:2::9', 5000)).toBe(false);
    expect(allowing.permits('x', '127.0.0.1', 54321)).toBe(true);
    expect(allowing.permits('x', '::ffff:127.0.0.1', 1)).toBe(true);
  });

  it('refuses malformed entries, and configuration names TAGRAPH_EGRESS_ALLOW', () => {
    for (const entry of ['host:http', '10.0.0.0/33', '127.0.0.1:0', 'a b', 'host/8']) {
      expect(() => parseAllowEntry(entry), entry).toThrow(`"${entry}"`);
    }
    expect(() => loadConfig({ TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*, 10.0.0.0/33' })).toThrow(
      /TAGRAPH_EGRESS_ALLOW: "10\.0\.0\.0\/33": the prefix length is out of range/,
    );
    expect(
      loadConfig({ TAGRAPH_EGRESS_ALLOW: '127.0.0.1:*, reg.internal:5000' }).egressAllow,
    ).toEqual(['127.0.0.1:*', 'reg.internal:5000']);
  });

  it('checks literal hosts, including bracketed IPv6, without naming resolved addresses', () => {
    expect(() => policy.checkLiteral('169.254.169.254', 80)).toThrow(EgressBlockedError);
    expect(() => policy.checkLiteral('[::1]', 443)).toThrow(/TAGRAPH_EGRESS_ALLOW/);
    expect(() => policy.checkLiteral('quay.io', 443)).not.toThrow();
    const allowing = new EgressPolicy(['127.0.0.1:5000']);
    expect(() => allowing.checkLiteral('127.0.0.1', 5000)).not.toThrow();
    expect(() => allowing.checkLiteral('127.0.0.1', 22)).toThrow(
      '127.0.0.1:22 is not an allowed address',
    );
  });

  it('a name that resolves to a private address is refused without saying which', async () => {
    const error = await new Promise<Error | null>((done) =>
      policy.lookupFor(443)('localhost', { all: true }, (e) => done(e)),
    );
    expect(error).toBeInstanceOf(EgressBlockedError);
    expect(error!.message).toBe(
      'localhost:443 is not an allowed address: private and special-purpose addresses are refused unless TAGRAPH_EGRESS_ALLOW allows them and the port',
    );
    expect(error!.message).not.toMatch(/127\.0\.0\.1|::1/);
  });
});
