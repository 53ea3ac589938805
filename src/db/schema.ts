// The tables of the whole image-stream model (docs/model.md), with the constraints that protect it.
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { StoredActor } from '../domain/actors.ts';
import type { ImageConfig } from '../domain/imageConfig.ts';
import type { StoredPolicyEvaluation, TagSelectionPolicy } from '../domain/policyTags.ts';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/**
 * Milliseconds, what a JavaScript Date (and so a list cursor) holds: a cursor on a finer time
 * would fall between rows and skip them.
 */
const listedUpdatedAt = () =>
  timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();

/**
 * The first columns of an object named within a namespace: its id, the namespace (which must
 * exist, and which `onDelete` protects or empties) and its name.
 */
const namespacedObject = (onDelete: 'restrict' | 'cascade' = 'restrict') => ({
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  namespace: text('namespace')
    .notNull()
    .references(() => namespaces.name, { onDelete }),
  name: text('name').notNull(),
});
/** The id of the row (of `owner`'s table) this row belongs to and is deleted with. */
const ownerId = (name: string, owner: () => AnyPgColumn) =>
  bigint(name, { mode: 'number' }).notNull().references(owner, { onDelete: 'cascade' });
/** The digest of the image this row is part of and is deleted with. */
const ownerDigest = (name: string) =>
  text(name)
    .notNull()
    .references(() => images.digest, { onDelete: 'cascade' });
/** A name unique within its namespace: the constraint `<table>_namespace_name_unique`. */
const uniqueName = (t: { namespace: AnyPgColumn; name: AnyPgColumn }, table: string) =>
  unique(`${table}_namespace_name_unique`).on(t.namespace, t.name);

export const tagSourceKind = pgEnum('tag_source_kind', [
  'DockerImage',
  'ImageStreamTag',
  'ImageStreamImage',
]);
export const referencePolicyType = pgEnum('reference_policy_type', ['Source', 'Local']);
export const importMode = pgEnum('import_mode', ['Legacy', 'PreserveOriginal']);
export const conditionStatus = pgEnum('condition_status', ['True', 'False', 'Unknown']);
export const importJobStatus = pgEnum('import_job_status', [
  'queued',
  'running',
  'succeeded',
  'failed',
]);

/** A project: the unit of access control. Created with its first stream or pull secret. */
export const namespaces = pgTable(
  'namespaces',
  {
    name: text('name').primaryKey(),
    createdAt: createdAt(),
  },
  (t) => [check('namespaces_name_length', sql`char_length(${t.name}) between 1 and 63`)],
);

