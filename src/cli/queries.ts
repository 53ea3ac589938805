// Reading streams, tags and images with every page: the views the get and describe commands print.
import type { GraphQLClient } from './client.ts';
import { CliError } from './errors.ts';

export interface KeyValue {
  key: string;
  value: string;
}

export interface HistoryItem {
  created: string;
  dockerImageReference: string;
  generation: number;
  image: { digest: string } | null;
}

export interface TagView {
  name: string;
  importPending: boolean;
  dangling: boolean;
  spec: {
    generation: number;
    reference: boolean;
    annotations: KeyValue[];
    from: { kind: string; name: string; namespace: string | null } | null;
    importPolicy: { importMode: string; insecure: boolean; scheduled: boolean };
    referencePolicy: { type: string };
  } | null;
  conditions: {
    type: string;
    status: string;
    reason: string;
    message: string;
    generation: number;
    lastTransitionTime: string;
  }[];
  history: HistoryItem[];
}

export interface StreamView {
  name: string;
  namespace: string;
  createdAt: string;
  updatedAt: string;
  generation: number;
  resourceVersion: string;
  pullSpec: string;
  dockerImageRepository: string | null;
  uniqueImageCount: number;
  labels: KeyValue[];
  annotations: KeyValue[];
  lookupPolicy: { local: boolean };
  tags: TagView[];
}

export interface ImageView {
  digest: string;
  mediaType: string;
  dockerImageReference: string | null;
  architecture: string | null;
  os: string | null;
  variant: string | null;
  created: string | null;
  author: string | null;
  size: number;
  config: {
    cmd: string[] | null;
    entrypoint: string[] | null;
    env: string[] | null;
    labels: KeyValue[];
    exposedPorts: string[] | null;
    user: string | null;
    workingDir: string | null;
    volumes: string[] | null;
  } | null;
  layers: { digest: string; size: number; mediaType: string }[];
  manifests: {
    digest: string;
    mediaType: string;
    size: number;
    os: string | null;
    architecture: string | null;
    variant: string | null;
  }[];
}

/** One tag with its image, as `describe istag` and `get istag` show it. */
export interface StreamTagView extends TagView {
  image: ImageView | null;
  stream: { name: string; namespace: string; pullSpec: string; lookupPolicy: { local: boolean } };
}

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}

// Page sizes keep every request inside the server's query cost limit (src/limits.ts), which
// multiplies a connection's subtree by its `first`: a page of 40 tags with 50 history items each
// is priced near the number of fields it may return.
// test/unit/cli-queries.test.ts keeps every document under 80 % of the limit.
export const TAG_PAGE = 40;
export const HISTORY_PAGE = 50;
/** Tags whose history one request reads, each under its own alias. */
export const HISTORIES_PER_REQUEST = 5;
const STREAM_NAMES_PAGE = 100;

export const IMAGE_FIELDS = `digest mediaType dockerImageReference architecture os variant created
  author size
  config { cmd entrypoint env labels { key value } exposedPorts user workingDir volumes }
  layers { digest size mediaType }
  manifests { digest mediaType size os architecture variant }`;

const TAG_FIELDS = `name importPending dangling
  spec {
    generation reference annotations { key value } from { kind name namespace }
    importPolicy { importMode insecure scheduled } referencePolicy { type }
  }
  conditions { type status reason message generation lastTransitionTime }`;

const STREAM_FIELDS = `name namespace createdAt updatedAt generation resourceVersion pullSpec
  dockerImageRepository uniqueImageCount labels { key value } annotations { key value }
  lookupPolicy { local }`;

const HISTORY_FIELDS = `history(first: ${HISTORY_PAGE}, after: $historyAfter) {
    pageInfo { hasNextPage endCursor }
    nodes { created dockerImageReference generation image { digest } }
  }`;

type RawTag = Omit<TagView, 'history'> & { history: Page<HistoryItem> };
type RawStream = Omit<StreamView, 'tags'> & { tags: Page<RawTag> };

export const STREAM_QUERY = `query($namespace: String!, $name: String!, $after: String,
  $historyAfter: String) {
  imageStream(namespace: $namespace, name: $name) {
    ${STREAM_FIELDS}
    tags(first: ${TAG_PAGE}, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${TAG_FIELDS} ${HISTORY_FIELDS} }
    }
  }
}`;

export const STREAM_NAMES_QUERY = `query($namespace: String!, $after: String) {
  imageStreams(namespace: $namespace, first: ${STREAM_NAMES_PAGE}, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { name }
  }
}`;

