// Reading streams, tags and images with every page: the views the get and describe commands print.
import type { GraphQLClient } from './client.ts';
import {
  HISTORIES_PER_REQUEST,
  HISTORY,
  type HistoryPage,
  type ImageFields,
  NAMESPACES,
  STREAM,
  STREAM_IMAGE,
  STREAM_IMAGE_DIGESTS,
  STREAM_NAMES,
  STREAM_TAG,
  type TagFields,
} from './documents.ts';
import { CliError, notFound } from './errors.ts';
import type { ResultOf } from './graphql.ts';

export type KeyValue = { key: string; value: string };

type HistoryPageView = ResultOf<typeof HistoryPage>;

export type HistoryItem = HistoryPageView['nodes'][number];

/** A tag with its whole history. */
export type TagView = ResultOf<typeof TagFields> & { history: HistoryItem[] };

type FoundStream = NonNullable<ResultOf<typeof STREAM>['imageStream']>;
type RawTag = FoundStream['tags']['nodes'][number];

/** A stream with all its tags, each with its whole history. */
export type StreamView = Omit<FoundStream, 'tags'> & { tags: TagView[] };

export type ImageView = ResultOf<typeof ImageFields>;

type FoundTag = Extract<
  NonNullable<ResultOf<typeof STREAM_TAG>['imageStreamTag']>,
  { __typename: 'ImageStreamTag' }
>;

/** One tag with its image, as `describe istag` and `get istag` show it. */
export type StreamTagView = Omit<FoundTag, '__typename' | 'history'> & { history: HistoryItem[] };

/** One page of a connection: its nodes and where the next page starts. */
export interface Page<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Every node of a connection, reading `page(after)` from the first page on; null ends it. */
export async function readAllPages<T>(
  page: (after: string | null) => Promise<Page<T> | null | undefined>,
): Promise<T[]> {
  const nodes: T[] = [];
  let after: string | null = null;
  for (;;) {
    const current = await page(after);
    if (!current) return nodes;
    nodes.push(...current.nodes);
    if (!current.pageInfo.hasNextPage) return nodes;
    after = current.pageInfo.endCursor;
  }
}

/**
 * The rest of each `<stream>:<tag>`'s history after `after` (all of it from null), newest first,
 * a few tags per request.
 */
export async function fetchHistories(
  client: GraphQLClient,
  namespace: string,
  starts: { ref: string; after: string | null }[],
): Promise<Map<string, HistoryItem[]>> {
  const histories = new Map<string, HistoryItem[]>(starts.map((s) => [s.ref, []]));
  let pending = starts;
  while (pending.length > 0) {
    const next: typeof pending = [];
    for (let start = 0; start < pending.length; start += HISTORIES_PER_REQUEST) {
      const group = pending.slice(start, start + HISTORIES_PER_REQUEST);
      const results = await client.requestCopies(HISTORY, { namespace }, group);
      group.forEach((item, i) => {
        const result = results[i];
        const page = result?.__typename === 'ImageStreamTag' ? result.history : null;
        if (!page) return;
        histories.get(item.ref)!.push(...page.nodes);
        if (page.pageInfo.hasNextPage) next.push({ ref: item.ref, after: page.pageInfo.endCursor });
      });
    }
    pending = next;
  }
  return histories;
}

/** The stream with all its tags and histories, or null when it does not exist. */
export async function fetchStream(
  client: GraphQLClient,
  namespace: string,
  name: string,
): Promise<StreamView | null> {
  let head = null as FoundStream | null;
  let deleted = false;
  const tags: RawTag[] = await readAllPages(async (after) => {
    const data = await client.request(STREAM, { namespace, name, after });
    deleted = !data.imageStream;
    head ??= data.imageStream;
    return data.imageStream?.tags;
  });
  if (!head) return null;
  // A stream deleted between two pages has no tags left.
  if (deleted) return { ...head, tags: [] };
  // Tags with more history than the first page read the rest a few at a time.
  const more = await fetchHistories(
    client,
    namespace,
    tags
      .filter((t) => t.history.pageInfo.hasNextPage)
      .map((t) => ({ ref: `${name}:${t.name}`, after: t.history.pageInfo.endCursor })),
  );
  return {
    ...head,
    tags: tags.map((t) => ({
      ...t,
      history: [...t.history.nodes, ...(more.get(`${name}:${t.name}`) ?? [])],
    })),
  };
}