export const imageStreams = pgTable(
  'image_streams',
  {
    ...namespacedObject(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    lookupLocal: boolean('lookup_local').notNull().default(false),
    /** Optional repository to import from (`spec.dockerImageRepository`). */
    dockerImageRepository: text('docker_image_repository'),
    /** 1 at create, +1 on every spec change. */
    generation: integer('generation').notNull().default(1),
    /** Bumped on every write to the stream or anything under it; exposed as an opaque string. */
    resourceVersion: bigint('resource_version', { mode: 'number' }).notNull().default(1),
    createdAt: createdAt(),
    updatedAt: listedUpdatedAt(),
  },
  (t) => [
    uniqueName(t, 'image_streams'),
    // The orderings of a namespace's stream list (docs/queries.md).
    index('image_streams_namespace_updated_idx').on(t.namespace, t.updatedAt, t.id),
    index('image_streams_namespace_generation_idx').on(t.namespace, t.generation, t.id),
    check(
      'image_streams_full_name_length',
      sql`char_length(${t.namespace}) + 1 + char_length(${t.name}) <= 255`,
    ),
  ],
);

/**
 * One row per tag of a stream: the spec tag (TagReference) and the status tag share it, so a
 * name is unique per stream. A tag created by a push has status only: `specGeneration` is null.
 */
export const tags = pgTable(
  'tags',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    streamId: ownerId('stream_id', () => imageStreams.id),
    /**
     * The stream's namespace, copied by a trigger on insert (migration tags_namespace), so a
     * namespace's tag list reads one index in order. Whatever a writer gives is replaced.
     */
    namespace: text('namespace')
      .notNull()
      .$defaultFn(() => ''),
    name: text('name').notNull(),
    annotations: jsonb('annotations').$type<Record<string, string>>().notNull().default({}),
    fromKind: tagSourceKind('from_kind'),
    fromName: text('from_name'),
    fromNamespace: text('from_namespace'),
    reference: boolean('reference').notNull().default(false),
    referencePolicy: referencePolicyType('reference_policy').notNull().default('Source'),
    importInsecure: boolean('import_insecure').notNull().default(false),
    importScheduled: boolean('import_scheduled').notNull().default(false),
    importMode: importMode('import_mode').notNull().default('Legacy'),
    /** The stream generation at which the spec last changed; null for a status-only tag. */
    specGeneration: integer('spec_generation'),
    /** When a scheduled tag is next due for re-import. */
    nextImportAt: timestamp('next_import_at', { withTimezone: true }),
    /**
     * The manifest digest the source resolved to at the last successful import (the list's
     * digest for a manifest list), so a scheduled check can compare a HEAD against it.
     */
    importedSourceDigest: text('imported_source_digest'),
    /**
     * Imports of this tag in a row that failed because its source is gone or refused
     * (`NotFound`, `Forbidden`): a scheduled tag waits 2^n intervals (capped) before its next
     * check. Any success, or a new source, sets it back to 0.
     */
    importFailures: integer('import_failures').notNull().default(0),
    /**
     * A policy tag's policy (docs/policy-tags.md): `from_name` is then a repository, and each
     * import follows the repository tag the policy picks.
     */
    policy: jsonb('policy').$type<TagSelectionPolicy>(),
    /** The policy's last evaluation that an import recorded; bounded (ten candidates). */
    policyEvaluation: jsonb('policy_evaluation').$type<StoredPolicyEvaluation>(),
    /**
     * The tag of the same stream this one tracks, when `from` is an ImageStreamTag of its own
     * stream and namespace; derived from `from` by a trigger (migration tags_tracks), so
     * `follows`, `followers` and `dangling` are one indexed join each. Whatever a writer gives is
     * replaced.
     */
    tracksTag: text('tracks_tag'),
    createdAt: createdAt(),
    /** The last change of the spec, the history's item 0 or the import condition. */
    updatedAt: listedUpdatedAt(),
  },
  (t) => [
    unique('tags_stream_name_unique').on(t.streamId, t.name),
    check('tags_from_complete', sql`(${t.fromKind} is null) = (${t.fromName} is null)`),
    index('tags_scheduled_due_idx')
      .on(t.nextImportAt)
      .where(sql`${t.importScheduled} and ${t.nextImportAt} is not null`),
    index('tags_from_idx').on(t.streamId, t.fromKind, t.fromName),
    // The policy tags of a pushed repository (a push re-evaluates them; docs/policy-tags.md).
    index('tags_policy_source_idx').on(t.fromName).where(sql`${t.policy} is not null`),
    // The updated-time ordering of a stream's tag list (docs/queries.md).
    index('tags_stream_updated_idx').on(t.streamId, t.updatedAt, t.id),
    // The orderings of a namespace's tag list, across its streams.
    index('tags_namespace_updated_idx').on(t.namespace, t.updatedAt, t.id),
    index('tags_namespace_name_idx').on(t.namespace, t.name, t.id),
    index('tags_tracks_idx')
      .on(t.streamId, t.tracksTag, t.name)
      .where(sql`${t.tracksTag} is not null`),
  ],
);

/** Global, immutable, keyed by digest. */
/**
 * Where an image's metadata came from: `registry-verified` was read from a registry, the manifest
 * and config blob checked against their digests; `declared` was reported by a caller (an image
 * stream mapping) and never checked.
 */
export const imageMetadataSource = pgEnum('image_metadata_source', [
  'registry-verified',
  'declared',
]);
export type ImageMetadataSource = (typeof imageMetadataSource.enumValues)[number];

export const images = pgTable(
  'images',
  {
    digest: text('digest').primaryKey(),
    mediaType: text('media_type').notNull(),
    /** Where the image was first seen (`registry/repo@digest`). */
    dockerImageReference: text('docker_image_reference'),
    architecture: text('architecture'),
    os: text('os'),
    variant: text('variant'),
    created: timestamp('created', { withTimezone: true }),
    author: text('author'),
    /** Config blob + unique layers, in bytes. */
    size: bigint('size', { mode: 'number' }).notNull().default(0),
    config: jsonb('config').$type<ImageConfig>(),
    /** The manifest bytes exactly as the registry served them (digest-verified). */
    manifest: text('manifest'),
    /** Rows from before this column existed were not known to be verified: `declared`. */
    metadataSource: imageMetadataSource('metadata_source').notNull().default('declared'),
    createdAt: createdAt(),
  },
  (t) => [check('images_digest_format', sql`${t.digest} ~ '^sha256:[0-9a-f]{64}$'`)],
);

