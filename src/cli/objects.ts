// The OpenShift objects `get -o json|yaml` prints (ImageStream, ImageStreamTag, ImageStreamImage):
// image.openshift.io/v1 field names, keys in alphabetical order as kubectl prints them.
import { createHash } from 'node:crypto';
import { POLICY_ANNOTATION, policyAnnotationValue } from './policyFlags.ts';
import type {
  HistoryItem,
  ImageView,
  KeyValue,
  StreamImageView,
  StreamTagView,
  StreamView,
  TagView,
} from './queries.ts';

export const API_VERSION = 'image.openshift.io/v1';

/** A time as Kubernetes writes it: RFC 3339 in UTC, whole seconds (`2026-12-03T07:04:20Z`). */
export function rfc3339(time: string): string;
export function rfc3339(time: string | null | undefined): string | undefined;
export function rfc3339(time: string | null | undefined): string | undefined {
  if (!time) return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * `metadata.uid`: a UUID derived from the object's global id (SHA-1, laid out as a version 5
 * UUID), so the same stream always shows the same uid and two streams never share one.
 */
export function uidOf(globalId: string): string {
  const hex = createHash('sha1').update(`tagraph:${globalId}`).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

type Json = Record<string, unknown>;

function record(entries: KeyValue[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [e.key, e.value]));
}

/** Drops undefined values, so optional fields are left out rather than printed as null. */
function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

function nonEmpty(entries: KeyValue[]): Record<string, string> | undefined {
  return entries.length > 0 ? record(entries) : undefined;
}

/**
 * A spec tag (TagReference), as `spec.tags[]` holds it. A policy tag's policy rides in the
 * `tagraph.io/policy` annotation (JSON), which `apply -f` reads back and oc keeps as an annotation.
 */
export function tagReference(tag: TagView): Json | null {
  const spec = tag.spec;
  if (!spec) return null;
  const annotations = tag.policy
    ? [...spec.annotations, { key: POLICY_ANNOTATION, value: policyAnnotationValue(tag.policy) }]
    : spec.annotations;
  return compact({
    annotations: nonEmpty(annotations),
    from: spec.from
      ? compact({
          kind: spec.from.kind,
          name: spec.from.name,
          namespace: spec.from.namespace ?? undefined,
        })
      : undefined,
    generation: spec.generation,
    importPolicy: compact({
      importMode: spec.importPolicy.importMode,
      insecure: spec.importPolicy.insecure || undefined,
      scheduled: spec.importPolicy.scheduled || undefined,
    }),
    name: tag.name,
    reference: spec.reference || undefined,
    referencePolicy: { type: spec.referencePolicy.type },
  });
}

function tagEvent(item: HistoryItem): Json {
  return compact({
    created: rfc3339(item.created),
    dockerImageReference: item.dockerImageReference,
    generation: item.generation,
    image: item.image?.digest,
  });
}

function conditions(tag: TagView): Json[] | undefined {
  if (tag.conditions.length === 0) return undefined;
  return tag.conditions.map((c) => ({
    generation: c.generation,
    lastTransitionTime: rfc3339(c.lastTransitionTime),
    message: c.message,
    reason: c.reason,
    status: c.status,
    type: c.type,
  }));
}

export function imageStreamObject(stream: StreamView): Json {
  const specTags = stream.tags.flatMap((t) => tagReference(t) ?? []);
  const statusTags = stream.tags
    .filter((t) => t.history.length > 0 || t.conditions.length > 0)
    .map((t) =>
      compact({ conditions: conditions(t), items: t.history.map(tagEvent), tag: t.name }),
    );
  return {
    apiVersion: API_VERSION,
    kind: 'ImageStream',
    metadata: compact({
      annotations: nonEmpty(stream.annotations),
      creationTimestamp: rfc3339(stream.createdAt),
      generation: stream.generation,
      labels: nonEmpty(stream.labels),
      name: stream.name,
      namespace: stream.namespace,
      resourceVersion: stream.resourceVersion,
      uid: uidOf(stream.id),
    }),
    spec: compact({
      dockerImageRepository: stream.dockerImageRepository ?? undefined,
      lookupPolicy: { local: stream.lookupPolicy.local },
      tags: specTags.length > 0 ? specTags : undefined,
    }),
    status: compact({
      dockerImageRepository: stream.pullSpec,
      tags: statusTags.length > 0 ? statusTags : undefined,
    }),
  };
}

function portMap(list: string[] | null): Record<string, object> | undefined {
  return list && list.length > 0 ? Object.fromEntries(list.map((p) => [p, {}])) : undefined;
}

/** An Image as OpenShift embeds it in ImageStreamTag and ImageStreamImage. */
export function imageObject(image: ImageView, dockerImageReference?: string): Json {
  const config = image.config;
  return compact({
    dockerImageLayers: image.layers.map((l) => ({
      mediaType: l.mediaType,
      name: l.digest,
      size: l.size,
    })),
    dockerImageManifestMediaType: image.mediaType,
    dockerImageManifests:
      image.manifests.length > 0
        ? image.manifests.map((m) =>
            compact({
              architecture: m.architecture ?? '',
              digest: m.digest,
              manifestSize: m.size,
              mediaType: m.mediaType,
              os: m.os ?? '',
              variant: m.variant ?? undefined,
            }),
          )
        : undefined,
    dockerImageMetadata: compact({
      Architecture: image.architecture ?? undefined,
      Author: image.author ?? undefined,
      Config: config
        ? compact({
            Cmd: config.cmd ?? undefined,
            Entrypoint: config.entrypoint ?? undefined,
            Env: config.env ?? undefined,
            ExposedPorts: portMap(config.exposedPorts),
            Labels: nonEmpty(config.labels),
            User: config.user ?? undefined,
            Volumes: portMap(config.volumes),
            WorkingDir: config.workingDir ?? undefined,
          })
        : undefined,
      Created: rfc3339(image.created),
      Size: image.size,
      apiVersion: '1.0',
      kind: 'DockerImage',
    }),
    dockerImageMetadataVersion: '1.0',
    dockerImageReference: dockerImageReference ?? image.dockerImageReference ?? undefined,
    metadata: { name: image.digest },
  });
}

export function imageStreamTagObject(tag: StreamTagView): Json {
  const head = tag.history[0];
  return compact({
    apiVersion: API_VERSION,
    kind: 'ImageStreamTag',
    conditions: conditions(tag),
    generation: tag.spec?.generation ?? head?.generation,
    image: tag.image ? imageObject(tag.image, head?.dockerImageReference) : undefined,
    lookupPolicy: { local: tag.stream.lookupPolicy.local },
    metadata: compact({
      creationTimestamp: rfc3339(head?.created),
      name: `${tag.stream.name}:${tag.name}`,
      namespace: tag.stream.namespace,
    }),
    tag: tagReference(tag) ?? undefined,
  });
}

export function imageStreamImageObject(view: StreamImageView, requestedName: string): Json {
  return compact({
    apiVersion: API_VERSION,
    kind: 'ImageStreamImage',
    image: view.image
      ? imageObject(view.image, view.dockerImageReference)
      : { dockerImageReference: view.dockerImageReference, metadata: { name: view.digest } },
    metadata: { name: requestedName, namespace: view.namespace },
  });
}

/** A list of objects, as `kubectl get -o yaml` prints several. */
export function listObject(items: Json[]): Json {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}
