// Flag syntax and values as oc takes them: `--alias=true`, `--import-mode=PreserveOriginal`,
// `--reference-policy=local`, `--source=docker`, `--keep-younger-than=90m`.
import { type Command, Option } from 'commander';
import { CliError, UsageError } from './errors.ts';

/** Boolean flags that oc users write as `--flag=true|false`. */
const BOOLEAN_FLAGS = new Set([
  'alias',
  'reference',
  'scheduled',
  'insecure',
  'confirm',
  'all',
  'enabled',
  'delete',
  'include-prerelease',
  'dry-run',
  'wait',
]);

/**
 * Rewrites `--flag=true` to `--flag` and `--flag=false` to `--no-flag` for the boolean flags
 * above, so commander (whose booleans take no value) parses oc's spelling. Other values are a
 * usage error. Nothing after `--` is touched.
 */
export function normalizeBooleanFlags(argv: string[]): string[] {
  const out: string[] = [];
  let literal = false;
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (literal || !match || !BOOLEAN_FLAGS.has(match[1]!)) {
      if (arg === '--') literal = true;
      out.push(arg);
      continue;
    }
    const value = match[2]!.toLowerCase();
    if (value === 'true' || value === '1' || value === 't') out.push(`--${match[1]}`);
    else if (value === 'false' || value === '0' || value === 'f') out.push(`--no-${match[1]}`);
    else
      throw new UsageError(`invalid argument "${match[2]}" for "--${match[1]}": use true or false`);
  }
  return out;
}

/** Adds `--name` and a hidden `--no-name`, so `--name=false` turns a flag off explicitly. */
export function booleanOption(
  command: Command,
  name: string,
  description: string,
  short?: string,
): Command {
  command.addOption(new Option(`${short ? `${short}, ` : ''}--${name}`, description));
  command.addOption(new Option(`--no-${name}`).hideHelp());
  return command;
}

export const IMPORT_MODE_ERROR = 'valid ImportMode values are Legacy or PreserveOriginal';

export type ImportMode = 'Legacy' | 'PreserveOriginal';

/** `--import-mode`: exactly `Legacy` or `PreserveOriginal`, as oc checks it (absent: Legacy). */
export function parseImportMode(value: string | undefined): ImportMode | undefined {
  if (value === undefined) return undefined;
  if (value === 'Legacy' || value === 'PreserveOriginal') return value;
  throw new CliError(IMPORT_MODE_ERROR);
}

export type ReferencePolicy = 'Source' | 'Local';

/** `--reference-policy=source|local` (any case). */
export function parseReferencePolicy(value: string | undefined): ReferencePolicy | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'source') return 'Source';
  if (lower === 'local') return 'Local';
  throw new CliError(`valid reference policy values are source or local, not "${value}"`);
}

export type TagSourceKind = 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage';

const SOURCE_KINDS: Record<string, TagSourceKind> = {
  docker: 'DockerImage',
  dockerimage: 'DockerImage',
  istag: 'ImageStreamTag',
  imagestreamtag: 'ImageStreamTag',
  isimage: 'ImageStreamImage',
  imagestreamimage: 'ImageStreamImage',
};

/** `oc tag --source`: docker, istag or isimage (or the kinds spelled out). */
export function parseSourceKind(value: string | undefined): TagSourceKind | undefined {
  if (value === undefined) return undefined;
  const kind = SOURCE_KINDS[value.toLowerCase()];
  if (!kind) throw new CliError(`invalid source "${value}": use docker, istag or isimage`);
  return kind;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`60m`, `1h30m`, `90s`) in milliseconds. */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (!match) {
      throw new CliError(`invalid duration "${value}": use a number and a unit, e.g. 60m or 1h30m`);
    }
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    at = part.lastIndex;
  }
  if (at === 0) throw new CliError(`invalid duration "${value}"`);
  return total;
}

/** A whole number ≥ `min` from a flag. */
export function parseCount(flag: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    throw new CliError(`--${flag} must be a whole number of at least ${min}, not "${value}"`);
  }
  return Number(value);
}

export type RollbackTarget = { index: number } | { generation: number } | { digest: string };

/**
 * `--to`: a history index (`1`, `index:1`), a generation (`generation:3`, `gen:3`) or an image
 * (`sha256:…`, `digest:<prefix>`, or a hex prefix of at least 7 digits that is not all numbers).
 */
export function parseRollbackTarget(value: string): RollbackTarget {
  const text = value.trim();
  let match = /^(?:index:)?(\d+)$/.exec(text);
  if (match) return { index: Number(match[1]) };
  match = /^(?:generation|gen):(\d+)$/.exec(text);
  if (match) return { generation: Number(match[1]) };
  match = /^digest:(.+)$/.exec(text);
  if (match) return { digest: match[1]! };
  if (/^sha256:[0-9a-f]+$/.test(text) || /^[0-9a-f]{7,64}$/.test(text)) return { digest: text };
  throw new CliError(
    `invalid --to "${value}": give a history index (1), generation:<n>, or an image digest`,
  );
}

/** `-o`: one of the formats a command knows; `jsonpath=<template>` carries its template. */
export type OutputFormat =
  | { kind: 'table' }
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: string };

export function parseOutput(value: string | undefined, allowed: string[]): OutputFormat {
  if (value === undefined || value === '') return { kind: 'table' };
  const jsonpath = /^jsonpath=(.*)$/s.exec(value);
  if (jsonpath && allowed.includes('jsonpath')) return { kind: 'jsonpath', template: jsonpath[1]! };
  if (allowed.includes(value)) return { kind: value } as OutputFormat;
  throw new CliError(
    `unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')}`,
  );
}

/** Commander's way of taking a flag several times (`-f a.yaml -f b.yaml`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
