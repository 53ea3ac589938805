// Relations between the tables, for drizzle's relational queries and the Pothos drizzle plugin.
import { defineRelations } from 'drizzle-orm';
import * as schema from './schema.ts';

export const relations = defineRelations(schema, (r) => ({
  namespaces: {
    imageStreams: r.many.imageStreams(),
    pullSecrets: r.many.pullSecrets(),
    /** Every tag of every stream of the namespace (Namespace.tags). */
    tags: r.many.tags({ from: r.namespaces.name, to: r.tags.namespace }),
  },
  imageStreams: {
    namespaceRow: r.one.namespaces({
      from: r.imageStreams.namespace,
      to: r.namespaces.name,
      optional: false,
    }),
    tags: r.many.tags(),
    images: r.many.streamImages(),
  },
  streamImages: {
    stream: r.one.imageStreams({
      from: r.streamImages.streamId,
      to: r.imageStreams.id,
      optional: false,
    }),
    image: r.one.images({
      from: r.streamImages.digest,
      to: r.images.digest,
      optional: false,
    }),
  },
  tags: {
    stream: r.one.imageStreams({ from: r.tags.streamId, to: r.imageStreams.id, optional: false }),
    history: r.many.tagHistory({ alias: 'history' }),
    conditions: r.many.tagConditions(),
    /** History items copied from this tag (lineage; docs/model.md). */
    copies: r.many.tagHistory({ alias: 'copiedFrom' }),
    /** The tag of the same stream this one tracks (`oc tag --alias`), while it exists. */
    trackedTag: r.one.tags({
      from: [r.tags.streamId, r.tags.tracksTag],
      to: [r.tags.streamId, r.tags.name],
      alias: 'tracking',
    }),
    /** The tags of the same stream that track this one. */
    trackingTags: r.many.tags({ alias: 'tracking' }),
  },
  tagHistory: {
    tag: r.one.tags({
      from: r.tagHistory.tagId,
      to: r.tags.id,
      optional: false,
      alias: 'history',
    }),
    image: r.one.images({ from: r.tagHistory.imageDigest, to: r.images.digest }),
    /** The tag the item was copied from, while it exists. */
    sourceTag: r.one.tags({
      from: r.tagHistory.copiedFromTagId,
      to: r.tags.id,
      alias: 'copiedFrom',
    }),
  },
  tagConditions: {
    tag: r.one.tags({ from: r.tagConditions.tagId, to: r.tags.id, optional: false }),
  },
  images: {
    layers: r.many.imageLayers(),
    manifests: r.many.imageManifests(),
    history: r.many.tagHistory(),
  },
  imageLayers: {
    image: r.one.images({
      from: r.imageLayers.imageDigest,
      to: r.images.digest,
      optional: false,
    }),
  },
  imageManifests: {
    parent: r.one.images({
      from: r.imageManifests.parentDigest,
      to: r.images.digest,
      optional: false,
    }),
  },
  pullSecrets: {
    namespaceRow: r.one.namespaces({
      from: r.pullSecrets.namespace,
      to: r.namespaces.name,
      optional: false,
    }),
  },
}));
