// `tagraph apply -f <file|->`: make ImageStreams what OpenShift manifests say, each object all or
// nothing (applyImageStream). A missing stream is created; labels, annotations and lookupPolicy
// are replaced; each spec tag is set as `tag` sets it (the server imports DockerImage sources)
// with its annotations. Tags the manifest does not name are left alone.
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { errorLines, isTypedError, type TypedError, unwrap } from '../client.ts';
import { type Context, contextOf, type Io, printStructured } from '../context.ts';
import { APPLY_CURRENT, APPLY_STREAM, IMPORT_ALL } from '../documents.ts';
import { alreadyExists, CliError, forbidden, PrintedError, UsageError } from '../errors.ts';
import { collect, type OutputFormat, parseOutput } from '../flags.ts';
import type { ResultOf } from '../graphql.ts';
import { readAtMost } from '../input.ts';
import {
  type ImageStreamManifest,
  MAX_MANIFEST_BYTES,
  orderForApply,
  parseManifests,
  tagInputFor,
} from '../manifest.ts';
import { imageStreamObject, listObject } from '../objects.ts';
import { fetchStream, type KeyValue, readAllPages } from '../queries.ts';

type FoundStream = NonNullable<ResultOf<typeof APPLY_CURRENT>['imageStream']>;

type Current = Omit<FoundStream, 'tags'> & {
  /** Spec tag annotations by tag name (null: a pushed tag without spec). */
  tagAnnotations: Map<string, Record<string, string> | null>;
};

/** The stream as the server has it, with each tag's spec annotations; null when it is missing. */
async function current(ctx: Context, namespace: string, name: string): Promise<Current | null> {
  let head = null as FoundStream | null;
  const tags = await readAllPages(async (after) => {
    const data = await ctx.client.request(APPLY_CURRENT, { namespace, name, after });
    head ??= data.imageStream;
    return data.imageStream?.tags;
  });
  if (!head) return null;
  const tagAnnotations = new Map(
    tags.map((tag) => [tag.name, tag.spec ? record(tag.spec.annotations) : null] as const),
  );
  return { ...head, tagAnnotations };
}

function record(entries: KeyValue[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [e.key, e.value]));
}

function entries(map: Record<string, string>): KeyValue[] {
  return Object.keys(map)
    .sort()
    .map((key) => ({ key, value: map[key]! }));
}

