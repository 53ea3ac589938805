// The SSRF guard's address rules: private and special ranges refused unless allow-listed.
import { describe, expect, it } from 'vitest';
import { EgressBlockedError, EgressPolicy } from '../../src/registry/egress.ts';

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
    expect(policy.permits('registry.example.com', address)).toBe(false);
  });

  it.each(['8.8.8.8', '52.1.2.3', '2606:4700::1111'])('permits public %s', (address) => {
    expect(policy.permits('registry.example.com', address)).toBe(true);
  });

  it('allow-lists addresses, ranges and host names', () => {
    const allowing = new EgressPolicy(['127.0.0.1', '10.0.0.0/8', 'registry.internal']);
    expect(allowing.permits('x', '127.0.0.1')).toBe(true);
    expect(allowing.permits('x', '127.0.0.2')).toBe(false);
    expect(allowing.permits('x', '10.200.1.1')).toBe(true);
    expect(allowing.permits('registry.internal', '192.168.0.5')).toBe(true);
    expect(allowing.permits('other.internal', '192.168.0.5')).toBe(false);
  });

  it('checks literal hosts, including bracketed IPv6', () => {
    expect(() => policy.checkLiteral('169.254.169.254')).toThrow(EgressBlockedError);
    expect(() => policy.checkLiteral('[::1]')).toThrow(/TAGRAPH_EGRESS_ALLOW/);
    expect(() => policy.checkLiteral('quay.io')).not.toThrow();
  });
});