export const imageLayers = pgTable(
  'image_layers',
  {
    imageDigest: ownerDigest('image_digest'),
    /** 0 is the base layer. */
    position: integer('position').notNull(),
    digest: text('digest').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    mediaType: text('media_type').notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageDigest, t.position] })],
);

/** Children of a manifest list / OCI index. A child need not be imported (Legacy mode). */
export const imageManifests = pgTable(
  'image_manifests',
  {
    parentDigest: ownerDigest('parent_digest'),
    position: integer('position').notNull(),
    digest: text('digest').notNull(),
    mediaType: text('media_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    os: text('os'),
    architecture: text('architecture'),
    variant: text('variant'),
  },
  (t) => [
    primaryKey({ columns: [t.parentDigest, t.position] }),
    index('image_manifests_digest_idx').on(t.digest),
  ],
);

/**
 * The status history of a tag: a stack ordered by `seq` per tag; the highest seq is item 0,
 * what the tag points at now. Rows are replaced in place or pushed, never reordered.
 */
export const tagHistory = pgTable(
  'tag_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tagId: ownerId('tag_id', () => tags.id),
    seq: integer('seq').notNull(),
    /** To the millisecond, what a history list's cursor holds. */
    created: timestamp('created', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    dockerImageReference: text('docker_image_reference').notNull(),
    /** Null for a reference tag: it points at a pull spec, never at an imported image. */
    imageDigest: text('image_digest').references(() => images.digest, { onDelete: 'restrict' }),
    generation: integer('generation').notNull(),
    /**
     * Lineage (docs/model.md, "Lineage"): the tag this item was copied from by a permanent `tag`,
     * and the generation of the source's item then. No foreign key: the source may be deleted,
     * and its names stay readable here; the id tells the source apart from a later tag of the
     * same name. All five are set, or none.
     */
    copiedFromTagId: bigint('copied_from_tag_id', { mode: 'number' }),
    copiedFromNamespace: text('copied_from_namespace'),
    copiedFromStream: text('copied_from_stream'),
    copiedFromTag: text('copied_from_tag'),
    copiedFromGeneration: integer('copied_from_generation'),
    /** Who made the item (docs/model.md, "Actors"); null for items written before it was kept. */
    actor: jsonb('actor').$type<StoredActor>(),
  },
  (t) => [
    unique('tag_history_tag_seq_unique').on(t.tagId, t.seq),
    // Byte-wise, so findImage's digest-prefix range is an index condition under any collation;
    // it serves equality as well.
    index('tag_history_image_pattern_idx').on(t.imageDigest.op('text_pattern_ops')),
    // findImage by a pull spec: hashed, so a long reference never exceeds a btree row.
    index('tag_history_reference_idx').using('hash', t.dockerImageReference),
    // The orderings of a tag's history list besides its position (docs/queries.md).
    index('tag_history_tag_created_idx').on(t.tagId, t.created, t.id),
    index('tag_history_tag_generation_idx').on(t.tagId, t.generation, t.id),
    check(
      'tag_history_copied_from_complete',
      sql`num_nonnulls(${t.copiedFromTagId}, ${t.copiedFromNamespace}, ${t.copiedFromStream}, ${t.copiedFromTag}, ${t.copiedFromGeneration}) in (0, 5)`,
    ),
    // The copies of a tag (ImageStreamTag.promotedTo): one index lookup.
    index('tag_history_copied_from_idx')
      .on(t.copiedFromTagId)
      .where(sql`${t.copiedFromTagId} is not null`),
  ],
);

/**
 * The distinct images a stream's tag histories name (ImageStream.images; docs/queries.md, "A
 * stream's images"): one row per stream and digest, kept by triggers on tag_history, tags and
 * images (migration stream_images), never written by the application.
 */
export const streamImages = pgTable(
  'stream_images',
  {
    // No foreign keys: each row is derived from history items whose own keys hold, and is
    // removed with them; checking them again would double what a bulk history insert costs.
    streamId: bigint('stream_id', { mode: 'number' }).notNull(),
    digest: text('digest').notNull(),
    /** The image's own created time (its config's), to the millisecond; null when unknown. */
    created: timestamp('created', { withTimezone: true, precision: 3 }),
    /**
     * `created` in epoch milliseconds with an unknown time as the largest safe integer, so the
     * ascending order puts images without a time last.
     */
    createdAscKey: bigint('created_asc_key', { mode: 'number' }).notNull(),
    /** The same with an unknown time as the smallest: the descending order puts them last too. */
    createdDescKey: bigint('created_desc_key', { mode: 'number' }).notNull(),
    /** History items of the stream's tags that name the image; the row goes at zero. */
    historyItemCount: integer('history_item_count').notNull(),
    /** The oldest of those items' created times. */
    firstSeen: timestamp('first_seen', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.streamId, t.digest] }),
    // The orderings of a stream's image list (the primary key serves DIGEST).
    index('stream_images_created_asc_idx').on(t.streamId, t.createdAscKey, t.digest),
    index('stream_images_created_desc_idx').on(t.streamId, t.createdDescKey, t.digest),
    // An image's created time changing reaches its rows by digest. Hashed: it serves equality
    // only, so the DIGEST ordering reads the primary key, never this.
    index('stream_images_digest_idx').using('hash', t.digest),
    check('stream_images_count_positive', sql`${t.historyItemCount} > 0`),
  ],
);