async function readSource(ctx: Context, file: string): Promise<{ text: string; origin: string }> {
  const tooLarge = (origin: string) =>
    new CliError(
      `${origin} is over the limit of ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB for one manifest source; split it into several files`,
    );
  if (file === '-') {
    const text = await ctx.io.readStdin(MAX_MANIFEST_BYTES);
    if (text === null) throw tooLarge('stdin');
    return { text, origin: 'stdin' };
  }
  let text: string | null;
  try {
    // Reads at most one byte past the limit, whatever the file is (a FIFO, /dev/zero).
    text = await readAtMost(
      createReadStream(file, { end: MAX_MANIFEST_BYTES }),
      MAX_MANIFEST_BYTES,
    );
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  if (text === null) throw tooLarge(file);
  return { text, origin: file };
}

function namespaceFor(ctx: Context, manifest: ImageStreamManifest): string {
  if (manifest.namespace && ctx.config.namespaceFromFlag && manifest.namespace !== ctx.namespace) {
    throw new CliError(
      `the namespace from the provided object "${manifest.namespace}" does not match the namespace "${ctx.namespace}". You must pass '--namespace=${manifest.namespace}' to perform this operation.`,
    );
  }
  return manifest.namespace ?? ctx.namespace;
}

type Status = 'created' | 'configured' | 'unchanged';

/**
 * Applies one ImageStream, all or nothing, as oc does: the server changes nothing of it when any
 * part fails (a CliError then carries every failure). Returns its status.
 */
async function applyOne(
  ctx: Context,
  manifest: ImageStreamManifest,
  namespace: string,
  createOnly: boolean,
): Promise<Status> {
  const { name } = manifest;
  if (createOnly && (await current(ctx, namespace, name))) throw alreadyExists('is', name);
  const warnings: string[] = [];
  const tags = orderForApply(
    manifest.tags.map((tag) => tagInputFor({ name, namespace }, tag, warnings)),
  ).map((input) => ({ ...input, recordLineage: false }));
  for (const warning of warnings) ctx.warn(warning);
  const data = await ctx.client.request(APPLY_STREAM, {
    input: {
      namespace,
      name,
      labels: entries(manifest.labels),
      annotations: entries(manifest.annotations),
      lookupLocal: manifest.lookupLocal,
      dockerImageRepository: manifest.dockerImageRepository,
      // A manifest states what each tag is; applying it promotes nothing, so no lineage.
      tags,
      tagAnnotations: manifest.tags.map((tag) => ({
        tag: tag.name,
        annotations: entries(tag.annotations),
      })),
    },
  });
  const outcome = unwrap(data.applyImageStream, `ImageStream ${name}: `);
  if (outcome.status === 'FAILED') {
    const lines: string[] = [];
    for (const failure of outcome.failures) {
      const at = failure.tag === null ? '' : ` tag ${failure.tag}`;
      const error: TypedError = { __typename: 'ApplyError', ...failure };
      const failed = errorLines(error).map((line) => `ImageStream ${name}${at}: ${line}`);
      lines.push(
        ...(error.code === 'FORBIDDEN' ? failed.map((l) => forbidden(l).message) : failed),
      );
    }
    throw new CliError(lines[0] ?? `ImageStream ${name}: not applied`, lines.slice(1));
  }

  if (
    outcome.status === 'CREATED' &&
    manifest.dockerImageRepository &&
    manifest.tags.length === 0
  ) {
    // OpenShift imports a new stream's repository by itself; here apply asks for it.
    const imported = await ctx.client.request(IMPORT_ALL, {
      input: { namespace, image: name, all: true },
    });
    const result = imported.importImage;
    if (isTypedError(result)) {
      throw new CliError(`ImageStream ${name}: import: ${errorLines(result)[0]}`);
    }
    ctx.io.err(
      `imagestream.image.openshift.io/${name}: importing the tags of ${manifest.dockerImageRepository} (job ${result.job?.id ?? 'none'})\n`,
    );
  }
  return outcome.status.toLowerCase() as Status;
}

/** Applies (or, with createOnly, creates) every ImageStream in the files. */
async function applyFiles(
  ctx: Context,
  files: string[],
  options: { createOnly: boolean; format: OutputFormat },
): Promise<void> {
  const manifests: ImageStreamManifest[] = [];
  for (const file of files) {
    const { text, origin } = await readSource(ctx, file);
    manifests.push(...(await parseManifests(text, origin)));
  }
  if (manifests.length === 0) throw new CliError(`no ImageStream objects in ${files.join(', ')}`);
  for (const manifest of manifests) for (const warning of manifest.warnings) ctx.warn(warning);
  const errors: string[] = [];
  const applied: { namespace: string; name: string }[] = [];
  for (const manifest of manifests) {
    try {
      const namespace = namespaceFor(ctx, manifest);
      const status = await applyOne(ctx, manifest, namespace, options.createOnly);
      applied.push({ namespace, name: manifest.name });
      if (options.format.kind === 'table') {
        ctx.io.out(`imagestream.image.openshift.io/${manifest.name} ${status}\n`);
      }
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      // Each line as its error prints it (`error: …`, or the server's `Error from server …`).
      errors.push(...[error.message, ...error.details].map((line) => `${error.prefix}${line}`));
    }
  }
  if (options.format.kind !== 'table') {
    const objects = [];
    for (const { namespace, name } of applied) {
      const stream = await fetchStream(ctx.client, namespace, name);
      if (stream) objects.push(imageStreamObject(stream));
    }
    printStructured(
      ctx.io,
      options.format,
      objects.length === 1 ? objects[0] : listObject(objects),
    );
  }
  if (errors.length > 0) throw new PrintedError(errors[0]!, errors.slice(1));
}

export function registerApply(program: Command, io: Io): void {
  const command = program
    .command('apply')
    .summary('create or update image streams from OpenShift manifests (oc apply)')
    .description(
      'Make the ImageStreams of the files (YAML or JSON; several documents or a List; - for\n' +
        'stdin) exist as written: a missing stream is created; labels, annotations and\n' +
        'spec.lookupPolicy are replaced; every spec tag is set as oc tag would (DockerImage\n' +
        'sources are imported by the server, an ImageStreamTag of the same stream is tracked,\n' +
        'one of another stream is pinned). Tags a manifest leaves out are kept; status is ignored.',
    );
  applyFilesAction(command, io, {
    fileHelp: 'ImageStream YAML or JSON, - for stdin; repeatable',
    outputHelp: 'json or yaml: print the streams as they are after',
    formats: ['json', 'yaml'],
    missing: 'apply needs -f <file|->',
    createOnly: false,
  });
}

/** How `apply` and `create -f` word their flags, and which of them creates only. */
interface FilesCommand {
  fileHelp: string;
  outputHelp: string;
  formats: string[];
  /** The usage error without -f. */
  missing: string;
  createOnly: boolean;
}

/** Adds `-f` and `-o` and the action that applies (or creates) the streams of the files. */
export function applyFilesAction(command: Command, io: Io, files: FilesCommand): void {
  command
    .option('-f, --filename <file>', files.fileHelp, collect)
    .option('-o, --output <format>', files.outputHelp)
    .action(async (options: { filename?: string[]; output?: string }, self: Command) => {
      if (!options.filename?.length) throw new UsageError(files.missing);
      const format = parseOutput(options.output, files.formats);
      await applyFiles(contextOf(self, io), options.filename, {
        createOnly: files.createOnly,
        format,
      });
    });
}
