// Which repository tags `import-image --all` takes, and in what order.
// The rules: docs/rules.md#importing-every-tag-of-a-repository.
//
// The part needed here — semver 2.0 precedence (section 11 of semver.org), plus minor versions
// such as `5.1` that the `semver` package does not parse — is forty lines, implemented below.

// Numeric identifiers as semver defines them: no leading zeros. The same rule is applied to
// minor versions, so `05.1` is not a version but an ordinary tag.
const NUM = '(0|[1-9]\\d*)';
const MINOR = new RegExp(`^v?${NUM}\\.${NUM}$`);
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const BUILD_ID = '[0-9a-zA-Z-]+';
const SEMVER = new RegExp(
  `^v?${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?$`,
);

interface Version {
  numbers: string[];
  prerelease: string[];
}

type Ranked = { tag: string; group: 0 | 3 } | { tag: string; group: 1 | 2; version: Version };

function rank(tag: string): Ranked {
  if (tag === 'latest') return { tag, group: 0 };
  const minor = MINOR.exec(tag);
  if (minor) return { tag, group: 1, version: { numbers: [minor[1]!, minor[2]!], prerelease: [] } };
  const full = SEMVER.exec(tag);
  if (full) {
    const prerelease = full[4] === undefined ? [] : full[4].split('.');
    return { tag, group: 2, version: { numbers: [full[1]!, full[2]!, full[3]!], prerelease } };
  }
  return { tag, group: 3 };
}

/** Compares digit strings of any length without Number's 2^53 limit. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver 2.0 precedence for pre-release identifier lists; build metadata is ignored. */
function comparePrerelease(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return b.length - a.length; // none > some
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    let c: number;
    if (xNum && yNum) c = compareNumeric(x, y);
    else if (xNum !== yNum)
      c = xNum ? -1 : 1; // numeric identifiers sort before alphanumeric
    else c = compareAscii(x, y);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Semver precedence of two versions of the same group (two minors, or two full versions). */
function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.numbers.length, b.numbers.length); i++) {
    const c = compareNumeric(a.numbers[i] ?? '0', b.numbers[i] ?? '0');
    if (c !== 0) return c;
  }
  return comparePrerelease(a.prerelease, b.prerelease);
}

function compareRanked(a: Ranked, b: Ranked): number {
  if (a.group !== b.group) return a.group - b.group;
  if ((a.group === 1 || a.group === 2) && (b.group === 1 || b.group === 2)) {
    // Descending; equal versions (`5.1` and `v5.1`, or differing build metadata) fall through.
    const c = compareVersions(b.version, a.version);
    if (c !== 0) return c;
  }
  return compareAscii(a.tag, b.tag);
}

/**
 * Orders tags `latest`; minor versions (`5.1`, `v5.1`) newest first; full semver (`1.2.3`,
 * `v1.2.3-rc.1`) newest first; then everything else by code point. Keeps the first `max` as
 * `selected` and reports the rest as `additional`, in the same order. Duplicates are dropped.
 */
export function orderTagsForImport(
  tags: readonly string[],
  max: number,
): { selected: string[]; additional: string[] } {
  const limit = Number.isNaN(max) ? 0 : Math.max(0, Math.floor(max));
  const ordered = [...new Set(tags)]
    .map(rank)
    .sort(compareRanked)
    .map((r) => r.tag);
  return { selected: ordered.slice(0, limit), additional: ordered.slice(limit) };
}