export async function requireStream(
  client: GraphQLClient,
  namespace: string,
  name: string,
): Promise<StreamView> {
  const stream = await fetchStream(client, namespace, name);
  if (!stream) throw notFound('is', name);
  return stream;
}

/** The names of every stream of a namespace, sorted. */
export async function listStreamNames(client: GraphQLClient, namespace: string): Promise<string[]> {
  const streams = await readAllPages(
    async (after) => (await client.request(STREAM_NAMES, { namespace, after })).imageStreams,
  );
  return streams.map((n) => n.name);
}

/**
 * `<stream>@<digest>` for every distinct image each stream's histories name, stream by stream in
 * name order and by digest within one: pages of the stream's image list, not its whole histories.
 */
export async function listStreamImageRefs(
  client: GraphQLClient,
  namespace: string,
): Promise<string[]> {
  const refs: string[] = [];
  for (const name of await listStreamNames(client, namespace)) {
    // A stream deleted between the two reads has no images left to list.
    const images = await readAllPages(
      async (after) =>
        (await client.request(STREAM_IMAGE_DIGESTS, { namespace, name, after })).imageStream
          ?.images,
    );
    refs.push(...images.map((n) => `${name}@${n.digest}`));
  }
  return refs;
}

export type NamespaceView = ResultOf<typeof NAMESPACES>['namespaces']['nodes'][number];

/** Every namespace the caller may read, sorted by name, with its counts. */
export async function listNamespaces(client: GraphQLClient): Promise<NamespaceView[]> {
  return readAllPages(async (after) => (await client.request(NAMESPACES, { after })).namespaces);
}

/** Every stream of a namespace, sorted by name, complete. */
export async function listStreams(client: GraphQLClient, namespace: string): Promise<StreamView[]> {
  const streams: StreamView[] = [];
  for (const name of await listStreamNames(client, namespace)) {
    const stream = await fetchStream(client, namespace, name);
    if (stream) streams.push(stream);
  }
  return streams;
}

/** `<stream>:<tag>` with its image and whole history; null when the tag does not exist. */
export async function fetchStreamTag(
  client: GraphQLClient,
  namespace: string,
  ref: string,
): Promise<StreamTagView | null> {
  const data = await client.request(STREAM_TAG, { namespace, ref });
  const tag = data.imageStreamTag;
  if (!tag) return null;
  if (tag.__typename !== 'ImageStreamTag') throw new CliError(tag.message);
  const canonical = `${tag.stream.namespace}/${tag.stream.name}:${tag.name}`;
  const { hasNextPage, endCursor } = tag.history.pageInfo;
  const more = hasNextPage
    ? await fetchHistories(client, namespace, [{ ref: canonical, after: endCursor }])
    : new Map<string, HistoryItem[]>();
  return { ...tag, history: [...tag.history.nodes, ...(more.get(canonical) ?? [])] };
}

export type StreamImageView = Omit<
  Extract<
    NonNullable<ResultOf<typeof STREAM_IMAGE>['imageStreamImage']>,
    { __typename: 'ImageStreamImage' }
  >,
  '__typename'
>;

/** `<stream>@<id>` (a digest or a unique prefix of one); null when nothing matches. */
export async function fetchStreamImage(
  client: GraphQLClient,
  namespace: string,
  ref: string,
): Promise<StreamImageView | null> {
  const data = await client.request(STREAM_IMAGE, { namespace, ref });
  const found = data.imageStreamImage;
  if (!found) return null;
  if (found.__typename !== 'ImageStreamImage') {
    const candidates = 'candidates' in found ? found.candidates : [];
    throw new CliError(
      found.message,
      candidates.length ? [`candidates: ${candidates.join(', ')}`] : [],
    );
  }
  return found;
}
