// `tagraph get is|istag|isimage [name...]`: a table, or the OpenShift objects as JSON or YAML;
// `tagraph get namespaces`: the readable namespaces with their counts.
import type { Command } from 'commander';
import { type Context, contextOf, type Io, printStructured } from '../context.ts';
import { notFound, ServerError } from '../errors.ts';
import { type OutputFormat, parseOutput } from '../flags.ts';
import { ago } from '../humanize.ts';
import { getNamed } from '../namedList.ts';
import {
  imageStreamImageObject,
  imageStreamObject,
  imageStreamTagObject,
  listObject,
} from '../objects.ts';
import {
  fetchStreamImage,
  fetchStreamTag,
  listNamespaces,
  listStreamImageRefs,
  listStreams,
  type NamespaceView,
  requireStream,
  type StreamView,
} from '../queries.ts';
import { RECEIVERS, receiverArgs } from '../receivers.ts';
import { istagName, KIND_NAMES, parseResourceArgs, type ResourceType } from '../resources.ts';
import { RETENTION_POLICIES, retentionArgs } from '../retention.ts';
import { table } from '../tabwriter.ts';
import { printRobotTokens, tokenArgs } from '../tokens.ts';
import { WEBHOOK_TYPES, WEBHOOKS } from '../webhooks.ts';

/** How many tags `get is` names before "+ N more...", as oc does. */
const TAGS_SHOWN = 3;

interface Item {
  name: string;
  row: string[];
  object: () => Promise<Record<string, unknown>>;
}

const HEADERS: Record<ResourceType, string[]> = {
  is: ['NAME', 'IMAGE REPOSITORY', 'TAGS', 'UPDATED'],
  istag: ['NAME', 'IMAGE REFERENCE', 'UPDATED'],
  isimage: ['NAME', 'IMAGE REFERENCE', 'CREATED'],
};

function streamItem(stream: StreamView, now: number): Item {
  // Tags whose newest item is newest come first.
  const withHistory = stream.tags
    .filter((t) => t.history.length > 0)
    .sort((a, b) => Date.parse(b.history[0]!.created) - Date.parse(a.history[0]!.created));
  const names = withHistory.slice(0, TAGS_SHOWN).map((t) => t.name);
  const more = withHistory.length - names.length;
  const updated = withHistory[0] ? ago(withHistory[0].history[0]!.created, now) : '';
  return {
    name: stream.name,
    row: [
      stream.name,
      stream.pullSpec,
      `${names.join(',')}${more > 0 ? ` + ${more} more...` : ''}`,
      updated,
    ],
    object: async () => imageStreamObject(stream),
  };
}

async function streamItems(ctx: Context, names: string[], now: number): Promise<Item[]> {
  const streams =
    names.length === 0
      ? await listStreams(ctx.client, ctx.namespace)
      : await Promise.all(names.map((n) => requireStream(ctx.client, ctx.namespace, n)));
  return streams.map((s) => streamItem(s, now));
}

async function tagItems(ctx: Context, names: string[], now: number): Promise<Item[]> {
  const refs =
    names.length > 0
      ? names.map(istagName)
      : (await listStreams(ctx.client, ctx.namespace)).flatMap((s) =>
          s.tags.filter((t) => t.history.length > 0).map((t) => `${s.name}:${t.name}`),
        );
  const items: Item[] = [];
  for (const ref of refs) {
    const tag = await fetchStreamTag(ctx.client, ctx.namespace, ref);
    if (!tag) throw notFound('istag', ref);
    const head = tag.history[0];
    items.push({
      name: ref,
      row: [ref, head?.dockerImageReference ?? '<none>', head ? ago(head.created, now) : '<none>'],
      object: async () => imageStreamTagObject(tag),
    });
  }
  return items;
}

async function imageItems(ctx: Context, names: string[], now: number): Promise<Item[]> {
  const refs = names.length > 0 ? names : await listStreamImageRefs(ctx.client, ctx.namespace);
  const items: Item[] = [];
  for (const ref of refs) {
    const image = await fetchStreamImage(ctx.client, ctx.namespace, ref);
    if (!image) throw notFound('isimage', ref);
    items.push({
      name: image.name,
      row: [
        image.name,
        image.dockerImageReference,
        image.image?.created ? ago(image.image.created, now) : '<unknown>',
      ],
      object: async () => imageStreamImageObject(image, ref),
    });
  }
  return items;
}

