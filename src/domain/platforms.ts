// Manifest lists: the import mode, and which child a Legacy import takes.
// The rules: docs/rules.md#manifest-lists-and-import-modes.
import { fail, ok, type Result } from '../errors.ts';
import { type DomainError, domainError } from './names.ts';

export type ImportMode = 'Legacy' | 'PreserveOriginal';

export const IMPORT_MODE_ERROR = 'valid ImportMode values are Legacy or PreserveOriginal';

/** Tag annotations that steer a Legacy import of a manifest list. */
export const PREFER_ARCH_ANNOTATION = 'importer.image.openshift.io/prefer-arch';
export const PREFER_OS_ANNOTATION = 'importer.image.openshift.io/prefer-os';

/**
 * Exact, case-sensitive names as `oc import-image --import-mode` takes them; absent or empty
 * means the default, Legacy.
 */
export function parseImportMode(
  value: string | null | undefined,
  field = 'importMode',
): Result<ImportMode, DomainError> {
  if (value === undefined || value === null || value === '') return ok('Legacy');
  if (value === 'Legacy' || value === 'PreserveOriginal') return ok(value);
  return fail(domainError('VALIDATION', IMPORT_MODE_ERROR, field));
}

export interface ManifestChild {
  digest: string;
  os?: string | null;
  architecture?: string | null;
  variant?: string | null;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | null;
}

export interface PlatformPreference {
  preferArch?: string | null;
  preferOs?: string | null;
}

export type ChildChoice<T> = {
  child: T;
  matchedBy: 'annotations' | 'server' | 'linux/amd64' | 'first';
};

/** Reads the two prefer-* annotations of a tag (blank values count as absent). */
export function platformPreference(
  annotations: Readonly<Record<string, string>>,
): PlatformPreference {
  const arch = annotations[PREFER_ARCH_ANNOTATION]?.trim();
  const os = annotations[PREFER_OS_ANNOTATION]?.trim();
  return { preferArch: arch || null, preferOs: os || null };
}

function find<T extends ManifestChild>(children: readonly T[], want: Platform): T | undefined {
  const same = children.filter((c) => c.os === want.os && c.architecture === want.architecture);
  // Among e.g. arm/v6 and arm/v7, the asked-for variant wins; otherwise list order decides.
  return (want.variant ? same.find((c) => c.variant === want.variant) : undefined) ?? same[0];
}

/**
 * Legacy mode imports one child: the one the tag's annotations ask for, else the server's own
 * platform, else linux/amd64, else the first. With only one annotation set, the other half comes
 * from the server's platform — what OpenShift's importer does (it fills a missing preference
 * from runtime.GOOS/GOARCH). The first-entry fallback skips `unknown/unknown` entries, which are
 * build attestations rather than runnable images, unless that is all there is.
 * Returns null for an empty list.
 */
export function chooseManifestListChild<T extends ManifestChild>(
  children: readonly T[],
  preference: PlatformPreference,
  server: Platform,
): ChildChoice<T> | null {
  if (children.length === 0) return null;
  if (preference.preferArch || preference.preferOs) {
    const wanted: Platform = {
      os: preference.preferOs || server.os,
      architecture: preference.preferArch || server.architecture,
    };
    const child = find(children, wanted);
    if (child) return { child, matchedBy: 'annotations' };
  }
  const own = find(children, server);
  if (own) return { child: own, matchedBy: 'server' };
  const amd64 = find(children, { os: 'linux', architecture: 'amd64' });
  if (amd64) return { child: amd64, matchedBy: 'linux/amd64' };
  const runnable = children.find((c) => !(c.os === 'unknown' && c.architecture === 'unknown'));
  return { child: runnable ?? children[0]!, matchedBy: 'first' };
}
