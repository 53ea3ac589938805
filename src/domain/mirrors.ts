// Registry mirrors for imports, as OpenShift's ImageDigestMirrorSet (pulls by digest) and
// ImageTagMirrorSet (pulls by tag) give them (docs/importer.md#mirrors).
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { DockerReference } from './references.ts';

export interface MirrorRule {
  /** `host[:port][/path]`: the repositories at or below it are mirrored. */
  source: string;
  /** Tried in order, each with the rest of the repository's path appended. */
  mirrors: string[];
  /** `NeverContactSource`: when every mirror fails, the import fails instead of using the source. */
  neverContactSource: boolean;
}

export interface MirrorConfig {
  /** For sources pinned by digest (IDMS). */
  digest: MirrorRule[];
  /** For sources by tag (ITMS). */
  tag: MirrorRule[];
}

export const NO_MIRRORS: MirrorConfig = { digest: [], tag: [] };

/** A registry host with an optional port, then an optional repository path; no tag or digest. */
const LOCATION =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const location = z
  .string()
  .regex(LOCATION, 'must be host[:port][/repository path], without a tag or digest');
const entry = z.object({
  source: location,
  mirrors: z.array(location).min(1).max(16),
  mirrorSourcePolicy: z.enum(['AllowContactingSource', 'NeverContactSource']).optional(),
});
const sets = z.object({
  imageDigestMirrors: z.array(entry).max(1000).optional(),
  imageTagMirrors: z.array(entry).max(1000).optional(),
});

/**
 * Reads a mirror file: YAML or JSON, one or more documents, each either
 * `{imageDigestMirrors, imageTagMirrors}` or an OpenShift ImageDigestMirrorSet /
 * ImageTagMirrorSet (`kind` and `spec`). Throws with what is wrong.
 */
export function parseMirrorConfig(text: string): MirrorConfig {
  const config: MirrorConfig = { digest: [], tag: [] };
  const documents = parseAllDocuments(text);
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0) {
      throw new Error(`document ${index + 1}: ${document.errors[0]!.message.split('\n')[0]}`);
    }
    const value = document.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const object = value as { kind?: unknown; spec?: unknown };
    const body = typeof object.kind === 'string' && object.spec ? object.spec : value;
    const parsed = sets.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`document ${index + 1}: ${issue.path.join('.')}: ${issue.message}`);
    }
    const rule = (e: z.infer<typeof entry>): MirrorRule => ({
      source: e.source,
      mirrors: e.mirrors,
      neverContactSource: e.mirrorSourcePolicy === 'NeverContactSource',
    });
    config.digest.push(...(parsed.data.imageDigestMirrors ?? []).map(rule));
    config.tag.push(...(parsed.data.imageTagMirrors ?? []).map(rule));
  }
  return config;
}

/**
 * Where to read `source` from, in order: each mirror of the most specific rule that covers it
 * (digest rules for a digest, tag rules otherwise), then the source itself unless the rule says
 * NeverContactSource. Without a rule, the source alone.
 */
export function mirroredLocations(
  config: MirrorConfig,
  source: DockerReference,
): DockerReference[] {
  const name = `${source.registry}/${source.repository}`;
  const rules = source.digest ? config.digest : config.tag;
  let best: MirrorRule | null = null;
  for (const rule of rules) {
    const covers = name === rule.source || name.startsWith(`${rule.source}/`);
    if (covers && (!best || rule.source.length > best.source.length)) best = rule;
  }
  if (!best) return [source];
  const rest = name.slice(best.source.length);
  const usable: DockerReference[] = [];
  for (const mirror of best.mirrors) {
    const full = `${mirror}${rest}`;
    const slash = full.indexOf('/');
    // A bare host mirroring a whole repository names no repository to read: skipped.
    if (slash < 0) continue;
    usable.push({ ...source, registry: full.slice(0, slash), repository: full.slice(slash + 1) });
  }
  return best.neverContactSource ? usable : [...usable, source];
}
