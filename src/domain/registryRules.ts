// Which registries imports may read from: allow and block lists of `host[:port]` and `*.domain`
// entries, each allowing plain HTTP or not (docs/importer.md#which-registries-imports-may-use).

import { parseDockerReference } from './references.ts';

/** One entry of TAGRAPH_IMPORT_ALLOWED_REGISTRIES or TAGRAPH_IMPORT_BLOCKED_REGISTRIES. */
export interface RegistryRule {
  /** Lowercase host; `*.example.com` matches any name below example.com (not itself). */
  host: string;
  /** A port, `*` (any port), or null: the default ports only (no port given, 443, or 80 when insecure). */
  port: string | null;
  /** An insecure import (TLS unverified, plain HTTP) is allowed from it. */
  insecure: boolean;
  /** The entry as written, for messages. */
  text: string;
}

export interface RegistryPolicy {
  /** Null: every registry not blocked is allowed. */
  allowed: RegistryRule[] | null;
  blocked: RegistryRule[];
}

export const OPEN_REGISTRY_POLICY: RegistryPolicy = { allowed: null, blocked: [] };

/** Docker Hub's names for itself: an entry naming one names all. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

const HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/**
 * Parses a comma-separated list: `quay.io, *.corp.example:5000, 127.0.0.1:5000;insecure`.
 * Throws with the faulty entry named.
 */
export function parseRegistryRules(text: string): RegistryRule[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map(parseRegistryRule);
}

export function parseRegistryRule(entry: string): RegistryRule {
  const [location = '', ...flags] = entry.split(';').map((part) => part.trim());
  const unknown = flags.filter((flag) => flag.toLowerCase() !== 'insecure');
  if (unknown.length > 0) {
    throw new Error(`"${entry}": unknown flag ${unknown.join(', ')} (only ;insecure is known)`);
  }
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}|\*))?$/.exec(location.toLowerCase());
  const host = match?.[1] ?? '';
  if (!match || !(HOST.test(host) || IPV6.test(host))) {
    throw new Error(`"${entry}" is not a registry: give host[:port], *.domain[:port] or host:*`);
  }
  return { host, port: match[2] ?? null, insecure: flags.length > 0, text: entry };
}

function splitRegistry(registry: string): { host: string; port: string | null } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(registry.toLowerCase());
  return { host: match?.[1] ?? registry.toLowerCase(), port: match?.[2] ?? null };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  if (DOCKER_HUB.has(pattern)) return DOCKER_HUB.has(host);
  return pattern === host;
}

function portMatches(rule: RegistryRule, port: string | null, insecure: boolean): boolean {
  if (rule.port === '*') return true;
  if (rule.port !== null) return rule.port === port;
  return port === null || port === '443' || (insecure && port === '80');
}

/** Whether `rule` names `registry` (host and port), whatever the transport. */
export function ruleMatches(rule: RegistryRule, registry: string, insecure = rule.insecure) {
  const { host, port } = splitRegistry(registry);
  return hostMatches(rule.host, host) && portMatches(rule, port, insecure);
}

/**
 * Why importing from `registry` is refused, or null when it is allowed. A blocked registry is
 * refused however it is reached; with an allow list, an insecure import needs an entry marked
 * `;insecure`, as OpenShift's `allowedRegistriesForImport` entries with `insecure: true`.
 */
export function registryRefusal(
  policy: RegistryPolicy,
  registry: string,
  insecure: boolean,
): string | null {
  const blocked = policy.blocked.find((rule) => ruleMatches(rule, registry, true));
  if (blocked) {
    return `importing images from registry "${registry}" is not allowed: it is blocked (by "${blocked.text}" in TAGRAPH_IMPORT_BLOCKED_REGISTRIES)`;
  }
  if (policy.allowed === null) return null;
  const named = policy.allowed.filter((rule) => ruleMatches(rule, registry, insecure));
  if (named.some((rule) => rule.insecure || !insecure)) return null;
  if (named.length > 0) {
    return `importing images from registry "${registry}" as insecure is not allowed: TAGRAPH_IMPORT_ALLOWED_REGISTRIES allows it only over verified TLS (mark its entry ;insecure to allow more)`;
  }
  const shown = policy.allowed.map((rule) => `"${rule.text}"`).join(', ');
  return `importing images from registry "${registry}" is not allowed: only ${shown || 'no registry'} ${policy.allowed.length === 1 ? 'is' : 'are'} allowed (TAGRAPH_IMPORT_ALLOWED_REGISTRIES)`;
}

/** registryRefusal for a pull spec as a user gave it; null too when it does not parse (checked elsewhere). */
export function sourceRefusal(
  policy: RegistryPolicy,
  source: string,
  insecure: boolean,
): string | null {
  const parsed = parseDockerReference(source.trim(), 'from');
  return parsed.ok ? registryRefusal(policy, parsed.value.registry, insecure) : null;
}
