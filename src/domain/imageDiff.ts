// Comparing two stored images: runtime config, layers, size and platforms, each list bounded.
// The rules: docs/images.md#comparing-two-images.
import type { ImageConfig } from './imageConfig.ts';

/** At most this many entries of each list of a diff are returned; the counts stay complete. */
export const MAX_DIFF_ENTRIES = 100;

/** What a diff reads of one stored image. */
export interface DiffableImage {
  digest: string;
  size: number;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  config: ImageConfig | null;
  /** Base layer first. */
  layers: readonly { digest: string; size: number; mediaType: string }[];
  /** A manifest list's entries, in list order; empty for a single image. */
  manifests: readonly {
    digest: string;
    os: string | null;
    architecture: string | null;
    variant: string | null;
  }[];
}

/** A list cut to MAX_DIFF_ENTRIES, with how many there were in all. */
export interface Bounded<T> {
  items: T[];
  total: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface KeyValueChange {
  key: string;
  before: string;
  after: string;
}

export interface KeyValueDiff {
  added: Bounded<KeyValue>;
  removed: Bounded<KeyValue>;
  changed: Bounded<KeyValueChange>;
}

export interface ValuesDiff {
  added: Bounded<string>;
  removed: Bounded<string>;
}

/** Before and after of a field that differs; absent (null) on either side when it was not set. */
export interface Change<T> {
  before: T | null;
  after: T | null;
}

export interface ConfigDiff {
  env: KeyValueDiff;
  labels: KeyValueDiff;
  entrypoint: Change<string[]> | null;
  cmd: Change<string[]> | null;
  user: Change<string> | null;
  workingDir: Change<string> | null;
  exposedPorts: ValuesDiff;
  volumes: ValuesDiff;
}

export interface LayerEntry {
  digest: string;
  size: number;
  mediaType: string;
  /** Where the layer sits in its own image, 0 for the base. */
  position: number;
}

export interface LayersDiff {
  added: Bounded<LayerEntry>;
  removed: Bounded<LayerEntry>;
  /** Layers both images have (a digest twice in both counts twice). */
  common: number;
}

export interface SizeDiff {
  from: number;
  to: number;
  /** `to - from`: negative when the image shrank. */
  delta: number;
}

export interface PlatformKey {
  os: string | null;
  architecture: string | null;
  variant: string | null;
}

export interface PlatformEntry extends PlatformKey {
  digest: string;
}

export interface PlatformChange extends PlatformKey {
  fromDigest: string;
  toDigest: string;
}

export interface PlatformsDiff {
  added: Bounded<PlatformEntry>;
  removed: Bounded<PlatformEntry>;
  changed: Bounded<PlatformChange>;
  /** Platforms whose image is the same digest on both sides. */
  unchanged: number;
}

export interface ImageDiffResult {
  identical: boolean;
  config: ConfigDiff;
  layers: LayersDiff;
  size: SizeDiff;
  platforms: PlatformsDiff;
}

function bounded<T>(items: T[]): Bounded<T> {
  return { items: items.slice(0, MAX_DIFF_ENTRIES), total: items.length };
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `KEY=VALUE` entries as a map: the key is what comes before the first `=`, and a later entry
 * for the same key wins, as a container runtime applies them. An entry without `=` has the
 * empty value.
 */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of env ?? []) {
    const equals = entry.indexOf('=');
    if (equals === -1) out.set(entry, '');
    else out.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return out;
}

/** Added, removed and changed keys, each sorted by key. */
export function diffKeyValues(
  from: ReadonlyMap<string, string>,
  to: ReadonlyMap<string, string>,
): KeyValueDiff {
  const added: KeyValue[] = [];
  const removed: KeyValue[] = [];
  const changed: KeyValueChange[] = [];
  for (const [key, value] of to) {
    const before = from.get(key);
    if (before === undefined) added.push({ key, value });
    else if (before !== value) changed.push({ key, before, after: value });
  }
  for (const [key, value] of from) if (!to.has(key)) removed.push({ key, value });
  const byKey = (a: { key: string }, b: { key: string }) => byCodePoint(a.key, b.key);
  return {
    added: bounded(added.sort(byKey)),
    removed: bounded(removed.sort(byKey)),
    changed: bounded(changed.sort(byKey)),
  };
}

/** Values one side has and the other lacks, as sets, sorted. */
export function diffValues(
  from: readonly string[] | undefined,
  to: readonly string[] | undefined,
): ValuesDiff {
  const before = new Set(from ?? []);
  const after = new Set(to ?? []);
  return {
    added: bounded([...after].filter((v) => !before.has(v)).sort(byCodePoint)),
    removed: bounded([...before].filter((v) => !after.has(v)).sort(byCodePoint)),
  };
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Null when both sides are equal (unset equals only unset: `[]` is not "not set"). */
function listChange(a: string[] | undefined, b: string[] | undefined): Change<string[]> | null {
  return sameList(a, b) ? null : { before: a ?? null, after: b ?? null };
}

function valueChange(a: string | undefined, b: string | undefined): Change<string> | null {
  return a === b ? null : { before: a ?? null, after: b ?? null };
}

export function diffConfig(from: ImageConfig | null, to: ImageConfig | null): ConfigDiff {
  const a = from ?? {};
  const b = to ?? {};
  return {
    env: diffKeyValues(envMap(a.env), envMap(b.env)),
    labels: diffKeyValues(
      new Map(Object.entries(a.labels ?? {})),
      new Map(Object.entries(b.labels ?? {})),
    ),
    entrypoint: listChange(a.entrypoint, b.entrypoint),
    cmd: listChange(a.cmd, b.cmd),
    user: valueChange(a.user, b.user),
    workingDir: valueChange(a.workingDir, b.workingDir),
    exposedPorts: diffValues(a.exposedPorts, b.exposedPorts),
    volumes: diffValues(a.volumes, b.volumes),
  };
}

/**
 * Layers compared as multisets of digests: a layer of `to` with no unmatched equal digest in
 * `from` is added, and the other way round removed; matched ones are common. Each list keeps
 * its image's layer order.
 */
export function diffLayers(from: DiffableImage['layers'], to: DiffableImage['layers']): LayersDiff {
  const unmatched = new Map<string, number>();
  for (const layer of from) unmatched.set(layer.digest, (unmatched.get(layer.digest) ?? 0) + 1);
  const added: LayerEntry[] = [];
  let common = 0;
  to.forEach((layer, position) => {
    const left = unmatched.get(layer.digest) ?? 0;
    if (left > 0) {
      unmatched.set(layer.digest, left - 1);
      common += 1;
    } else {
      added.push({ ...pickLayer(layer), position });
    }
  });
  const removed: LayerEntry[] = [];
  // The unmatched copies of a digest are its last occurrences in `from`.
  for (let position = from.length - 1; position >= 0; position--) {
    const layer = from[position]!;
    const left = unmatched.get(layer.digest) ?? 0;
    if (left > 0) {
      unmatched.set(layer.digest, left - 1);
      removed.push({ ...pickLayer(layer), position });
    }
  }
  removed.reverse();
  return { added: bounded(added), removed: bounded(removed), common };
}

function pickLayer(layer: DiffableImage['layers'][number]) {
  return { digest: layer.digest, size: layer.size, mediaType: layer.mediaType };
}

/** A manifest list's entries, or a single image as the one entry of its own platform. */
export function platformEntries(image: DiffableImage): PlatformEntry[] {
  if (image.manifests.length > 0) {
    return image.manifests.map((m) => ({
      os: m.os,
      architecture: m.architecture,
      variant: m.variant,
      digest: m.digest,
    }));
  }
  return [
    {
      os: image.os,
      architecture: image.architecture,
      variant: image.variant,
      digest: image.digest,
    },
  ];
}

const platformKey = (p: PlatformKey) => `${p.os ?? ''}/${p.architecture ?? ''}/${p.variant ?? ''}`;

/**
 * Entries paired by platform (os, architecture, variant): the n-th entry of a platform in
 * `from` with the n-th of the same platform in `to` (a list may carry several `unknown/unknown`
 * attestation entries). A pair with different digests changed; entries left unpaired were
 * added or removed. Each list is sorted by platform.
 */
export function diffPlatforms(from: PlatformEntry[], to: PlatformEntry[]): PlatformsDiff {
  const groups = (entries: PlatformEntry[]) => {
    const out = new Map<string, PlatformEntry[]>();
    for (const entry of entries) {
      const key = platformKey(entry);
      out.set(key, [...(out.get(key) ?? []), entry]);
    }
    return out;
  };
  const before = groups(from);
  const after = groups(to);
  const added: PlatformEntry[] = [];
  const removed: PlatformEntry[] = [];
  const changed: PlatformChange[] = [];
  let unchanged = 0;
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(byCodePoint);
  for (const key of keys) {
    const a = before.get(key) ?? [];
    const b = after.get(key) ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i];
      const y = b[i];
      if (x && y) {
        if (x.digest === y.digest) unchanged += 1;
        else
          changed.push({
            os: x.os,
            architecture: x.architecture,
            variant: x.variant,
            fromDigest: x.digest,
            toDigest: y.digest,
          });
      } else if (y) added.push(y);
      else if (x) removed.push(x);
    }
  }
  return {
    added: bounded(added),
    removed: bounded(removed),
    changed: bounded(changed),
    unchanged,
  };
}

/** The whole comparison of two stored images. */
export function diffImages(from: DiffableImage, to: DiffableImage): ImageDiffResult {
  return {
    identical: from.digest === to.digest,
    config: diffConfig(from.config, to.config),
    layers: diffLayers(from.layers, to.layers),
    size: { from: from.size, to: to.size, delta: to.size - from.size },
    platforms: diffPlatforms(platformEntries(from), platformEntries(to)),
  };
}
