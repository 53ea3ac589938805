// The GraphQL documents the web UI sends, and the shapes of their answers it reads.
import type { TagData } from './graphModel.ts';

/** A page of a list holds at most this many items (the server's page size limit). */
export const PAGE = 100;
/** A stream's graph loads at most this many tags (10 pages); more are reported, not drawn. */
export const MAX_GRAPH_TAGS = 2000;

/** What the graph and the tag panel's header need of a tag; not `follows`/`dangling` (see graphModel). */
const TAG_FIELDS = `
  name
  importPending
  spec {
    from { kind name namespace }
    reference
    generation
    referencePolicy { type }
    importPolicy { scheduled insecure importMode }
  }
  policy { kind range regex filter lastEvaluation { __typename } }
  conditions { type status reason message lastTransitionTime generation }
  image { digest }
  pullSpec
  promotedFrom { namespace stream tag generation }
`;

export interface TagFields extends TagData {
  pullSpec: string | null;
  spec:
    | (NonNullable<TagData['spec']> & {
        generation: number;
        referencePolicy: { type: string };
        importPolicy: { scheduled: boolean; insecure: boolean; importMode: string };
      })
    | null;
  policy: {
    kind: string;
    range: string | null;
    regex: string | null;
    filter: string | null;
  } | null;
  conditions: {
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime: string;
    generation: number;
  }[];
  promotedFrom: { namespace: string; stream: string; tag: string; generation: number } | null;
}

export const ME = `query Me { me { subject clusterAdmin } }`;
export interface MeData {
  me: { subject: string; clusterAdmin: boolean };
}

