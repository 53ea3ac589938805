// `oc describe` output for streams, tags and images: OpenShift's documented examples, laid out
// with tabs through the same elastic tabstops oc uses.
import { orderTagsForImport } from '../domain/importOrder.ts';
import { followTagReference, type StreamTags } from '../domain/tracking.ts';
import { ago, humanSize } from './humanize.ts';
import type { ImageView, KeyValue, StreamTagView, StreamView, TagView } from './queries.ts';

type PolicyView = NonNullable<TagView['policy']>;

import { DESCRIBE, tabwrite } from './tabwriter.ts';

/** `Label:\tvalue`, with `<none>` for nothing and continuation lines for more. */
function field(label: string, value: string | string[] | null | undefined): string {
  const lines = (Array.isArray(value) ? value : (value ?? '').split('\n')).filter(
    (line, _i, all) => line !== '' || all.length > 1,
  );
  const [first = '<none>', ...rest] = lines.length > 0 ? lines : ['<none>'];
  return [`${label}:\t${first}\n`, ...rest.map((line) => `\t${line}\n`)].join('');
}

function pairs(entries: KeyValue[]): string[] {
  return [...entries].sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => `${e.key}=${e.value}`);
}

/** Tags as oc lists them: `latest`, then versions newest first, then the rest by name. */
export function prioritizeTags(names: string[]): string[] {
  return orderTagsForImport(names, names.length).selected;
}

function sourceLine(stream: StreamView, tag: TagView): string {
  const spec = tag.spec;
  if (!spec) return '  no spec tag\n';
  if (!spec.from) return '  tag without source image\n';
  const { kind, name, namespace } = spec.from;
  const display = namespace && namespace !== stream.namespace ? `${namespace}/${name}` : name;
  const scheduled = spec.importPolicy.scheduled;
  let line: string;
  if (kind === 'DockerImage') {
    line = spec.reference
      ? `reference to registry ${display}`
      : scheduled
        ? `updates automatically from registry ${display}`
        : `tagged from ${display}`;
  } else if (kind === 'ImageStreamTag') {
    line = spec.reference
      ? `reference to ${display}`
      : tag.dangling
        ? `tracks ${display} (deleted: the tag keeps its history)`
        : scheduled
          ? `updates automatically from ${display}`
          : `tagged from ${display}`;
  } else {
    line = spec.reference ? `reference to image ${display}` : `tagged from ${display}`;
  }
  let out = `  ${line}\n`;
  if (spec.importPolicy.insecure) out += '    will use insecure HTTPS or HTTP connections\n';
  if (spec.referencePolicy.type === 'Local') {
    out += '    prefer registry pullthrough when referencing this tag\n';
  }
  return out;
}

