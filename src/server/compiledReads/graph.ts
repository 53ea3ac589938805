// The tag graph's fields in the compiled statement: streams, tags, histories, images, namespaces.
import type { FieldNode } from 'graphql';
import { filterArgument, listOrdering } from './filters.ts';
import type { ListName, Out, ParamSource, Piece } from './statement.ts';
import {
  bool,
  connection,
  dateTime,
  fieldsOf,
  globalId,
  leaf,
  list,
  noArguments,
  num,
  object,
  objectOf,
  onlyArguments,
  str,
  unsupported,
} from './statement.ts';
import { trackingField } from './tracking.ts';

/** `[{"key":…,"value":…}]` of a jsonb record, sorted by key as entriesOf sorts. */
function keyValues(out: Out, field: FieldNode, column: string): void {
  noArguments(field);
  const fields = fieldsOf(out, field.selectionSet, 'KeyValue');
  const kv = out.alias('kv');
  list(
    out,
    () =>
      object(out, fields, 'KeyValue', (f) => {
        leaf(f);
        if (f.name.value === 'key') out.push(str(`${kv}.key`));
        else if (f.name.value === 'value') out.push(str(`coalesce(${kv}.value, '')`));
        else unsupported(`KeyValue.${f.name.value}`);
      }),
    () => out.push(`jsonb_each_text(${column}) ${kv}`),
    `${kv}.key collate "C"`,
  );
}

const METADATA_SOURCE: Record<string, string> = {
  'registry-verified': 'REGISTRY_VERIFIED',
  declared: 'DECLARED',
};

function imageLayer(out: Out, fields: FieldNode[], l: string): void {
  object(out, fields, 'ImageLayer', (f) => {
    leaf(f);
    const column = { digest: 'digest', mediaType: 'media_type' }[f.name.value];
    if (column) out.push(str(`${l}.${column}`));
    else if (f.name.value === 'size') out.push(num(`${l}.size`));
    else unsupported(`ImageLayer.${f.name.value}`);
  });
}

/**
 * An image's config (ImageConfig): the lists and strings as stored. They are written only from
 * a parsed config blob or the typed config input, so each list holds strings and labels map
 * strings to strings.
 */
function imageConfig(out: Out, field: FieldNode, i: string): void {
  noArguments(field);
  const c = `${i}.config`;
  out.push(`(case when ${c} is null or jsonb_typeof(${c}) = 'null' then 'null' else `);
  objectOf(out, field, 'ImageConfig', (f) => {
    const name = f.name.value;
    if (name === 'labels') {
      return keyValues(
        out,
        f,
        `(case when jsonb_typeof(${c}->'labels') = 'object' then ${c}->'labels' else '{}'::jsonb end)`,
      );
    }
    leaf(f);
    if (name === 'user' || name === 'workingDir') out.push(str(`${c}->>'${name}'`));
    else if (['cmd', 'entrypoint', 'env', 'exposedPorts', 'volumes'].includes(name)) {
      const e = out.alias('e');
      const items = `${c}->'${name}'`;
      out.push(
        `(case when jsonb_typeof(${items}) = 'array' then (select '[' || coalesce(string_agg(${str(`${e}.v`)}, ',' order by ${e}.n), '') || ']' from jsonb_array_elements_text(${items}) with ordinality ${e}(v, n)) else 'null' end)`,
      );
    } else unsupported(`ImageConfig.${name}`);
  });
  out.push(' end)');
}

/** The entries of a manifest list, by position. */
function imageManifests(out: Out, field: FieldNode, i: string): void {
  noArguments(field);
  const m = out.alias('m');
  const fields = fieldsOf(out, field.selectionSet, 'ImageManifest');
  list(
    out,
    () =>
      object(out, fields, 'ImageManifest', (f) => {
        leaf(f);
        const name = f.name.value;
        const column = {
          digest: 'digest',
          mediaType: 'media_type',
          os: 'os',
          architecture: 'architecture',
          variant: 'variant',
        }[name];
        if (column) out.push(str(`${m}.${column}`));
        else if (name === 'size') out.push(num(`${m}.size`));
        else unsupported(`ImageManifest.${name}`);
      }),
    () => out.push(`image_manifests ${m} where ${m}.parent_digest = ${i}.digest`),
    `${m}.position`,
  );
}

