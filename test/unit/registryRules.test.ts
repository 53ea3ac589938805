// The import policy's registry matching, the mirror locations, and their configuration errors.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { mirroredLocations, parseMirrorConfig } from '../../src/domain/mirrors.ts';
import { parseRegistryRules, registryRefusal } from '../../src/domain/registryRules.ts';

const policy = (allowed: string | null, blocked = '') => ({
  allowed: allowed === null ? null : parseRegistryRules(allowed),
  blocked: parseRegistryRules(blocked),
});

describe('registry rules', () => {
  it('a port-less entry names the default ports only; :* any port', () => {
    const p = policy('quay.io,registry.local:*');
    expect(registryRefusal(p, 'quay.io', false)).toBeNull();
    expect(registryRefusal(p, 'quay.io:443', false)).toBeNull();
    expect(registryRefusal(p, 'quay.io:5000', false)).toMatch(/is not allowed: only/);
    expect(registryRefusal(p, 'registry.local:5000', false)).toBeNull();
    expect(registryRefusal(p, 'registry.local', false)).toBeNull();
  });

  it('*.domain names every name below it, not the domain itself', () => {
    const p = policy('*.corp.example');
    expect(registryRefusal(p, 'a.corp.example', false)).toBeNull();
    expect(registryRefusal(p, 'a.b.corp.example', false)).toBeNull();
    expect(registryRefusal(p, 'corp.example', false)).not.toBeNull();
    expect(registryRefusal(p, 'evilcorp.example', false)).not.toBeNull();
  });

  it("Docker Hub's names are one registry; a block wins over an allow", () => {
    expect(registryRefusal(policy('docker.io'), 'index.docker.io', false)).toBeNull();
    expect(registryRefusal(policy('quay.io', 'quay.io'), 'quay.io', false)).toMatch(/blocked/);
  });

  it('an insecure import needs an ;insecure entry, which also opens port 80', () => {
    expect(registryRefusal(policy('r.local'), 'r.local', true)).toMatch(/as insecure/);
    expect(registryRefusal(policy('r.local;insecure'), 'r.local:80', true)).toBeNull();
    expect(registryRefusal(policy('r.local'), 'r.local:80', false)).not.toBeNull();
  });

  it('a bad entry stops the configuration with the variable named', () => {
    expect(() => loadConfig({ TAGRAPH_IMPORT_BLOCKED_REGISTRIES: 'quay.io,http://x' })).toThrow(
      /TAGRAPH_IMPORT_BLOCKED_REGISTRIES: "http:\/\/x" is not a registry/,
    );
    expect(loadConfig({}).importMaxScheduledPerMinute).toBe(60);
  });
});

describe('mirror locations', () => {
  const config = parseMirrorConfig(`
imageTagMirrors:
- {source: quay.io/team, mirrors: [m.local/team]}
- {source: quay.io/team/special, mirrors: [m2.local/s, m3.local:5000/s]}
imageDigestMirrors:
- {source: quay.io, mirrors: [d.local/quay], mirrorSourcePolicy: NeverContactSource}
`);
  const at = (registry: string, repository: string, pin: { tag?: string; digest?: string }) =>
    mirroredLocations(config, { registry, repository, ...pin }).map(
      (l) => `${l.registry}/${l.repository}`,
    );

  it('the most specific rule of the pull kind, mirrors in order, then the source', () => {
    expect(at('quay.io', 'team/app', { tag: 'v1' })).toEqual([
      'm.local/team/app',
      'quay.io/team/app',
    ]);
    expect(at('quay.io', 'team/special/x', { tag: 'v1' })).toEqual([
      'm2.local/s/x',
      'm3.local:5000/s/x',
      'quay.io/team/special/x',
    ]);
    expect(at('quay.io', 'teamwork/app', { tag: 'v1' })).toEqual(['quay.io/teamwork/app']);
    expect(at('quay.io', 'team/app', { digest: `sha256:${'a'.repeat(64)}` })).toEqual([
      'd.local/quay/team/app',
    ]);
  });

  it('a bad mirror file stops the configuration with the file named', () => {
    const path = join(tmpdir(), `mirrors-${process.pid}.yaml`);
    writeFileSync(path, 'imageTagMirrors: [{source: quay.io, mirrors: []}]');
    expect(() => loadConfig({ TAGRAPH_IMPORT_MIRRORS_FILE: path })).toThrow(
      /TAGRAPH_IMPORT_MIRRORS_FILE: .*imageTagMirrors\.0\.mirrors/,
    );
  });
});