/** Catalog annotations oc shows under a tag (`description`, `tags`, `supports`, `sampleRepo`). */
function catalogLines(tag: TagView): string {
  const annotations = new Map((tag.spec?.annotations ?? []).map((a) => [a.key, a.value]));
  const lines: string[] = [];
  const description = annotations.get('description');
  if (description) lines.push(`  ${description}`);
  const list = (key: string) =>
    (annotations.get(key) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .join(', ');
  if (list('tags')) lines.push(`  Tags: ${list('tags')}`);
  if (list('supports')) lines.push(`  Supports: ${list('supports')}`);
  const sample = annotations.get('sampleRepo');
  if (sample) lines.push(`  Example Repo: ${sample}`);
  return lines.length > 0 ? `${lines.join('\n')}\n\n` : '';
}

/** A policy in the flag form `tag --policy` takes, with its other settings. */
function policyText(policy: PolicyView): string {
  const kind =
    policy.kind === 'SEMVER'
      ? `semver:${policy.range}${policy.includePrerelease ? ' (pre-releases included)' : ''}`
      : policy.kind === 'PATTERN'
        ? `pattern:${policy.regex} extract ${policy.extract} order ${policy.order}`
        : `newest-build${policy.filter ? `:${policy.filter}` : ''}`;
  const exclude = policy.exclude.length > 0 ? policy.exclude.join(', ') : 'nothing';
  return `${kind}; excludes ${exclude}`;
}

/**
 * A policy tag's policy and last evaluation as `Label:\tvalue` pairs: what the policy is, when it
 * last ran and what it counted, the winner and why.
 */
function policyPairs(policy: PolicyView, now: number): [string, string][] {
  const pairs: [string, string][] = [['Policy', policyText(policy)]];
  const last = policy.lastEvaluation;
  if (!last) {
    pairs.push(['Last Evaluation', '<none yet>']);
    return pairs;
  }
  pairs.push([
    'Last Evaluation',
    `${ago(last.evaluatedAt, now)}: ${last.listed} listed, ${last.excluded} excluded, ${last.filtered} filtered, ${last.candidates} candidates`,
  ]);
  pairs.push([
    'Winner',
    last.winner ? `${last.winner}${last.digest ? `\t${last.digest}` : ''}` : '<none>',
  ]);
  pairs.push(['Why', last.reason]);
  return pairs;
}

/** The policy lines of a tag, each indented by `indent` (`describe is`, `reevaluate`). */
export function policyLines(policy: PolicyView, indent: string, now: number): string[] {
  return policyPairs(policy, now).map(([label, value]) => `${indent}${label}:\t${value}\n`);
}

/**
 * The tags that reach each tag through same-stream references (`latest` → `1.0`): oc lists them
 * beside the tag they lead to, `1.0 (latest)`, instead of as blocks of their own.
 */
export function trackingGroups(stream: StreamView): Map<string, string[]> {
  const spec: StreamTags = {
    namespace: stream.namespace,
    stream: stream.name,
    tags: new Map(
      stream.tags.filter((t) => t.spec).map((t) => [t.name, t.spec!.from ?? null] as const),
    ),
  };
  const groups = new Map<string, string[]>();
  for (const tag of stream.tags) {
    if (!tag.spec) continue;
    const followed = followTagReference(spec, tag.name);
    if (!followed.ok || !followed.value.followed) continue;
    groups.set(followed.value.tag, [...(groups.get(followed.value.tag) ?? []), tag.name]);
  }
  return groups;
}

function tagBlock(stream: StreamView, tag: TagView, now: number, trackers: string[]): string {
  const heading =
    trackers.length > 0 ? `${tag.name} (${prioritizeTags(trackers).join(', ')})` : tag.name;
  let out = `\n${heading}\n${sourceLine(stream, tag)}`;
  if (tag.policy) out += policyLines(tag.policy, '    ', now).join('');
  out += `\n${catalogLines(tag)}`;
  if (tag.importPending) out += '  ~ importing latest image ...\n';
  for (const condition of tag.conditions) {
    if (condition.type === 'ImportSuccess' && condition.status === 'False') {
      out += `  ! error: Import failed (${condition.reason}): ${condition.message}\n`;
      out += `      ${ago(condition.lastTransitionTime, now)}\n`;
    }
  }
  tag.history.forEach((item, i) => {
    out += `  ${i === 0 ? '*' : ' '} ${item.dockerImageReference}\n`;
    const digest = item.image?.digest;
    const shown = digest && !item.dockerImageReference.endsWith(`@${digest}`) ? `\t${digest}` : '';
    out += `      ${ago(item.created, now)}${shown}\n`;
  });
  return out;
}

/** `oc describe is/<name>`. */
export function describeImageStream(stream: StreamView, now: number = Date.now()): string {
  let out = field('Name', stream.name);
  out += field('Namespace', stream.namespace);
  out += field('Created', ago(stream.createdAt, now));
  out += field('Labels', pairs(stream.labels));
  out += field('Annotations', pairs(stream.annotations));
  out += field('Image Repository', stream.pullSpec);
  if (stream.dockerImageRepository) {
    out += field('Import Repository', stream.dockerImageRepository);
  }
  out += field('Image Lookup', `local=${stream.lookupPolicy.local}`);
  if (stream.tags.length === 0) return tabwrite(`${out}Tags:\t<none>\n`, DESCRIBE);
  out += field('Unique Images', String(stream.uniqueImageCount));
  out += field('Tags', String(stream.tags.length));
  const byName = new Map(stream.tags.map((t) => [t.name, t]));
  const groups = trackingGroups(stream);
  const grouped = new Set([...groups.values()].flat());
  const shown = prioritizeTags([...byName.keys()]).filter((name) => !grouped.has(name));
  for (const name of shown) {
    out += tagBlock(stream, byName.get(name)!, now, groups.get(name) ?? []);
  }
  return tabwrite(out, DESCRIBE);
}

/** The image part of `oc describe istag|isimage`: size, platform, children, config. */
export function imageFields(image: ImageView, now: number): string {
  let out =
    image.layers.length === 0
      ? field('Layer Size', humanSize(image.size))
      : field('Image Size', `${humanSize(image.size)} in ${image.layers.length} layers`) +
        field(
          'Layers',
          image.layers.map((l) => `${humanSize(l.size)}\t${l.digest}`),
        );
  out += field('Image Created', image.created ? ago(image.created, now) : null);
  out += field('Author', image.author);
  out += field('Arch', image.architecture);
  if (image.manifests.length > 0) {
    out += field(
      'Manifests',
      image.manifests.map((m) => {
        const platform = [m.os ?? '', m.architecture ?? '', m.variant ?? ''].filter(Boolean);
        return `${platform.join('/')}\t${m.digest}`;
      }),
    );
  }
  const config = image.config;
  if (!config) return out;
  const hasCommand = Boolean(config.entrypoint?.length || config.cmd?.length);
  if (config.entrypoint?.length) out += field('Entrypoint', config.entrypoint.join(' '));
  if (config.cmd?.length || !hasCommand) out += field('Command', config.cmd?.join(' '));
  out += field('Working Dir', config.workingDir);
  out += field('User', config.user);
  out += field('Exposes Ports', [...(config.exposedPorts ?? [])].sort().join(', '));
  out += field('Docker Labels', pairs(config.labels));
  if (config.env?.length) out += field('Environment', config.env);
  if (config.volumes?.length) out += field('Volumes', [...config.volumes].sort());
  return out;
}

/**
 * `oc describe istag/<stream>:<tag>`; import-image passes `imageName` `<stream>:<tag>` for the
 * image it imported, as oc prints it.
 */
export function describeImageStreamTag(
  tag: StreamTagView,
  now: number = Date.now(),
  imageName?: string,
): string {
  const head = tag.history[0];
  const image = tag.image;
  let out = field('Image Name', imageName ?? image?.digest ?? null);
  out += field('Docker Image', head?.dockerImageReference ?? null);
  out += field('Name', image?.digest ?? `${tag.stream.name}:${tag.name}`);
  out += field('Created', head ? ago(head.created, now) : null);
  if (tag.policy) {
    for (const [label, value] of policyPairs(tag.policy, now)) out += field(label, value);
  }
  if (image) out += imageFields(image, now);
  for (const condition of tag.conditions) {
    if (condition.type === 'ImportSuccess' && condition.status === 'False') {
      out += field('Import Error', `Import failed (${condition.reason}): ${condition.message}`);
    }
  }
  return tabwrite(out, DESCRIBE);
}

/** `describe isimage <stream>@<id>`. */
export function describeImageStreamImage(
  view: { name: string; digest: string; dockerImageReference: string; image: ImageView | null },
  now: number = Date.now(),
): string {
  let out = field('Image Name', view.digest);
  out += field('Docker Image', view.dockerImageReference);
  out += field('Name', view.name);
  if (view.image) out += imageFields(view.image, now);
  return tabwrite(out, DESCRIBE);
}