function image(out: Out, fields: FieldNode[], i: string): void {
  object(out, fields, 'Image', (f) => {
    const name = f.name.value;
    const text = {
      digest: 'digest',
      mediaType: 'media_type',
      dockerImageReference: 'docker_image_reference',
      architecture: 'architecture',
      os: 'os',
      variant: 'variant',
      author: 'author',
    }[name];
    if (name === 'config') return imageConfig(out, f, i);
    if (name === 'manifests') return imageManifests(out, f, i);
    if (name === 'layers') {
      noArguments(f);
      const l = out.alias('l');
      const layerFields = fieldsOf(out, f.selectionSet, 'ImageLayer');
      list(
        out,
        () => imageLayer(out, layerFields, l),
        () => out.push(`image_layers ${l} where ${l}.image_digest = ${i}.digest`),
        `${l}.position`,
      );
      return;
    }
    leaf(f);
    if (text) out.push(str(`${i}.${text}`));
    else if (name === 'id') out.push(globalId('Image', `${i}.digest`));
    else if (name === 'size') out.push(num(`${i}.size`));
    else if (name === 'created') out.push(dateTime(`${i}.created`));
    else if (name === 'metadataSource') {
      const cases = Object.entries(METADATA_SOURCE)
        .map(([value, enumName]) => `when '${value}' then '"${enumName}"'`)
        .join(' ');
      out.push(`(case ${i}.metadata_source::text ${cases} else 'null' end)`);
    } else unsupported(`Image.${name}`);
  });
}

/** An Image by a digest expression, or `null`. */
export function imageByDigest(out: Out, field: FieldNode, digest: string): void {
  noArguments(field);
  const i = out.alias('i');
  const fields = fieldsOf(out, field.selectionSet, 'Image');
  out.push('coalesce((select ');
  image(out, fields, i);
  out.push(` from images ${i} where ${i}.digest = ${digest}), 'null')`);
}

function tagEvent(out: Out, fields: FieldNode[], h: string): void {
  object(out, fields, 'TagEvent', (f) => {
    const name = f.name.value;
    if (name === 'image') return imageByDigest(out, f, `${h}.image_digest`);
    leaf(f);
    if (name === 'created') out.push(dateTime(`${h}.created`));
    else if (name === 'dockerImageReference') out.push(str(`${h}.docker_image_reference`));
    else if (name === 'generation') out.push(num(`${h}.generation`));
    else unsupported(`TagEvent.${name}`);
  });
}

/** The spec tag of a tag row (null for a status-only tag). */
function tagSpec(out: Out, field: FieldNode, t: string): void {
  noArguments(field);
  out.push(`(case when ${t}.spec_generation is null then 'null' else `);
  objectOf(out, field, 'TagSpec', (f) => {
    const name = f.name.value;
    if (name === 'annotations') return keyValues(out, f, `${t}.annotations`);
    if (name === 'from') {
      // resolve: a source only when it has a kind and a non-empty name.
      noArguments(f);
      out.push(
        `(case when ${t}.from_kind is null or coalesce(${t}.from_name, '') = '' then 'null' else `,
      );
      objectOf(out, f, 'TagSource', (k) => {
        leaf(k);
        const column = { kind: 'from_kind::text', name: 'from_name', namespace: 'from_namespace' }[
          k.name.value
        ];
        if (!column) unsupported(`TagSource.${k.name.value}`);
        out.push(str(`${t}.${column}`));
      });
      out.push(' end)');
      return;
    }
    if (name === 'referencePolicy' || name === 'importPolicy') {
      noArguments(f);
      const typename = name === 'referencePolicy' ? 'TagReferencePolicy' : 'TagImportPolicy';
      const columns: Record<string, string> =
        name === 'referencePolicy'
          ? { type: str(`${t}.reference_policy::text`) }
          : {
              insecure: bool(`${t}.import_insecure`),
              scheduled: bool(`${t}.import_scheduled`),
              importMode: str(`${t}.import_mode::text`),
            };
      objectOf(out, f, typename, (p) => {
        leaf(p);
        const value = columns[p.name.value];
        if (!value) unsupported(`${typename}.${p.name.value}`);
        out.push(value);
      });
      return;
    }
    leaf(f);
    if (name === 'generation') out.push(num(`${t}.spec_generation`));
    else if (name === 'reference') out.push(bool(`${t}.reference`));
    else unsupported(`TagSpec.${name}`);
  });
  out.push(' end)');
}

