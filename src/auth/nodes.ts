// `node(id)` reaches any object by its global id: the namespace it lives in decides access.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { eq } from 'drizzle-orm';
import { imageStreams, tags } from '../db/schema.ts';
import { canSeeImage } from './images.ts';
import type { AccessChecker } from './roles.ts';

export interface NodeKey {
  typename: string;
  id: string;
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
