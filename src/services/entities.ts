// Federation entity lookups: representations parsed into keys, then each type's keys read and
// authorized in one batch (one statement per type, whatever the number of keys).
import { and, eq, inArray, or, type SQL } from 'drizzle-orm';
import { forbidden } from '../auth/authorize.ts';
import { visibleImages } from '../auth/images.ts';
import { decodeNodeKey } from '../auth/nodes.ts';
import { type AccessChecker, readableNamespaces } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';
import { validateNamespace, validateStreamName, validateTagName } from '../domain/names.ts';
import { type ExpectedError, fail, ok, type Result, ValidationError } from '../errors.ts';

/** Most representations one `_entities` call takes: each is parsed, authorized and loaded. */
export const MAX_REPRESENTATIONS = 100;

const FIELD = 'representations';

type StreamName = { namespace: string; name: string };
type TagName = { namespace: string; stream: string; tag: string };
export type StreamKey = { id: number } | StreamName;
export type TagKey = { id: number } | TagName;

type StreamRow = typeof imageStreams.$inferSelect;
type TagRow = typeof tags.$inferSelect;

/** A key's fields: an `id` (the type's global id) or its natural key, never both half-given. */
type Representation = Record<string, unknown>;

function invalid(message: string): ValidationError {
  return new ValidationError([{ field: FIELD, message }]);
}

function text(value: unknown): value is string {
  return typeof value === 'string';
}

function globalIdOf(typename: string, id: string): Result<{ id: number }> {
  try {
    const key = decodeNodeKey(id);
    if (key.typename === typename) return ok({ id: Number(key.id) });
  } catch {}
  return fail(invalid(`"${id.slice(0, 80)}" is not the id of an ${typename}`));
}

function checked<T>(problems: ({ message: string }[] | null)[], key: T): Result<T> {
  const found = problems.flatMap((p) => p ?? []);
  return found.length > 0 ? fail(invalid(found.map((p) => p.message).join('; '))) : ok(key);
}

/** `{ id }` or `{ namespace name }` of an ImageStream. */
export function parseStreamKey(ref: Representation): Result<StreamKey> {
  if (text(ref.id)) return globalIdOf('ImageStream', ref.id);
  const { namespace, name } = ref;
  if (!text(namespace) || !text(name))
    return fail(invalid('an ImageStream key is id, or namespace and name'));
  return checked(
    [validateNamespace(namespace, FIELD), validateStreamName(namespace, name, FIELD)],
    { namespace, name },
  );
}

/** `{ id }` or `{ stream { namespace name } name }` of an ImageStreamTag. */
export function parseTagKey(ref: Representation): Result<TagKey> {
  if (text(ref.id)) return globalIdOf('ImageStreamTag', ref.id);
  const stream = ref.stream as Representation | null | undefined;
  const { name } = ref;
  if (
    !stream ||
    typeof stream !== 'object' ||
    !text(stream.namespace) ||
    !text(stream.name) ||
    !text(name)
  ) {
    return fail(invalid('an ImageStreamTag key is id, or stream { namespace name } and name'));
  }
  const namespace = stream.namespace;
  return checked(
    [
      validateNamespace(namespace, FIELD),
      validateStreamName(namespace, stream.name, FIELD),
      validateTagName(name, FIELD),
    ],
    { namespace, stream: stream.name, tag: name },
  );
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,128}$/;

/** `{ id }` or `{ digest }` of an Image: its digest. */
export function parseImageKey(ref: Representation): Result<string> {
  if (text(ref.id)) {
    try {
      const key = decodeNodeKey(ref.id);
      if (key.typename === 'Image') return ok(key.id);
    } catch {}
    return fail(invalid(`"${ref.id.slice(0, 80)}" is not the id of an Image`));
  }
  if (text(ref.digest) && DIGEST.test(ref.digest)) return ok(ref.digest);
  return fail(invalid('an Image key is id, or digest (`sha256:<hex>`)'));
}

/** Reads namespaces the caller may read: a predicate, null-safe for cluster-wide callers. */
async function readablePredicate(access: AccessChecker): Promise<(namespace: string) => boolean> {
  const namespaces = await readableNamespaces(access.db, access.caller);
  if (namespaces === null) return () => true;
  const set = new Set(namespaces);
  return (namespace) => set.has(namespace);
}

type Answer<T> = Result<T | null, ExpectedError>;