/** A tag's conditions, by type (the relation's CONDITIONS ordering). */
function conditions(out: Out, field: FieldNode, t: string): void {
  noArguments(field);
  const fields = fieldsOf(out, field.selectionSet, 'TagCondition');
  const c = out.alias('c');
  list(
    out,
    () =>
      object(out, fields, 'TagCondition', (f) => {
        leaf(f);
        const name = f.name.value;
        if (name === 'type' || name === 'reason' || name === 'message')
          out.push(str(`${c}.${name}`));
        else if (name === 'status') out.push(str(`${c}.status::text`));
        else if (name === 'generation') out.push(num(`${c}.generation`));
        else if (name === 'lastTransitionTime') out.push(dateTime(`${c}.last_transition_time`));
        else unsupported(`TagCondition.${name}`);
      }),
    () => out.push(`tag_conditions ${c} where ${c}.tag_id = ${t}.id`),
    `${c}.type`,
  );
}

/**
 * A list field: its list (filters.ts), connection and node types (the edge's is the
 * connection's with `Edge` unless given), and its rows: those of `table` whose `scope` column is
 * the parent's key.
 */
interface ListField {
  list: ListName;
  typename: string;
  edgeTypename?: string;
  nodeTypename: string;
  node: (out: Out, fields: FieldNode[], row: string) => void;
  table: string;
  scope: string;
}

const TAG_HISTORY: ListField = {
  list: 'history',
  typename: 'TagHistoryConnection',
  nodeTypename: 'TagEvent',
  node: tagEvent,
  table: 'tag_history',
  scope: 'tag_id',
};
const STREAM_TAGS: ListField = {
  list: 'tags',
  typename: 'ImageStreamTagConnection',
  nodeTypename: 'ImageStreamTag',
  node: tag,
  table: 'tags',
  scope: 'stream_id',
};
const NAMESPACE_TAGS: ListField = {
  ...STREAM_TAGS,
  list: 'namespaceTags',
  typename: 'NamespaceTagConnection',
  scope: 'namespace',
};
const STREAM_IMAGES: ListField = {
  list: 'streamImages',
  typename: 'StreamImageUseConnection',
  nodeTypename: 'StreamImageUse',
  node: streamImage,
  table: 'stream_images',
  scope: 'stream_id',
};
export const STREAMS: ListField = {
  list: 'imageStreams',
  typename: 'QueryImageStreamsConnection',
  edgeTypename: 'QueryImageStreamsConnectionEdge',
  nodeTypename: 'ImageStream',
  node: stream,
  table: 'image_streams',
  scope: 'namespace',
};
const NAMESPACE_STREAMS: ListField = {
  ...STREAMS,
  typename: 'NamespaceImageStreamsConnection',
  edgeTypename: 'NamespaceImageStreamsConnectionEdge',
};

/**
 * A list field (its filter, ordering, `first` and `after`, and `more` arguments) as a
 * connection over the rows of the parent whose key `parent` is.
 */
export function listField(
  out: Out,
  field: FieldNode,
  list: ListField,
  parent: Piece[],
  more: string[] = [],
): void {
  onlyArguments(field, ['first', 'after', 'last', 'before', 'filter', 'orderBy', ...more]);
  const ordering = listOrdering(list.list, field);
  const where = filterArgument(out, field, list.list);
  connection(
    out,
    field,
    { ...list, ordering, where },
    {
      from: (row) => out.push(`${list.table} ${row} where ${row}.${list.scope} = `, ...parent),
      node: (fields, row) => list.node(out, fields, row),
    },
  );
}

