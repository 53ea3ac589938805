// OpenShift ImageStream manifests in (YAML or JSON, one or many documents, `kind: List`), checked
// field by field, and turned into what the `tag` mutation takes for each spec tag.
import { CliError } from './errors.ts';
import {
  IMPORT_MODE_ERROR,
  type ImportMode,
  type ReferencePolicy,
  type TagSourceKind,
} from './flags.ts';
import { POLICY_ANNOTATION, type PolicyInput, parsePolicyAnnotation } from './policyFlags.ts';

export const API_VERSIONS = ['image.openshift.io/v1', 'v1'];

export interface SpecTagManifest {
  name: string;
  from: { kind: TagSourceKind; name: string; namespace: string | null };
  reference: boolean;
  referencePolicy: ReferencePolicy;
  importPolicy: { scheduled: boolean; insecure: boolean; importMode: ImportMode };
  /** Without the policy annotation, which becomes `policy`. */
  annotations: Record<string, string>;
  /** A policy tag's policy, from the `tagraph.io/policy` annotation; absent for other tags. */
  policy?: PolicyInput;
}

export interface ImageStreamManifest {
  /** Where it came from, for messages: `file.yaml` or `file.yaml (document 2)`. */
  origin: string;
  name: string;
  namespace: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  lookupLocal: boolean;
  dockerImageRepository: string | null;
  tags: SpecTagManifest[];
  warnings: string[];
}

type Value = unknown;

/**
 * Documents are read with YAML's failsafe schema: every scalar stays the string it was written as,
 * so a tag named `2.10` is not the number 2.1. Booleans and nulls are then read explicitly.
 */
function isAbsent(value: Value): boolean {
  return value === undefined || value === null || value === '' || value === 'null' || value === '~';
}

class Reader {
  constructor(readonly where: string) {}

  fail(path: string, message: string): never {
    throw new CliError(`${this.where}: ${path}: ${message}`);
  }

  object(value: Value, path: string): Record<string, Value> {
    if (isAbsent(value)) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    return value as Record<string, Value>;
  }

  list(value: Value, path: string): Value[] {
    if (isAbsent(value)) return [];
    if (!Array.isArray(value)) this.fail(path, 'must be a list');
    return value;
  }

  string(value: Value, path: string): string | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    return value;
  }

  required(value: Value, path: string): string {
    const text = this.string(value, path);
    if (text === null || isAbsent(text)) this.fail(path, 'is required');
    return text;
  }

  boolean(value: Value, path: string): boolean | null {
    if (isAbsent(value)) return null;
    if (typeof value === 'string') {
      if (/^(true|True|TRUE)$/.test(value)) return true;
      if (/^(false|False|FALSE)$/.test(value)) return false;
    }
    return this.fail(path, `must be true or false, not ${JSON.stringify(value)}`);
  }

  /** Labels and annotations: string values only. */
  stringMap(value: Value, path: string): Record<string, string> {
    const map = this.object(value, path);
    const out: Record<string, string> = {};
    for (const [key, entry] of Object.entries(map)) {
      if (typeof entry !== 'string' || entry === null) {
        this.fail(`${path}.${key}`, 'must be a string (quote it)');
      }
      out[key] = entry;
    }
    return out;
  }
}

const KINDS: TagSourceKind[] = ['DockerImage', 'ImageStreamTag', 'ImageStreamImage'];

function readTag(
  r: Reader,
  value: Value,
  path: string,
  dockerImageRepository: string | null,
): SpecTagManifest {
  const tag = r.object(value, path);
  const name = r.required(tag.name, `${path}.name`);
  const at = `${path} (${name})`;
  let from: SpecTagManifest['from'];
  if (isAbsent(tag.from)) {
    if (!dockerImageRepository) {
      r.fail(`${at}.from`, 'is required (or set spec.dockerImageRepository to import from)');
    }
    from = { kind: 'DockerImage', name: `${dockerImageRepository}:${name}`, namespace: null };
  } else {
    const source = r.object(tag.from, `${at}.from`);
    const kind = r.required(source.kind, `${at}.from.kind`);
    if (!KINDS.includes(kind as TagSourceKind)) {
      r.fail(`${at}.from.kind`, `must be ${KINDS.join(', ')}, not ${kind}`);
    }
    const namespace = r.string(source.namespace, `${at}.from.namespace`);
    from = {
      kind: kind as TagSourceKind,
      name: r.required(source.name, `${at}.from.name`),
      namespace: namespace && !isAbsent(namespace) ? namespace : null,
    };
  }
  const importPolicy = r.object(tag.importPolicy, `${at}.importPolicy`);
  const mode = r.string(importPolicy.importMode, `${at}.importPolicy.importMode`);
  if (mode !== null && !isAbsent(mode) && mode !== 'Legacy' && mode !== 'PreserveOriginal') {
    r.fail(`${at}.importPolicy.importMode`, IMPORT_MODE_ERROR);
  }
  const referencePolicy = r.object(tag.referencePolicy, `${at}.referencePolicy`);
  const policy = r.string(referencePolicy.type, `${at}.referencePolicy.type`);
  let type: ReferencePolicy = 'Source';
  if (policy !== null && !isAbsent(policy)) {
    if (policy.toLowerCase() === 'local') type = 'Local';
    else if (policy.toLowerCase() !== 'source') {
      r.fail(`${at}.referencePolicy.type`, `must be Source or Local, not ${policy}`);
    }
  }
  return {
    name,
    from,
    reference: r.boolean(tag.reference, `${at}.reference`) ?? false,
    referencePolicy: type,
    importPolicy: {
      scheduled: r.boolean(importPolicy.scheduled, `${at}.importPolicy.scheduled`) ?? false,
      insecure: r.boolean(importPolicy.insecure, `${at}.importPolicy.insecure`) ?? false,
      importMode: mode === 'PreserveOriginal' ? 'PreserveOriginal' : 'Legacy',
    },
    ...policyOf(r, r.stringMap(tag.annotations, `${at}.annotations`), `${at}.annotations`),
  };
}