/** Only type `ImportSuccess` exists today; keyed by type so more can come. */
export const tagConditions = pgTable(
  'tag_conditions',
  {
    tagId: ownerId('tag_id', () => tags.id),
    type: text('type').notNull(),
    status: conditionStatus('status').notNull(),
    reason: text('reason').notNull().default(''),
    message: text('message').notNull().default(''),
    generation: integer('generation').notNull(),
    lastTransitionTime: timestamp('last_transition_time', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tagId, t.type] })],
);

/** A namespace's registry credentials, encrypted at rest; only name and keys are readable. */
export const pullSecrets = pgTable(
  'pull_secrets',
  {
    ...namespacedObject(),
    /** The registry keys of the `auths` map, for matching and display. */
    registryKeys: text('registry_keys').array().notNull(),
    /** AES-256-GCM of the document: iv, tag and ciphertext, base64. */
    encrypted: text('encrypted').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueName(t, 'pull_secrets')],
);

/**
 * The events log: written in the same transaction as the change it describes. `id` follows
 * insert order, which is not commit order; `seq`, the position readers and cursors use, is given
 * after commit by the sequencer (events/sequencer.ts), so positions never appear out of order.
 */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Null until the sequencer numbers the committed event. */
    seq: bigint('seq', { mode: 'number' }),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    namespace: text('namespace').notNull(),
    stream: text('stream').notNull(),
    /** Null for stream-level events. */
    tag: text('tag'),
    type: text('type').notNull(),
    cause: text('cause').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    /** Who made the change (docs/model.md, "Actors"); null for events written before it was kept. */
    actor: jsonb('actor').$type<StoredActor>(),
    /** The actor's subject, for filtering by it. */
    actorSubject: text('actor_subject'),
  },
  (t) => [
    uniqueIndex('events_seq_idx').on(t.seq),
    index('events_namespace_seq_idx').on(t.namespace, t.seq),
    // tagEvents narrowed to one actor (docs/queries.md).
    index('events_actor_idx')
      .on(t.namespace, t.actorSubject, t.seq)
      .where(sql`${t.actorSubject} is not null`),
    index('events_unsequenced_idx').on(t.id).where(sql`${t.seq} is null`),
    index('events_at_idx').on(t.at),
  ],
);

/** How far the retention job has trimmed the events log: cursors at or below are expired. */
export const eventLogState = pgTable('event_log_state', {
  id: integer('id').primaryKey().default(1),
  trimmedThrough: bigint('trimmed_through', { mode: 'number' }).notNull().default(0),
});

/**
 * Scheduled checks started per minute, by all schedulers together: the row of the current minute
 * is locked while a scheduler claims due tags, so the cap holds across processes.
 */