export function tag(out: Out, fields: FieldNode[], t: string): void {
  object(out, fields, 'ImageStreamTag', (f) => {
    const name = f.name.value;
    if (name === 'history') return listField(out, f, TAG_HISTORY, [`${t}.id`]);
    if (name === 'image') {
      noArguments(f);
      // Item 0's image, or null (no history yet, or item 0 is a reference).
      out.push('coalesce((select ');
      const head = out.alias('h');
      const i = out.alias('i');
      image(out, fieldsOf(out, f.selectionSet, 'Image'), i);
      out.push(
        ` from (select ${head}.image_digest from tag_history ${head} where ${head}.tag_id = ${t}.id order by ${head}.seq desc limit 1) ${head} join images ${i} on ${i}.digest = ${head}.image_digest), 'null')`,
      );
      return;
    }
    if (name === 'spec') return tagSpec(out, f, t);
    if (name === 'follows' || name === 'followers') return trackingField(out, f, t, tag);
    if (name === 'conditions') return conditions(out, f, t);
    if (name === 'stream') {
      noArguments(f);
      const s = out.alias('s');
      out.push('(select ');
      stream(out, fieldsOf(out, f.selectionSet, 'ImageStream'), s);
      out.push(` from image_streams ${s} where ${s}.id = ${t}.stream_id)`);
      return;
    }
    if (name === 'policy') {
      // Null for a tag without a policy; a tag with one sets the root field's fallback.
      noArguments(f);
      out.policySelected = true;
      out.push("'null'");
      return;
    }
    leaf(f);
    if (name === 'name') out.push(str(`${t}.name`));
    else if (name === 'importPending') {
      // isImportPending: a spec generation newer than item 0's and the ImportSuccess condition's.
      const h = out.alias('h');
      const c = out.alias('c');
      out.push(
        `(${t}.spec_generation is not null` +
          ` and coalesce(${t}.spec_generation > (select ${h}.generation from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1), true)` +
          ` and coalesce(${t}.spec_generation > (select ${c}.generation from tag_conditions ${c} where ${c}.tag_id = ${t}.id and ${c}.type = 'ImportSuccess'), true))::text`,
      );
    } else if (name === 'dangling') {
      // It tracks a tag name that no tag of its stream has.
      const x = out.alias('x');
      out.push(
        `(${t}.tracks_tag is not null and not exists (select 1 from tags ${x} where ${x}.stream_id = ${t}.stream_id and ${x}.name = ${t}.tracks_tag))::text`,
      );
    } else if (name === 'id') out.push(globalId('ImageStreamTag', `${t}.id`));
    else if (name === 'dockerImageReference') {
      const h = out.alias('h');
      out.push(
        str(
          `(select ${h}.docker_image_reference from tag_history ${h} where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1)`,
        ),
      );
    } else if (name === 'pullSpec') {
      // pullSpecFor over item 0: a Local tag's image through the stream's own pull spec.
      const h = out.alias('h');
      const s = out.alias('s');
      out.push(
        `coalesce(to_json((select case when ${t}.reference_policy = 'Local' and ${h}.image_digest is not null then `,
        { setting: 'registryHost' },
        ` || '/' || ${s}.namespace || '/' || ${s}.name || '@' || ${h}.image_digest else ${h}.docker_image_reference end from tag_history ${h} join image_streams ${s} on ${s}.id = ${t}.stream_id where ${h}.tag_id = ${t}.id order by ${h}.seq desc limit 1))::text, 'null')`,
      );
    } else unsupported(`ImageStreamTag.${name}`);
  });
}