/** Splits the policy annotation off a tag's annotations; a malformed one fails the manifest. */
function policyOf(
  r: Reader,
  annotations: Record<string, string>,
  at: string,
): { annotations: Record<string, string>; policy?: PolicyInput } {
  const { [POLICY_ANNOTATION]: text, ...rest } = annotations;
  if (text === undefined) return { annotations };
  const parsed = parsePolicyAnnotation(text);
  if (!parsed.ok) r.fail(`${at}["${POLICY_ANNOTATION}"]`, parsed.message);
  return { annotations: rest, policy: parsed.policy };
}

function readImageStream(r: Reader, doc: Record<string, Value>): ImageStreamManifest {
  const warnings: string[] = [];
  const metadata = r.object(doc.metadata, 'metadata');
  const name = r.required(metadata.name, 'metadata.name');
  const namespace = r.string(metadata.namespace, 'metadata.namespace');
  const spec = r.object(doc.spec, 'spec');
  const lookupPolicy = r.object(spec.lookupPolicy, 'spec.lookupPolicy');
  const repository = r.string(spec.dockerImageRepository, 'spec.dockerImageRepository');
  const dockerImageRepository = repository && !isAbsent(repository) ? repository : null;
  let tagList = r.list(spec.tags, 'spec.tags');
  let tagsPath = 'spec.tags';
  if (tagList.length === 0 && !isAbsent(doc.tags)) {
    // Some published examples put `tags` beside `spec` instead of inside it.
    tagList = r.list(doc.tags, 'tags');
    tagsPath = 'tags';
    warnings.push(`${r.where}: "tags" belongs under "spec"; read as spec.tags`);
  }
  const tags = tagList.map((t, i) => readTag(r, t, `${tagsPath}[${i}]`, dockerImageRepository));
  const seen = new Set<string>();
  for (const tag of tags) {
    if (seen.has(tag.name)) r.fail(tagsPath, `tag ${tag.name} is given twice`);
    seen.add(tag.name);
  }
  return {
    origin: r.where,
    name,
    namespace: namespace && !isAbsent(namespace) ? namespace : null,
    labels: r.stringMap(metadata.labels, 'metadata.labels'),
    annotations: r.stringMap(metadata.annotations, 'metadata.annotations'),
    lookupLocal: r.boolean(lookupPolicy.local, 'spec.lookupPolicy.local') ?? false,
    dockerImageRepository,
    tags,
    warnings,
  };
}

function readObject(r: Reader, value: Value, out: ImageStreamManifest[]): void {
  const doc = r.object(value, 'document');
  const kind = r.string(doc.kind, 'kind');
  const apiVersion = r.string(doc.apiVersion, 'apiVersion');
  if (kind === 'List' || kind === 'ImageStreamList') {
    r.list(doc.items, 'items').forEach((item, i) => {
      readObject(new Reader(`${r.where} items[${i}]`), item, out);
    });
    return;
  }
  if (kind !== 'ImageStream') {
    r.fail(
      'kind',
      `tagraph applies ImageStream objects only, not ${kind ?? 'an object without kind'}`,
    );
  }
  if (!apiVersion || !API_VERSIONS.includes(apiVersion)) {
    r.fail(
      'apiVersion',
      `must be ${API_VERSIONS.join(' or ')} for an ImageStream, not ${apiVersion}`,
    );
  }
  out.push(readImageStream(r, doc));
}

/**
 * The largest manifest source `apply -f` reads (a file or stdin). The yaml parser needs about
 * 100–300 MB and several seconds per MiB of YAML (its syntax tree, kept whole), so this bounds
 * what a hostile file can cost; an export of a namespace's streams is far smaller.
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** YAML documents (`---`) one source may hold. */
export const MAX_DOCUMENTS = 1000;
/**
 * Alias expansion per document, as the yaml package counts it: an alias to a node holding
 * aliases counts theirs too, so nested aliases that would expand exponentially (a billion
 * laughs) are refused after this many.
 */
export const MAX_ALIAS_COUNT = 100;