export const NAMESPACES = `query Namespaces($after: String) {
  namespaces(first: ${PAGE}, after: $after) {
    nodes { name myRole imageStreamCount tagCount failingImportCount }
    pageInfo { hasNextPage endCursor }
  }
}`;
export interface NamespaceSummary {
  name: string;
  myRole: Role | null;
  imageStreamCount: number;
  tagCount: number;
  failingImportCount: number;
}
export type Role = 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN';
export interface NamespacesData {
  namespaces: {
    nodes: NamespaceSummary[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export const STREAMS = `query Streams($namespace: String!, $filter: ImageStreamFilter, $after: String, $changedAfter: DateTime) {
  namespace(name: $namespace) {
    name
    myRole
    imageStreams(first: ${PAGE}, after: $after, filter: $filter) {
      totalCount
      nodes {
        name
        pullSpec
        updatedAt
        tags(first: 0) { totalCount }
        failing: tags(first: 0, filter: { importFailing: true }) { totalCount }
        changed: tags(first: 0, filter: { updatedAfter: $changedAfter }) { totalCount }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
export interface StreamSummary {
  name: string;
  pullSpec: string;
  updatedAt: string;
  tags: { totalCount: number };
  failing: { totalCount: number };
  /** Tags updated after the query's `changedAfter` (all of them without one). */
  changed: { totalCount: number };
}

/**
 * The namespace's tags that may be re-checked on a schedule: SCHEDULED ones, and POLICY ones,
 * which are scheduled when `spec.importPolicy.scheduled` says so (docs/queries.md).
 */
export const SCHEDULED_TAGS = `query ScheduledTags($namespace: String!, $after: String) {
  namespace(name: $namespace) {
    tags(first: ${PAGE}, after: $after, filter: { kinds: [SCHEDULED, POLICY] }) {
      nodes { stream { name } spec { importPolicy { scheduled } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
export interface ScheduledTagsData {
  namespace: {
    tags: {
      nodes: { stream: { name: string }; spec: { importPolicy: { scheduled: boolean } } | null }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}
export interface StreamsData {
  namespace: {
    name: string;
    myRole: Role | null;
    imageStreams: {
      totalCount: number;
      nodes: StreamSummary[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}

export const STREAM_TAGS = `query StreamTags($namespace: String!, $name: String!, $after: String) {
  namespace(name: $namespace) { myRole }
  imageStream(namespace: $namespace, name: $name) {
    name
    pullSpec
    tags(first: ${PAGE}, after: $after) {
      totalCount
      nodes { ${TAG_FIELDS} }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
export interface StreamTagsData {
  namespace: { myRole: Role | null } | null;
  imageStream: {
    name: string;
    pullSpec: string;
    tags: {
      totalCount: number;
      nodes: TagFields[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}

export const TAG_CHANGED = `subscription TagChanged($namespace: String!, $stream: String!, $since: String) {
  tagChanged(namespace: $namespace, stream: $stream, since: $since) {
    cursor
    type
    cause
    tag
    imageStreamTag { ${TAG_FIELDS} }
  }
}`;
export interface TagChangedData {
  tagChanged: {
    cursor: string;
    type: 'ADDED' | 'UPDATED' | 'DELETED';
    cause: string;
    tag: string;
    imageStreamTag: TagFields | null;
  };
}

export const STREAM_CHANGED = `subscription StreamChanged($namespace: String!, $name: String!, $since: String) {
  imageStreamChanged(namespace: $namespace, name: $name, since: $since) { cursor type cause }
}`;
export interface StreamChangedData {
  imageStreamChanged: { cursor: string; type: 'ADDED' | 'UPDATED' | 'DELETED'; cause: string };
}

const IMAGE_FIELDS = `
  digest mediaType size os architecture variant created author metadataSource
  dockerImageReference
  layers { digest mediaType size }
  manifests { digest os architecture variant }
  config { entrypoint cmd env user workingDir exposedPorts labels { key value } }
`;

export const TAG_DETAILS = `query TagDetails($namespace: String!, $ref: String!) {
  imageStreamTag(namespace: $namespace, ref: $ref) {
    __typename
    ... on ImageStreamTag {
      name
      history(first: 50) {
        totalCount
        nodes {
          generation created dockerImageReference
          image { digest }
          copiedFrom { namespace stream tag generation }
          actor { kind subject source }
        }
      }
      image { ${IMAGE_FIELDS} }
    }
    ... on Error { message code field }
  }
}`;
export interface HistoryItem {
  generation: number;
  created: string;
  dockerImageReference: string;
  image: { digest: string } | null;
  copiedFrom: { namespace: string; stream: string; tag: string; generation: number } | null;
  /** Who made the item; null for items recorded before actors were kept. */
  actor: { kind: 'USER' | 'TOKEN' | 'SYSTEM'; subject: string; source: string } | null;
}
export interface ImageDetails {
  digest: string;
  mediaType: string;
  size: number;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  created: string | null;
  author: string | null;
  metadataSource: string;
  dockerImageReference: string | null;
  layers: { digest: string; mediaType: string; size: number }[];
  manifests: {
    digest: string;
    os: string | null;
    architecture: string | null;
    variant: string | null;
  }[];
  config: {
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[] | null;
    user: string | null;
    workingDir: string | null;
    exposedPorts: string[] | null;
    labels: { key: string; value: string }[];
  } | null;
}
export interface TypedError {
  __typename: string;
  message: string;
  code: string;
  field: string | null;
}
export interface TagDetailsData {
  imageStreamTag:
    | {
        __typename: 'ImageStreamTag';
        name: string;
        history: { totalCount: number; nodes: HistoryItem[] };
        image: ImageDetails | null;
      }
    | TypedError
    | null;
}

export const IMAGE_DIFF = `query ImageDiff($from: String!, $to: String!) {
  imageDiff(from: $from, to: $to) {
    __typename
    ... on ImageDiff {
      identical
      from { name digest }
      to { name digest }
      sizeDelta { __typename }
      layers { addedCount removedCount commonCount added { digest size } removed { digest size } }
      config {
        env { addedCount removedCount changedCount added { key value } removed { key value } changed { key before after } }
        labels { addedCount removedCount changedCount added { key value } removed { key value } changed { key before after } }
        entrypoint { before after }
        cmd { before after }
        user { before after }
        workingDir { before after }
        exposedPorts { added removed }
      }
      platforms { __typename }
    }
    ... on Error { message code field }
  }
}`;
interface KeyValues {
  addedCount: number;
  removedCount: number;
  changedCount: number;
  added: { key: string; value: string }[];
  removed: { key: string; value: string }[];
  changed: { key: string; before: string; after: string }[];
}
export interface ImageDiffResult {
  __typename: 'ImageDiff';
  identical: boolean;
  from: { name: string; digest: string };
  to: { name: string; digest: string };
  layers: {
    addedCount: number;
    removedCount: number;
    commonCount: number;
    added: { digest: string; size: number }[];
    removed: { digest: string; size: number }[];
  };
  config: {
    env: KeyValues;
    labels: KeyValues;
    entrypoint: { before: string[] | null; after: string[] | null } | null;
    cmd: { before: string[] | null; after: string[] | null } | null;
    user: { before: string | null; after: string | null } | null;
    workingDir: { before: string | null; after: string | null } | null;
    exposedPorts: { added: string[]; removed: string[] };
  };
}
export interface ImageDiffData {
  imageDiff: ImageDiffResult | TypedError;
}

const RESULT_ERRORS = `... on Error { __typename message code field }`;

export const TAG = `mutation Tag($input: TagInput!) {
  tag(input: $input) { __typename ... on TagPayload { results { message } } ${RESULT_ERRORS} }
}`;
export const IMPORT_NOW = `mutation ImportNow($input: ImportImageInput!) {
  importImage(input: $input) { __typename ... on ImportImagePayload { job { id status } } ${RESULT_ERRORS} }
}`;
export const ROLLBACK = `mutation Rollback($input: RollbackTagInput!) {
  rollbackTag(input: $input) { __typename ... on RollbackTagPayload { message } ${RESULT_ERRORS} }
}`;
export const DELETE_TAG = `mutation DeleteTag($input: DeleteTagInput!) {
  deleteTag(input: $input) { __typename ... on DeleteTagPayload { message } ${RESULT_ERRORS} }
}`;
/** Any of the four mutations' answers: a payload (with a message) or a typed error. */
export type MutationResult = { __typename: string; message?: string } | TypedError;
