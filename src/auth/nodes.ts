// `node(id)` reaches any object by its global id: the namespace it lives in decides access.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { eq, inArray } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { GraphQLError } from 'graphql';
import type { Db } from '../db/client.ts';
import { imageStreams, images, tags } from '../db/schema.ts';
import { canSeeImage } from './images.ts';
import type { AccessChecker } from './roles.ts';

export interface NodeKey {
  typename: string;
  id: string;
}

/** The types a global id can name, and the shape of each one's key. */
const NODE_KEYS: Record<string, RegExp> = {
  ImageStream: /^[1-9][0-9]{0,15}$/,
  ImageStreamTag: /^[1-9][0-9]{0,15}$/,
  Image: /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,128}$/,
};

/** Most ids one `nodes` call takes: each is authorized and loaded, so the count is bounded. */
export const MAX_NODE_IDS = 100;

function badId(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
}

/**
 * Decodes a global id into a key the database can be asked about, or throws a BAD_USER_INPUT
 * error: bad base64, an unknown type, or a key of the wrong shape never reaches a query.
 */
export function decodeNodeKey(globalId: string): NodeKey {
  let decoded: NodeKey;
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw badId(`"${globalId.slice(0, 80)}" is not a global id this server issued`);
  }
  const shape = NODE_KEYS[decoded.typename];
  if (!shape) throw badId(`a global id of type ${decoded.typename} names nothing here`);
  const numeric = decoded.typename !== 'Image';
  if (!shape.test(decoded.id) || (numeric && !Number.isSafeInteger(Number(decoded.id)))) {
    throw badId(`"${globalId.slice(0, 80)}" is not a valid ${decoded.typename} id`);
  }
  return decoded;
}

/** Whether the caller may read the object behind a global id (unknown ids: nothing to hide). */
export async function canReadNode(
  access: AccessChecker,
  globalId: string | NodeKey,
): Promise<boolean> {
  if (access.caller.clusterAdmin) return true;
  let decoded: NodeKey;
  try {
    decoded = typeof globalId === 'string' ? decodeGlobalID(globalId) : globalId;
  } catch {
    return true; // the node field itself reports the malformed id
  }
  const key = Number(decoded.id);
  switch (decoded.typename) {
    case 'ImageStream': {
      const [row] = await access.db
        .select({ namespace: imageStreams.namespace })
        .from(imageStreams)
        .where(eq(imageStreams.id, key));
      return !row || access.can('image-puller', row.namespace);
    }
    case 'ImageStreamTag': {
      const [row] = await access.db
        .select({ namespace: imageStreams.namespace })
        .from(tags)
        .innerJoin(imageStreams, eq(tags.streamId, imageStreams.id))
        .where(eq(tags.id, key));
      return !row || access.can('image-puller', row.namespace);
    }
    case 'Image':
      return canSeeImage(access, decoded.id);
    default:
      return true;
  }
}

/** Where each type's objects are stored: the key column, and a key's value in it. */
const NODE_TABLES: {
  typename: string;
  table: PgTable;
  column: PgColumn;
  value: (id: string) => unknown;
}[] = [
  { typename: 'ImageStream', table: imageStreams, column: imageStreams.id, value: Number },
  { typename: 'ImageStreamTag', table: tags, column: tags.id, value: Number },
  { typename: 'Image', table: images, column: images.digest, value: String },
];

/**
 * Which of the keys name a stored object, one statement per type. A missing object is answered
 * with null by `node`/`nodes`, not handed to the loader (which fails on it).
 */
export async function existingNodeKeys(db: Db, keys: readonly NodeKey[]): Promise<Set<string>> {
  const found = new Set<string>();
  const idsOf = (typename: string) => keys.filter((k) => k.typename === typename).map((k) => k.id);
  await Promise.all(
    NODE_TABLES.map(async ({ typename, table, column, value }) => {
      const ids = idsOf(typename);
      if (ids.length === 0) return;
      const rows = await db
        .select({ key: column })
        .from(table)
        .where(inArray(column, ids.map(value)));
      for (const r of rows) found.add(`${typename}:${r.key}`);
    }),
  );
  return found;
}

/** The objects behind the keys, in order, null for one that does not exist. */
export async function loadNodes(
  db: Db,
  keys: readonly NodeKey[],
  resolveNodes: (keys: NodeKey[]) => Promise<unknown[]>,
): Promise<unknown[]> {
  const existing = await existingNodeKeys(db, keys);
  const present = keys.filter((k) => existing.has(`${k.typename}:${k.id}`));
  const loaded = present.length > 0 ? await resolveNodes(present) : [];
  const byKey = new Map(present.map((k, i) => [`${k.typename}:${k.id}`, loaded[i] ?? null]));
  return keys.map((k) => byKey.get(`${k.typename}:${k.id}`) ?? null);
}