const MIB = 1024 * 1024;

/** Every ImageStream in a YAML or JSON text; throws a CliError naming the document and field. */
export async function parseManifests(text: string, origin: string): Promise<ImageStreamManifest[]> {
  const size = Buffer.byteLength(text);
  if (size > MAX_MANIFEST_BYTES) {
    throw new CliError(
      `${origin}: ${size} bytes is over the limit of ${MAX_MANIFEST_BYTES / MIB} MiB for one manifest source; split it into several files`,
    );
  }
  const { parseAllDocuments } = await import('yaml');
  const documents = parseAllDocuments(text, { schema: 'failsafe' });
  const list = Array.isArray(documents) ? documents : [documents];
  if (list.length > MAX_DOCUMENTS) {
    throw new CliError(
      `${origin}: ${list.length} YAML documents is over the limit of ${MAX_DOCUMENTS}; split it into several files`,
    );
  }
  const out: ImageStreamManifest[] = [];
  const several = list.length > 1;
  list.forEach((document, i) => {
    const where = several ? `${origin} (document ${i + 1})` : origin;
    const error = document.errors[0];
    if (error) throw new CliError(`${where}: not valid YAML or JSON: ${error.message}`);
    let value: Value;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Value;
    } catch (problem) {
      // The yaml package reports alias problems (too many, unresolved) as ReferenceErrors.
      if (!(problem instanceof ReferenceError)) throw problem;
      throw new CliError(
        /Excessive alias count/.test(problem.message)
          ? `${where}: its aliases expand more than ${MAX_ALIAS_COUNT} times (a YAML bomb?); write the values out instead`
          : `${where}: not valid YAML: ${problem.message}`,
      );
    }
    if (isAbsent(value)) return;
    readObject(new Reader(where), value, out);
  });
  return out;
}

/** The `tag` mutation's input that makes `tag` what the manifest says (docs/rules.md#tag-kinds). */
export interface TagInputVars {
  namespace: string;
  source: string;
  sourceKind: TagSourceKind;
  destinations: string[];
  alias: boolean;
  reference: boolean;
  scheduled: boolean;
  insecure: boolean;
  importMode: ImportMode;
  referencePolicy: ReferencePolicy;
  policy?: PolicyInput;
}

/**
 * A spec tag as a `tag` call. An ImageStreamTag source in the same stream is a tracking tag
 * (`oc tag --alias`), which is what OpenShift keeps in such a spec; one in another stream is
 * pinned to the image it points at now, as `oc tag` does. Import settings of a source that is
 * never imported are dropped with a warning.
 */
export function tagInputFor(
  stream: { name: string; namespace: string },
  tag: SpecTagManifest,
  warnings: string[],
): TagInputVars {
  const { from } = tag;
  const sourceNamespace = from.namespace ?? stream.namespace;
  const prefix = sourceNamespace === stream.namespace ? '' : `${sourceNamespace}/`;
  let source = from.name;
  let alias = false;
  if (from.kind === 'ImageStreamTag') {
    const colon = from.name.lastIndexOf(':');
    const sourceStream = colon < 0 ? stream.name : from.name.slice(0, colon);
    const sourceTag = colon < 0 ? from.name : from.name.slice(colon + 1);
    alias = !tag.reference && prefix === '' && sourceStream === stream.name;
    source = `${prefix}${sourceStream}:${sourceTag}`;
  } else if (from.kind === 'ImageStreamImage') {
    source = `${prefix}${from.name.includes('@') ? from.name : `${stream.name}@${from.name}`}`;
  }
  const imported = from.kind === 'DockerImage';
  for (const setting of ['scheduled', 'insecure'] as const) {
    if (tag.importPolicy[setting] && !imported) {
      warnings.push(
        `ImageStream ${stream.name} tag ${tag.name}: importPolicy.${setting} applies to DockerImage sources only; ignored`,
      );
    }
  }
  return {
    namespace: stream.namespace,
    source,
    sourceKind: from.kind,
    destinations: [`${stream.name}:${tag.name}`],
    alias,
    reference: tag.reference,
    scheduled: imported && tag.importPolicy.scheduled,
    insecure: imported && tag.importPolicy.insecure,
    importMode: tag.importPolicy.importMode,
    referencePolicy: tag.referencePolicy,
    ...(tag.policy ? { policy: tag.policy } : {}),
  };
}

/** Tracking tags after the tags they track, otherwise in manifest order. */
export function orderForApply(inputs: TagInputVars[]): TagInputVars[] {
  const byName = new Map(inputs.map((i) => [i.destinations[0]!, i]));
  const done = new Set<string>();
  const out: TagInputVars[] = [];
  const visit = (input: TagInputVars, path: Set<string>) => {
    const key = input.destinations[0]!;
    if (done.has(key) || path.has(key)) return;
    path.add(key);
    const source = input.alias ? byName.get(input.source) : undefined;
    if (source) visit(source, path);
    done.add(key);
    out.push(input);
  };
  for (const input of inputs) visit(input, new Set());
  return out;
}