/** How findKeyed reads one type: its one statement, and how keys and rows name an object. */
interface KeyedLookup<N, R, T> {
  byIds: (ids: number[]) => SQL;
  /** The condition for one natural key. */
  byName: (key: N) => SQL;
  read: (db: Db, where: SQL | undefined) => Promise<R[]>;
  /** The same string for a natural key and for the row it names. */
  keyName: (key: N) => string;
  rowName: (row: R) => string;
  rowId: (row: R) => number;
  rowNamespace: (row: R) => string;
  /** The answer for a readable row (remembering where it is for later checks). */
  answer: (access: AccessChecker, row: R) => T;
}

/**
 * The objects behind the keys, in order, read in one statement: the answer, null when none
 * exists, or a ForbiddenError for a namespace the caller may not read (a natural key is refused
 * before anything is read).
 */
async function findKeyed<N extends { namespace: string }, R, T>(
  access: AccessChecker,
  keys: readonly ({ id: number } | N)[],
  lookup: KeyedLookup<N, R, T>,
): Promise<Answer<T>[]> {
  const mayRead = await readablePredicate(access);
  const refused = (key: { id: number } | N) => 'namespace' in key && !mayRead(key.namespace);
  const conditions: SQL[] = [];
  const ids = keys.flatMap((k) => ('id' in k ? [k.id] : []));
  if (ids.length > 0) conditions.push(lookup.byIds(ids));
  for (const key of keys) {
    if ('namespace' in key && !refused(key)) conditions.push(lookup.byName(key));
  }
  const rows = conditions.length > 0 ? await lookup.read(access.db, or(...conditions)) : [];
  const byId = new Map(rows.map((r) => [lookup.rowId(r), r]));
  const byName = new Map(rows.map((r) => [lookup.rowName(r), r]));
  return keys.map((key) => {
    if (refused(key))
      return fail(
        forbidden(access, 'image-puller', (key as { namespace: string }).namespace, FIELD),
      );
    const row = 'id' in key ? byId.get(key.id) : byName.get(lookup.keyName(key));
    if (!row) return ok(null);
    const namespace = lookup.rowNamespace(row);
    if (!mayRead(namespace)) return fail(forbidden(access, 'image-puller', namespace, FIELD));
    return ok(lookup.answer(access, row));
  });
}

/** Streams by id or by namespace and name. */
const STREAMS: KeyedLookup<StreamName, StreamRow, StreamRow> = {
  byIds: (ids) => inArray(imageStreams.id, ids),
  byName: (key) => and(eq(imageStreams.namespace, key.namespace), eq(imageStreams.name, key.name))!,
  read: (db, where) => db.select().from(imageStreams).where(where),
  keyName: (key) => `${key.namespace}/${key.name}`,
  rowName: (row) => `${row.namespace}/${row.name}`,
  rowId: (row) => row.id,
  rowNamespace: (row) => row.namespace,
  answer: (access, row) => {
    access.places.rememberStream(row.id, row.namespace);
    return row;
  },
};

/** The streams behind the keys, in order, answered as findKeyed answers. */
export const findStreams = (access: AccessChecker, keys: readonly StreamKey[]) =>
  findKeyed(access, keys, STREAMS);

/** Tags by id or by namespace, stream and name, each read with its stream's names. */
const TAGS: KeyedLookup<TagName, { tag: TagRow; namespace: string; stream: string }, TagRow> = {
  byIds: (ids) => inArray(tags.id, ids),
  byName: (key) =>
    and(
      eq(imageStreams.namespace, key.namespace),
      eq(imageStreams.name, key.stream),
      eq(tags.name, key.tag),
    )!,
  read: (db, where) =>
    db
      .select({ tag: tags, namespace: imageStreams.namespace, stream: imageStreams.name })
      .from(tags)
      .innerJoin(imageStreams, eq(tags.streamId, imageStreams.id))
      .where(where),
  keyName: (key) => `${key.namespace}/${key.stream}:${key.tag}`,
  rowName: (row) => `${row.namespace}/${row.stream}:${row.tag.name}`,
  rowId: (row) => row.tag.id,
  rowNamespace: (row) => row.namespace,
  answer: (access, row) => {
    access.places.rememberStream(row.tag.streamId, row.namespace);
    access.places.rememberTag(row.tag.id, row.namespace);
    return row.tag;
  },
};

/** The tags behind the keys, in order, answered as findKeyed answers. */
export const findTags = (access: AccessChecker, keys: readonly TagKey[]) =>
  findKeyed(access, keys, TAGS);

/**
 * Which of the digests name an image the caller may see, in order (null: none it may see, or
 * none stored), as the `image` query answers: a tag of a readable namespace must name it.
 */
export async function findImages(
  access: AccessChecker,
  digests: readonly string[],
): Promise<(string | null)[]> {
  const visible = await visibleImages(access, digests);
  return digests.map((digest) => (visible.has(digest) ? digest : null));
}
