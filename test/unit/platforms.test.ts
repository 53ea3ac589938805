// Unit tests for import modes and Legacy manifest-list child selection.
// The rules: docs/rules.md#manifest-lists-and-import-modes.
import { describe, expect, it } from 'vitest';
import {
  chooseManifestListChild,
  IMPORT_MODE_ERROR,
  type ManifestChild,
  parseImportMode,
  platformPreference,
} from '../../src/domain/platforms.ts';

const child = (
  digest: string,
  os: string,
  architecture: string,
  variant?: string,
): ManifestChild =>
  variant === undefined ? { digest, os, architecture } : { digest, os, architecture, variant };

const list = [
  child('ppc', 'linux', 'ppc64le'),
  child('arm6', 'linux', 'arm', 'v6'),
  child('arm7', 'linux', 'arm', 'v7'),
  child('arm64', 'linux', 'arm64', 'v8'),
  child('amd64', 'linux', 'amd64'),
  child('win', 'windows', 'amd64'),
];
const serverArm64 = { os: 'linux', architecture: 'arm64' };
const serverS390x = { os: 'linux', architecture: 's390x' };

describe('parseImportMode', () => {
  it.each(['Legacy', 'PreserveOriginal'] as const)('accepts %s', (mode) => {
    expect(parseImportMode(mode)).toEqual({ ok: true, value: mode });
  });

  it.each([undefined, null, ''])('defaults %j to Legacy', (value) => {
    expect(parseImportMode(value)).toEqual({ ok: true, value: 'Legacy' });
  });

  it.each(['legacy', 'preserveoriginal', 'Preserve', ' Legacy', 'All'])('rejects %j', (value) => {
    expect(parseImportMode(value)).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION',
        field: 'importMode',
        message: 'valid ImportMode values are Legacy or PreserveOriginal',
      },
    });
  });

  it('uses the exact message from OpenShift and a given field', () => {
    expect(IMPORT_MODE_ERROR).toBe('valid ImportMode values are Legacy or PreserveOriginal');
    expect(parseImportMode('x', 'input.importMode')).toMatchObject({
      ok: false,
      error: { field: 'input.importMode' },
    });
  });
});

describe('platformPreference', () => {
  it('reads the prefer-* annotations, blank as absent', () => {
    expect(
      platformPreference({
        'importer.image.openshift.io/prefer-arch': ' arm64 ',
        'importer.image.openshift.io/prefer-os': '',
        other: 'x',
      }),
    ).toEqual({ preferArch: 'arm64', preferOs: null });
    expect(platformPreference({})).toEqual({ preferArch: null, preferOs: null });
  });
});

type Choice = [
  preference: Parameters<typeof chooseManifestListChild>[1],
  server: Parameters<typeof chooseManifestListChild>[2],
  /** The child of `list` chosen, and why. */
  index: number,
  matchedBy: string,
];
const arm = (variant?: string) => ({
  os: 'linux',
  architecture: 'arm',
  ...(variant && { variant }),
});

describe('chooseManifestListChild (Legacy)', () => {
  it.each<[string, Choice[]]>([
    [
      'prefers the annotations over everything else',
      [
        [{ preferArch: 'ppc64le', preferOs: 'linux' }, serverArm64, 0, 'annotations'],
        [{ preferArch: 'amd64', preferOs: 'windows' }, serverArm64, 5, 'annotations'],
      ],
    ],
    [
      'fills a missing annotation from the server platform',
      [
        // Only the OS is given: the architecture is the server's (arm64).
        [{ preferOs: 'linux' }, serverArm64, 3, 'annotations'],
        // Only the architecture is given: the OS is the server's (linux), so not windows/amd64.
        [{ preferArch: 'amd64' }, serverArm64, 4, 'annotations'],
      ],
    ],
    [
      'falls back to the server platform when the annotations match nothing',
      [[{ preferArch: 'riscv64' }, serverArm64, 3, 'server']],
    ],
    ['uses the server platform without annotations', [[{}, serverArm64, 3, 'server']]],
    [
      'honours the server variant, else the first of that os/arch',
      [
        [{}, arm('v7'), 2, 'server'],
        [{}, arm('v5'), 1, 'server'],
        [{}, arm(), 1, 'server'],
      ],
    ],
    ['then linux/amd64', [[{}, serverS390x, 4, 'linux/amd64']]],
  ])('%s', (_, choices) => {
    for (const [preference, server, index, matchedBy] of choices) {
      expect(chooseManifestListChild(list, preference, server)).toEqual({
        child: list[index],
        matchedBy,
      });
    }
  });

  it('then the first entry, skipping attestation manifests', () => {
    const noAmd = [child('att', 'unknown', 'unknown'), child('ppc', 'linux', 'ppc64le')];
    expect(chooseManifestListChild(noAmd, {}, serverS390x)).toEqual({
      child: noAmd[1],
      matchedBy: 'first',
    });
    const onlyAtt = [child('att', 'unknown', 'unknown')];
    expect(chooseManifestListChild(onlyAtt, {}, serverS390x)).toEqual({
      child: onlyAtt[0],
      matchedBy: 'first',
    });
  });

  it('handles children without platform data', () => {
    const bare: ManifestChild[] = [{ digest: 'x' }, { digest: 'y', os: null, architecture: null }];
    expect(chooseManifestListChild(bare, { preferArch: 'amd64' }, serverArm64)).toEqual({
      child: bare[0],
      matchedBy: 'first',
    });
  });

  it('returns null for an empty list', () => {
    expect(chooseManifestListChild([], { preferArch: 'amd64' }, serverArm64)).toBeNull();
  });
});