export const scheduledImportWindows = pgTable('scheduled_import_windows', {
  windowStart: timestamp('window_start', { withTimezone: true }).primaryKey(),
  started: integer('started').notNull().default(0),
});

/** Import work, claimed with FOR UPDATE SKIP LOCKED; a lease lets another worker take over. */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    namespace: text('namespace').notNull(),
    stream: text('stream').notNull(),
    /** What to import: tags, sources, mode, all, cause. */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    status: importJobStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    // The claim's order (services/importQueue.ts): a claim reads from the front and stops.
    index('import_jobs_runnable_idx')
      .on(t.runAt, t.id)
      .where(sql`${t.status} in ('queued', 'running')`),
    index('import_jobs_namespace_idx').on(t.namespace, t.id),
  ],
);

/** Registry push notifications, persisted before they are acknowledged; deduped by event id. */
export const registryNotifications = pgTable(
  'registry_notifications',
  {
    eventId: text('event_id').primaryKey(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    registryHost: text('registry_host').notNull(),
    action: text('action').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    error: text('error'),
  },
  (t) => [
    index('registry_notifications_pending_idx')
      .on(t.receivedAt)
      .where(sql`${t.processedAt} is null`),
  ],
);

/** API bearer tokens: only a SHA-256 of each is kept; the token itself is shown once. */
export const roleName = pgEnum('role_name', ['image-puller', 'editor', 'admin']);

/**
 * API tokens. A robot token (issued by a namespace admin) carries `namespace`, `name` and
 * `role`: it holds exactly that role in that namespace and nothing anywhere else, whatever role
 * bindings name its subject.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tokenHash: text('token_hash').notNull(),
    /** The user the token acts as, e.g. `alice` or `system:serviceaccount:project-a:default`. */
    subject: text('subject').notNull(),
    groups: jsonb('groups').$type<string[]>().notNull().default([]),
    clusterAdmin: boolean('cluster_admin').notNull().default(false),
    description: text('description').notNull().default(''),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** A robot token's namespace; null for a token a cluster admin issued. */
    namespace: text('namespace'),
    /** A robot token's name, unique among the namespace's live robot tokens. */
    name: text('name'),
    /** The one role a robot token holds, in its namespace only. */
    role: roleName('role'),
    /** After this the token authenticates nothing; null: no expiry. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** The last request the token authenticated, written at most once a minute. */
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    /** The subject of whoever issued the token. */
    createdBy: text('created_by'),
  },
  (t) => [
    unique('api_tokens_hash_unique').on(t.tokenHash),
    uniqueIndex('api_tokens_robot_name_idx')
      .on(t.namespace, t.name)
      .where(sql`${t.revokedAt} is null and ${t.namespace} is not null`),
    check(
      'api_tokens_robot_complete',
      sql`(${t.namespace} is null) = (${t.name} is null) and (${t.namespace} is null) = (${t.role} is null)`,
    ),
  ],
);

export const subjectKind = pgEnum('subject_kind', ['User', 'Group']);