async function print(
  io: Io,
  ctx: Context,
  type: ResourceType,
  items: Item[],
  single: boolean,
  format: OutputFormat,
): Promise<void> {
  if (format.kind === 'name') {
    for (const item of items) io.out(`${KIND_NAMES[type]}/${item.name}\n`);
    return;
  }
  if (format.kind !== 'table') {
    const objects = await Promise.all(items.map((i) => i.object()));
    await printStructured(io, format, single ? objects[0] : listObject(objects));
    return;
  }
  if (items.length === 0) {
    io.err(`No resources found in ${ctx.namespace} namespace.\n`);
    return;
  }
  io.out(
    table(
      HEADERS[type],
      items.map((i) => i.row),
    ),
  );
}

/** The names `get` takes for namespaces; they are not image-stream resources. */
const NAMESPACE_TYPES = new Set(['ns', 'namespace', 'namespaces', 'project', 'projects']);

function namespaceObject(ns: NamespaceView): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns.name },
    counts: {
      imageStreams: ns.imageStreamCount,
      tags: ns.tagCount,
      failingImports: ns.failingImportCount,
    },
  };
}

/** `get namespaces [name...]`: the readable namespaces, or the ones named. */
async function printNamespaces(
  io: Io,
  ctx: Context,
  names: string[],
  format: OutputFormat,
): Promise<void> {
  const all = await listNamespaces(ctx.client);
  const chosen =
    names.length === 0
      ? all
      : names.map((name) => {
          const found = all.find((ns) => ns.name === name);
          if (!found) throw new ServerError('NotFound', `namespaces "${name}" not found`);
          return found;
        });
  if (format.kind === 'name') {
    for (const ns of chosen) io.out(`namespace/${ns.name}\n`);
    return;
  }
  if (format.kind !== 'table') {
    const objects = chosen.map(namespaceObject);
    await printStructured(io, format, names.length === 1 ? objects[0] : listObject(objects));
    return;
  }
  if (chosen.length === 0) {
    io.err('No namespaces found.\n');
    return;
  }
  io.out(
    table(
      ['NAME', 'STREAMS', 'TAGS', 'FAILING IMPORTS'],
      chosen.map((ns) => [
        ns.name,
        String(ns.imageStreamCount),
        String(ns.tagCount),
        String(ns.failingImportCount),
      ]),
    ),
  );
}

export function registerGet(program: Command, io: Io): void {
  program
    .command('get')
    .summary('list streams, tags or images (oc get)')
    .description(
      'List is, istag or isimage in the namespace, or the ones named; namespaces lists the\n' +
        'namespaces you may read with their stream, tag and failing-import counts; webhooks the\n' +
        "namespace's webhooks. -o json|yaml prints the\n" +
        'OpenShift objects (ImageStream YAML that tagraph apply reads back), -o name their names,\n' +
        '-o jsonpath=TEMPLATE fields picked out as kubectl does.',
    )
    .argument(
      '<resource...>',
      'is [name...], istag [stream:tag...], isimage [stream@id...], namespaces [name...],\n' +
        "webhooks [name...], receivers [name...], tokens [name...] (the namespace's robot tokens)\n" +
        'or retentionpolicies [name...]',
    )
    .option('-o, --output <format>', 'json, yaml, name or jsonpath=TEMPLATE')
    .action(async (args: string[], options: { output?: string }, self: Command) => {
      const format = parseOutput(options.output, ['json', 'yaml', 'name', 'jsonpath']);
      if (args[0] && NAMESPACE_TYPES.has(args[0].toLowerCase())) {
        await printNamespaces(io, contextOf(self, io), args.slice(1), format);
        return;
      }
      if (args[0] && WEBHOOK_TYPES.has(args[0].toLowerCase())) {
        await getNamed(io, contextOf(self, io), args.slice(1), format, WEBHOOKS);
        return;
      }
      const policyNames = retentionArgs(args);
      if (policyNames) {
        await getNamed(io, contextOf(self, io), policyNames, format, RETENTION_POLICIES);
        return;
      }
      const tokenNames = tokenArgs(args);
      if (tokenNames) {
        await printRobotTokens(io, contextOf(self, io), tokenNames, format);
        return;
      }
      const receiverNames = receiverArgs(args);
      if (receiverNames) {
        await getNamed(io, contextOf(self, io), receiverNames, format, RECEIVERS);
        return;
      }
      const { type, names } = parseResourceArgs(args);
      const ctx = contextOf(self, io);
      const now = Date.now();
      const items =
        type === 'is'
          ? await streamItems(ctx, names, now)
          : type === 'istag'
            ? await tagItems(ctx, names, now)
            : await imageItems(ctx, names, now);
      await print(io, ctx, type, items, names.length === 1, format);
    });
}