export function stream(out: Out, fields: FieldNode[], s: string): void {
  object(out, fields, 'ImageStream', (f) => {
    const name = f.name.value;
    if (name === 'labels' || name === 'annotations') return keyValues(out, f, `${s}.${name}`);
    if (name === 'tags') return listField(out, f, STREAM_TAGS, [`${s}.id`]);
    if (name === 'images') return listField(out, f, STREAM_IMAGES, [`${s}.id`]);
    if (name === 'tag') {
      onlyArguments(f, ['name']);
      const tagName = out.stringArg(f, 'name');
      const t = out.alias('t');
      out.push('coalesce((select ');
      tag(out, fieldsOf(out, f.selectionSet, 'ImageStreamTag'), t);
      out.push(` from tags ${t} where ${t}.stream_id = ${s}.id and ${t}.name = `);
      out.push(tagName);
      out.push(" limit 1), 'null')");
      return;
    }
    if (name === 'lookupPolicy') {
      noArguments(f);
      objectOf(out, f, 'ImageLookupPolicy', (p) => {
        leaf(p);
        if (p.name.value !== 'local') unsupported(`ImageLookupPolicy.${p.name.value}`);
        out.push(`${s}.lookup_local::text`);
      });
      return;
    }
    leaf(f);
    if (name === 'namespace' || name === 'name') out.push(str(`${s}.${name}`));
    else if (name === 'id') out.push(globalId('ImageStream', `${s}.id`));
    else if (name === 'pullSpec') {
      out.push(
        'to_json(',
        { setting: 'registryHost' },
        ` || '/' || ${s}.namespace || '/' || ${s}.name)::text`,
      );
    } else if (name === 'generation') out.push(num(`${s}.generation`));
    else if (name === 'resourceVersion') out.push(str(`${s}.resource_version::text`));
    else if (name === 'dockerImageRepository') out.push(str(`${s}.docker_image_repository`));
    else if (name === 'createdAt' || name === 'updatedAt') {
      out.push(dateTime(`${s}.${name === 'createdAt' ? 'created_at' : 'updated_at'}`));
    } else if (name === 'uniqueImageCount') {
      out.push(`(select count(*)::int from stream_images si where si.stream_id = ${s}.id)::text`);
    } else unsupported(`ImageStream.${name}`);
  });
}

/** A namespace row and its counts (namespaces.ts's correlated counts). */
export function namespace(out: Out, fields: FieldNode[], n: string): void {
  object(out, fields, 'Namespace', (f) => {
    const name = f.name.value;
    if (name === 'imageStreams') return listField(out, f, NAMESPACE_STREAMS, [`${n}.name`]);
    if (name === 'tags') return listField(out, f, NAMESPACE_TAGS, [`${n}.name`]);
    leaf(f);
    const tagsOf = `tags t join image_streams s on s.id = t.stream_id where s.namespace = ${n}.name`;
    if (name === 'name') out.push(str(`${n}.name`));
    else if (name === 'imageStreamCount') {
      out.push(`(select count(*)::int from image_streams s where s.namespace = ${n}.name)::text`);
    } else if (name === 'tagCount') out.push(`(select count(*)::int from ${tagsOf})::text`);
    else if (name === 'failingImportCount') {
      out.push(
        `(select count(*)::int from ${tagsOf} and exists (select 1 from tag_conditions c where c.tag_id = t.id and c.type = 'ImportSuccess' and c.status = 'False'))::text`,
      );
    } else unsupported(`Namespace.${name}`);
  });
}

/** A stream's use of an image (a stream_images row). */
function streamImage(out: Out, fields: FieldNode[], u: string): void {
  object(out, fields, 'StreamImageUse', (f) => {
    const name = f.name.value;
    if (name === 'image') return imageByDigest(out, f, `${u}.digest`);
    leaf(f);
    if (name === 'digest') out.push(str(`${u}.digest`));
    else if (name === 'created') out.push(dateTime(`${u}.created`));
    else if (name === 'firstSeen') out.push(dateTime(`${u}.first_seen`));
    else if (name === 'historyItemCount') out.push(num(`${u}.history_item_count`));
    else unsupported(`StreamImageUse.${name}`);
  });
}

/**
 * When a root field's selection reads a tag's `policy`: the fallback for any tag with a policy
 * in the streams it can reach (the namespace's, or one stream's by its name expression; with no
 * namespace, those of every namespace the caller may read).
 */
export function policyFallback(
  out: Out,
  namespace: ParamSource | null,
  streamName: Piece[] | null,
): void {
  if (!out.policySelected) return;
  out.policySelected = false;
  const t = out.alias('t');
  const s = out.alias('s');
  out.fallbackWhen(
    `exists (select 1 from tags ${t} join image_streams ${s} on ${s}.id = ${t}.stream_id where ${t}.policy is not null and ${t}.policy <> 'null'::jsonb and `,
    ...(namespace ? [`${s}.namespace = `, namespace] : [{ readable: `${s}.namespace` }]),
    ...(streamName ? [` and ${s}.name = `, ...streamName] : []),
    ')',
  );
}
