// Which namespace a stored stream or tag belongs to, for type-level authorization of objects
// whose rows carry only a stream or tag id. Answers are cached for one request (or one live
// subscription, at most CACHED_PLACES of each); what is not known yet is read in one statement per
// tick (DataLoader), whatever the number of objects asking.
import DataLoader from 'dataloader';
import { eq, inArray } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.ts';
import { imageStreams, tags } from '../db/schema.ts';

/** Streams (and tags) remembered per checker: a stream never moves, so answers stay true. */
const CACHED_PLACES = 10_000;

/**
 * Bounded by `maxSize` (each entry 1), not `max`: with `max`, lru-cache allocates all its slots
 * up front, and two 10,000-slot caches per request cost milliseconds of CPU on every request.
 */
const boundedCache = () =>
  new LRUCache<number, Promise<string | null>>({
    maxSize: CACHED_PLACES,
    sizeCalculation: () => 1,
  });

export class NamespaceDirectory {
  private readonly streams: DataLoader<number, string | null>;
  private readonly tags: DataLoader<number, string | null>;

  constructor(db: Db) {
    this.streams = new DataLoader(
      async (ids) => {
        const rows = await db
          .select({ id: imageStreams.id, namespace: imageStreams.namespace })
          .from(imageStreams)
          .where(inArray(imageStreams.id, [...ids]));
        const byId = new Map(rows.map((r) => [r.id, r.namespace]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cacheMap: boundedCache() },
    );
    this.tags = new DataLoader(
      async (ids) => {
        const rows = await db
          .select({ id: tags.id, namespace: imageStreams.namespace })
          .from(tags)
          .innerJoin(imageStreams, eq(tags.streamId, imageStreams.id))
          .where(inArray(tags.id, [...ids]));
        const byId = new Map(rows.map((r) => [r.id, r.namespace]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cacheMap: boundedCache() },
    );
  }

  /** Records what a row already told: stream `id` is in `namespace`. */
  rememberStream(id: number, namespace: string): void {
    this.streams.prime(id, namespace);
  }

  rememberTag(id: number, namespace: string): void {
    this.tags.prime(id, namespace);
  }

  /** The stream's namespace; null when it no longer exists. */
  ofStream(id: number): Promise<string | null> {
    return this.streams.load(id);
  }

  /** The tag's namespace; null when it no longer exists. */
  ofTag(id: number): Promise<string | null> {
    return this.tags.load(id);
  }
}