/** The history pages of up to HISTORIES_PER_REQUEST tags, `h0`, `h1`, … */
export function historiesQuery(count: number): string {
  const params = Array.from({ length: count }, (_, i) => `$r${i}: String!, $a${i}: String`);
  const fields = Array.from(
    { length: count },
    (_, i) => `h${i}: imageStreamTag(namespace: $namespace, ref: $r${i}) {
    __typename
    ... on ImageStreamTag {
      history(first: ${HISTORY_PAGE}, after: $a${i}) {
        pageInfo { hasNextPage endCursor }
        nodes { created dockerImageReference generation image { digest } }
      }
    }
  }`,
  );
  return `query($namespace: String!, ${params.join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
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
      const variables: Record<string, unknown> = { namespace };
      group.forEach((item, i) => {
        variables[`r${i}`] = item.ref;
        variables[`a${i}`] = item.after;
      });
      const data = await client.request<Record<string, { history?: Page<HistoryItem> } | null>>(
        historiesQuery(group.length),
        variables,
      );
      group.forEach((item, i) => {
        const page = data[`h${i}`]?.history;
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
  let head: RawStream | null = null;
  const tags: RawTag[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { imageStream: RawStream | null } = await client.request(STREAM_QUERY, {
      namespace,
      name,
      after,
    });
    if (!data.imageStream) return head ? { ...head, tags: [] } : null;
    head ??= data.imageStream;
    tags.push(...data.imageStream.tags.nodes);
    if (!data.imageStream.tags.pageInfo.hasNextPage) break;
    after = data.imageStream.tags.pageInfo.endCursor;
  }
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
  if (!stream) throw new CliError(`image stream ${namespace}/${name} not found`);
  return stream;
}

/** The names of every stream of a namespace, sorted. */
export async function listStreamNames(client: GraphQLClient, namespace: string): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { imageStreams: Page<{ name: string }> } = await client.request(
      STREAM_NAMES_QUERY,
      { namespace, after },
    );
    names.push(...data.imageStreams.nodes.map((n) => n.name));
    if (!data.imageStreams.pageInfo.hasNextPage) return names;
    after = data.imageStreams.pageInfo.endCursor;
  }
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

export const TAG_QUERY = `query($namespace: String!, $ref: String!, $historyAfter: String) {
  imageStreamTag(namespace: $namespace, ref: $ref) {
    __typename
    ... on Error { message }
    ... on ImageStreamTag {
      ${TAG_FIELDS} ${HISTORY_FIELDS}
      image { ${IMAGE_FIELDS} }
      stream { name namespace pullSpec lookupPolicy { local } }
    }
  }
}`;

/** `<stream>:<tag>` with its image and whole history; null when the tag does not exist. */
export async function fetchStreamTag(
  client: GraphQLClient,
  namespace: string,
  ref: string,
): Promise<StreamTagView | null> {
  type Found = Omit<StreamTagView, 'history'> & { history: Page<HistoryItem> };
  const data = await client.request<{
    imageStreamTag:
      | (Found & { __typename: 'ImageStreamTag' })
      | { __typename: 'ValidationError' | 'ForbiddenError'; message: string }
      | null;
  }>(TAG_QUERY, { namespace, ref });
  const found = data.imageStreamTag;
  if (!found) return null;
  if (found.__typename !== 'ImageStreamTag')
    throw new CliError((found as { message: string }).message);
  const tag = found as Found;
  const canonical = `${tag.stream.namespace}/${tag.stream.name}:${tag.name}`;
  const { hasNextPage, endCursor } = tag.history.pageInfo;
  const more = hasNextPage
    ? await fetchHistories(client, namespace, [{ ref: canonical, after: endCursor }])
    : new Map<string, HistoryItem[]>();
  return { ...tag, history: [...tag.history.nodes, ...(more.get(canonical) ?? [])] };
}

export interface StreamImageView {
  name: string;
  namespace: string;
  digest: string;
  dockerImageReference: string;
  image: ImageView | null;
}

export const STREAM_IMAGE_QUERY = `query($namespace: String!, $ref: String!) {
  imageStreamImage(namespace: $namespace, ref: $ref) {
    __typename
    ... on Error { message }
    ... on ConflictError { candidates }
    ... on ImageStreamImage { name namespace digest dockerImageReference image { ${IMAGE_FIELDS} } }
  }
}`;

/** `<stream>@<id>` (a digest or a unique prefix of one); null when nothing matches. */
export async function fetchStreamImage(
  client: GraphQLClient,
  namespace: string,
  ref: string,
): Promise<StreamImageView | null> {
  const data = await client.request<{
    imageStreamImage:
      | (StreamImageView & { __typename: 'ImageStreamImage' })
      | { __typename: string; message: string; candidates?: string[] }
      | null;
  }>(STREAM_IMAGE_QUERY, { namespace, ref });
  const found = data.imageStreamImage;
  if (!found) return null;
  if (found.__typename !== 'ImageStreamImage') {
    const error = found as { message: string; candidates?: string[] };
    throw new CliError(
      error.message,
      error.candidates?.length ? [`candidates: ${error.candidates.join(', ')}`] : [],
    );
  }
  return found as StreamImageView;
}