/** `oc policy add-role-to-user|group <role> <name> -n <namespace>`. */
export const roleBindings = pgTable(
  'role_bindings',
  {
    namespace: text('namespace').notNull(),
    role: roleName('role').notNull(),
    subjectKind: subjectKind('subject_kind').notNull(),
    subjectName: text('subject_name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.role, t.subjectKind, t.subjectName] }),
    index('role_bindings_subject_idx').on(t.subjectKind, t.subjectName),
  ],
);

/**
 * Outgoing webhooks of a namespace (docs/webhooks.md). Delivery walks the events log in order:
 * `position` is the last event this target has been sent (or skipped as not matching); one
 * process at a time holds a target (`lease_id`, `leased_until`), which fences everything it
 * writes. The signing secret is sealed like a pull secret and never readable.
 */
export const webhooks = pgTable(
  'webhooks',
  {
    ...namespacedObject(),
    url: text('url').notNull(),
    /** Empty lists match everything: `{streams, tags, types, causes}`. */
    filter: jsonb('filter')
      .$type<{ streams: string[]; tags: string[]; types: string[]; causes: string[] }>()
      .notNull(),
    format: text('format').notNull(),
    /** AES-256-GCM of the `whsec_…` secret (secrets.ts). */
    encryptedSecret: text('encrypted_secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** ACTIVE, FAILING (gave up retrying; paused until enabled again) or GONE (the target answered 410). */
    state: text('state').notNull().default('ACTIVE'),
    conditionReason: text('condition_reason').notNull().default(''),
    conditionMessage: text('condition_message').notNull().default(''),
    conditionTime: timestamp('condition_time', { withTimezone: true }),
    position: bigint('position', { mode: 'number' }).notNull().default(0),
    /** Attempts made so far at the event after `position`. */
    attempt: integer('attempt').notNull().default(0),
    /** When the first failed attempt at the event after `position` was made. */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** Bumped by redeliverWebhook: deliveries of each replay are told apart. */
    replay: integer('replay').notNull().default(0),
    leaseId: text('lease_id'),
    leasedUntil: timestamp('leased_until', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueName(t, 'webhooks'),
    index('webhooks_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.enabled} and ${t.state} = 'ACTIVE'`),
  ],
);

/** One attempt to deliver one event (or a ping) to one webhook; kept per webhook, newest first. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: ownerId('webhook_id', () => webhooks.id),
    /** Null for a ping (testWebhook). */
    eventSeq: bigint('event_seq', { mode: 'number' }),
    replay: integer('replay').notNull().default(0),
    attempt: integer('attempt').notNull(),
    /** SENDING, SUCCEEDED, FAILED. */
    outcome: text('outcome').notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    nextRetryAt: timestamp('next_retry_at', { withTimezone: true }),
    /** The lease that made the attempt. */
    leaseId: text('lease_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // Each attempt is made once: a second process claiming it cannot insert it again.
    uniqueIndex('webhook_deliveries_attempt_unique').on(
      t.webhookId,
      t.replay,
      t.eventSeq,
      t.attempt,
    ),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.id),
  ],
);

/**
 * Inbound registry webhooks of a namespace (docs/webhooks.md, "Receivers"): a call to
 * `/hooks/<token>` re-checks the namespace's scheduled and policy tags of the pushed repository.
 * Only a SHA-256 of the token is kept; a signing secret, where the kind has one, is sealed.
 */
export const receivers = pgTable(
  'receivers',
  {
    ...namespacedObject(),
    /** DOCKER_HUB, QUAY, HARBOR, GITHUB or GENERIC. */
    kind: text('kind').notNull(),
    /** The registry host the payload's repository is on, when the payload does not say. */
    registry: text('registry'),
    /** Hex SHA-256 of the URL's token. */
    tokenHash: text('token_hash').notNull(),
    /** AES-256-GCM of the secret (secrets.ts); null for kinds the vendor cannot sign. */
    encryptedSecret: text('encrypted_secret'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    lastCalledAt: timestamp('last_called_at', { withTimezone: true }),
  },
  (t) => [uniqueName(t, 'receivers'), unique('receivers_token_hash_unique').on(t.tokenHash)],
);

/** The outcome of a retention policy's last run (scheduled or manual, not a dry run). */
export interface RetentionRunResult {
  /** SUCCEEDED or FAILED. */
  outcome: string;
  /** History items removed. */
  removed: number;
  /** Tags that lost items (each got a PRUNE change event). */
  tags: number;
  /** SCHEDULE or MANUAL. */
  trigger: string;
  /** Why a failed run failed. */
  message: string;
}

/**
 * A namespace's stored history retention rules, run every `interval_minutes` by the scheduler
 * (services/retentionPolicies.ts). A run holds the row's lock from claim to commit.
 */
export const retentionPolicies = pgTable(
  'retention_policies',
  {
    ...namespacedObject('cascade'),
    keepTagRevisions: integer('keep_tag_revisions').notNull(),
    keepYoungerThanMinutes: integer('keep_younger_than_minutes').notNull(),
    streams: jsonb('streams').$type<string[]>().notNull(),
    includeTags: jsonb('include_tags').$type<string[]>().notNull(),
    excludeTags: jsonb('exclude_tags').$type<string[]>().notNull(),
    intervalMinutes: integer('interval_minutes').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
    lastRunAt: timestamp('last_run_at', { withTimezone: true }),
    lastResult: jsonb('last_result').$type<RetentionRunResult>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueName(t, 'retention_policies'),
    index('retention_policies_due_idx').on(t.nextRunAt).where(sql`${t.enabled}`),
    check('retention_policies_interval_check', sql`${t.intervalMinutes} >= 5`),
  ],
);
