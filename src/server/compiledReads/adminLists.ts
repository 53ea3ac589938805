// The compiled statement's root fields for editors and admins: a namespace's webhooks (and one
// webhook's deliveries), receivers, retention policies and robot tokens, as their resolvers list them.
import type { FieldNode } from 'graphql';
import type { Role } from '../../auth/roles.ts';
import { CHANGE_CAUSES } from '../../events/append.ts';
import { MAX_RECEIVERS_PER_NAMESPACE } from '../../services/receivers.ts';
import { MAX_RETENTION_POLICIES_PER_NAMESPACE } from '../../services/retentionPolicies.ts';
import { MAX_WEBHOOKS_PER_NAMESPACE } from '../../services/webhooks.ts';
import {
  bool,
  dateTime,
  deliveryCursor,
  eventCursor,
  fieldsOf,
  hasMoreRows,
  leaf,
  list,
  noArguments,
  num,
  type Out,
  object,
  objectOf,
  onlyArguments,
  type ParamSource,
  pageSize,
  sqlText,
  str,
  unsupported,
} from './statement.ts';

/** The most robot tokens robotTokens lists (accessControl.ts's MAX_ROBOT_TOKENS). */
const MAX_ROBOT_TOKENS = 500;

/** An enum value stored as its name, written as the name (a name not in `values` falls back). */
const enumName = (e: string) => str(e);

/** SQL that holds when the text `e` is one of `values`. */
const oneOf = (e: string, values: readonly string[]) =>
  `coalesce(${e} in (${values.map(sqlText).join(', ')}), false)`;

/** A jsonb lookup `{stored: name}` of `e`, or `e` when it has no entry (filterOf's `?? c`). */
const renamed = (e: string, names: Record<string, string> | undefined) =>
  names ? `coalesce(${sqlText(JSON.stringify(names))}::jsonb ->> ${e}, ${e})` : e;

/**
 * SQL that holds when jsonb `items` is an array of strings, each (renamed) among `values` when
 * given: what a `[String!]!` or `[Enum!]!` field writes without an error.
 */
function stringArray(
  out: Out,
  items: string,
  values?: readonly string[],
  names?: Record<string, string>,
): string {
  const e = out.alias('e');
  const bad = values
    ? `jsonb_typeof(${e}) <> 'string' or not ${oneOf(renamed(`(${e} #>> '{}')`, names), values)}`
    : `jsonb_typeof(${e}) <> 'string'`;
  return `(case when jsonb_typeof(${items}) = 'array' then not exists (select 1 from jsonb_array_elements(${items}) ${e} where ${bad}) else false end)`;
}

/** `["a",…]` of a jsonb array of strings, in order (each renamed by `names`). */
function strings(out: Out, items: string, names?: Record<string, string>): void {
  const e = out.alias('e');
  out.push(
    `(case when jsonb_typeof(${items}) = 'array' then (select '[' || coalesce(string_agg(${str(renamed(`${e}.v`, names))}, ',' order by ${e}.n), '') || ']' from jsonb_array_elements_text(${items}) with ordinality ${e}(v, n)) else 'null' end)`,
  );
}

/** A jsonb number that is an Int (what an Int field writes without an error). */
const isInt = (e: string) =>
  `(case when jsonb_typeof(${e}) = 'number' then (${e})::numeric = trunc((${e})::numeric) and abs((${e})::numeric) <= 2147483647 else false end)`;

/** A type's fields: each a writer of the row `r`, by field name. */
type Writers = Record<string, (out: Out, field: FieldNode, r: string) => void>;

/** A leaf field written by `value` of the row. */
const scalar =
  (value: (r: string) => string) =>
  (out: Out, field: FieldNode, r: string): void => {
    leaf(field);
    out.push(value(r));
  };

/** The fields every named object of a namespace has. */
const NAMED: Writers = {
  namespace: scalar((r) => str(`${r}.namespace`)),
  name: scalar((r) => str(`${r}.name`)),
  createdAt: scalar((r) => dateTime(`${r}.created_at`)),
};

const WEBHOOK_FORMATS = ['CLOUDEVENTS', 'JSON'] as const;
const WEBHOOK_STATES = ['ACTIVE', 'FAILING', 'GONE'] as const;
const CHANGE_TYPES = ['ADDED', 'UPDATED', 'DELETED'] as const;
const CAUSE_NAMES: Record<string, string> = CHANGE_CAUSES;
const FILTER_LISTS: Record<string, { values?: readonly string[]; names?: Record<string, string> }> =
  {
    streams: {},
    tags: {},
    types: { values: CHANGE_TYPES },
    causes: { values: Object.values(CAUSE_NAMES), names: CAUSE_NAMES },
  };

const WEBHOOK: Writers = {
  ...NAMED,
  url: scalar((r) => str(`${r}.url`)),
  format: scalar((r) => enumName(`${r}.format`)),
  enabled: scalar((r) => bool(`${r}.enabled`)),
  state: scalar((r) => enumName(`${r}.state`)),
  filter: (out, field, r) => {
    noArguments(field);
    objectOf(out, field, 'WebhookFilter', (f) => {
      leaf(f);
      const spec = FILTER_LISTS[f.name.value];
      if (!spec) unsupported(`WebhookFilter.${f.name.value}`);
      strings(out, `${r}.filter->'${f.name.value}'`, spec.names);
    });
  },
  condition: (out, field, r) => {
    // Only a webhook with a reason has one (the resolver's truthiness test).
    noArguments(field);
    out.push(`(case when coalesce(${r}.condition_reason, '') = '' then 'null' else `);
    objectOf(out, field, 'WebhookCondition', (f) => {
      leaf(f);
      const name = f.name.value;
      if (name === 'reason') out.push(str(`${r}.condition_reason`));
      else if (name === 'message') out.push(str(`${r}.condition_message`));
      else if (name === 'time') out.push(dateTime(`${r}.condition_time`));
      else unsupported(`WebhookCondition.${name}`);
    });
    out.push(' end)');
  },
  deliveredThrough: scalar((r) => eventCursor(`${r}.position`)),
  nextAttemptAt: scalar((r) => dateTime(`${r}.next_attempt_at`)),
  updatedAt: scalar((r) => dateTime(`${r}.updated_at`)),
};

/** A webhook row the resolvers answer with an error (an enum or filter they cannot write). */
const webhookAwkward = (out: Out, r: string) =>
  `not (${oneOf(`${r}.format`, WEBHOOK_FORMATS)} and ${oneOf(`${r}.state`, WEBHOOK_STATES)}` +
  Object.entries(FILTER_LISTS)
    .map(
      ([key, spec]) => ` and ${stringArray(out, `${r}.filter->'${key}'`, spec.values, spec.names)}`,
    )
    .join('') +
  ')';

const RECEIVER_KINDS = ['DOCKER_HUB', 'QUAY', 'HARBOR', 'GITHUB', 'GENERIC'] as const;

const RECEIVER: Writers = {
  ...NAMED,
  kind: scalar((r) => enumName(`${r}.kind`)),
  registry: scalar((r) => str(`${r}.registry`)),
  // Whether calls must carry the secret; the secret and the token's hash are never written.
  signed: scalar((r) => `(${r}.encrypted_secret is not null)::text`),
  createdBy: scalar((r) => str(`${r}.created_by`)),
  lastCalledAt: scalar((r) => dateTime(`${r}.last_called_at`)),
};

const RUN_OUTCOMES = ['SUCCEEDED', 'FAILED'] as const;
const RUN_TRIGGERS = ['SCHEDULE', 'MANUAL'] as const;
/** RetentionRun's fields: the stored result's key and whether it is an Int (else an enum or String). */
const RUN_FIELDS: Record<string, { key: string; values?: readonly string[]; int?: true }> = {
  outcome: { key: 'outcome', values: RUN_OUTCOMES },
  trigger: { key: 'trigger', values: RUN_TRIGGERS },
  historyItemCount: { key: 'removed', int: true },
  tagCount: { key: 'tags', int: true },
  message: { key: 'message' },
};
/** A policy without a run: no result, or a JSON null (`lastResult ?? null`). */
const noRun = (r: string) =>
  `(${r}.last_result is null or jsonb_typeof(${r}.last_result) = 'null')`;

const RETENTION_POLICY: Writers = {
  ...NAMED,
  keepTagRevisions: scalar((r) => num(`${r}.keep_tag_revisions`)),
  keepYoungerThanMinutes: scalar((r) => num(`${r}.keep_younger_than_minutes`)),
  intervalMinutes: scalar((r) => num(`${r}.interval_minutes`)),
  streams: (out, field, r) => {
    leaf(field);
    strings(out, `${r}.streams`);
  },
  includeTags: (out, field, r) => {
    leaf(field);
    strings(out, `${r}.include_tags`);
  },
  excludeTags: (out, field, r) => {
    leaf(field);
    strings(out, `${r}.exclude_tags`);
  },
  enabled: scalar((r) => bool(`${r}.enabled`)),
  // Null while disabled.
  nextRunAt: scalar(
    (r) => `(case when ${r}.enabled then ${dateTime(`${r}.next_run_at`)} else 'null' end)`,
  ),
  lastRunAt: scalar((r) => dateTime(`${r}.last_run_at`)),
  lastRun: (out, field, r) => {
    noArguments(field);
    out.push(`(case when ${noRun(r)} then 'null' else `);
    objectOf(out, field, 'RetentionRun', (f) => {
      leaf(f);
      const spec = RUN_FIELDS[f.name.value];
      if (!spec) unsupported(`RetentionRun.${f.name.value}`);
      const value = `${r}.last_result->'${spec.key}'`;
      out.push(spec.int ? `((${value})::numeric)::int::text` : str(`${value} #>> '{}'`));
    });
    out.push(' end)');
  },
  updatedAt: scalar((r) => dateTime(`${r}.updated_at`)),
};

/** A policy whose stored lists or last run the resolvers answer with an error. */
const retentionAwkward = (out: Out, r: string) => {
  const run = Object.values(RUN_FIELDS)
    .map(({ key, values, int }) => {
      const value = `${r}.last_result->'${key}'`;
      if (int) return isInt(value);
      const text = `jsonb_typeof(${value}) = 'string'`;
      return values ? `${text} and ${oneOf(`${value} #>> '{}'`, values)}` : text;
    })
    .join(' and ');
  const lists = ['streams', 'include_tags', 'exclude_tags']
    .map((column) => stringArray(out, `${r}.${column}`))
    .join(' and ');
  return `not (${lists} and (${noRun(r)} or (jsonb_typeof(${r}.last_result) = 'object' and ${run})))`;
};

/** RoleEnum's names of the stored roles. */
const ROLE_NAMES: Record<Role, string> = {
  'image-puller': 'IMAGE_PULLER',
  editor: 'EDITOR',
  admin: 'ADMIN',
};

const API_TOKEN: Writers = {
  id: scalar((r) => str(`${r}.id::text`)),
  subject: scalar((r) => str(`${r}.subject`)),
  groups: (out, field, r) => {
    leaf(field);
    strings(out, `${r}.groups`);
  },
  clusterAdmin: scalar((r) => bool(`${r}.cluster_admin`)),
  description: scalar((r) => str(`${r}.description`)),
  createdAt: scalar((r) => dateTime(`${r}.created_at`)),
  revokedAt: scalar((r) => dateTime(`${r}.revoked_at`)),
  namespace: scalar((r) => str(`${r}.namespace`)),
  name: scalar((r) => str(`${r}.name`)),
  role: scalar(
    (r) =>
      `(case ${r}.role::text ${Object.entries(ROLE_NAMES)
        .map(([role, name]) => `when '${role}' then '"${name}"'`)
        .join(' ')} else 'null' end)`,
  ),
  expiresAt: scalar((r) => dateTime(`${r}.expires_at`)),
  lastUsedAt: scalar((r) => dateTime(`${r}.last_used_at`)),
  createdBy: scalar((r) => str(`${r}.created_by`)),
};

/** A list of a namespace's objects, as its resolver reads and authorizes it. */
interface AdminList {
  table: string;
  typename: string;
  /** The role its resolver's scope and service check ask for. */
  role: Role;
  /** Whether a robot token holding the role may list them (robotTokens refuses every robot). */
  robots: boolean;
  order: string;
  limit: number;
  writers: Writers;
  /** SQL over a row `r` that holds when the resolver would answer with an error. */
  awkward: ((out: Out, r: string) => string) | null;
}

const WEBHOOKS: AdminList = {
  table: 'webhooks',
  typename: 'Webhook',
  role: 'editor',
  robots: true,
  order: 'name',
  limit: MAX_WEBHOOKS_PER_NAMESPACE,
  writers: WEBHOOK,
  awkward: webhookAwkward,
};

const LISTS: Record<string, AdminList> = {
  webhooks: WEBHOOKS,
  receivers: {
    table: 'receivers',
    typename: 'Receiver',
    role: 'admin',
    robots: true,
    order: 'name',
    limit: MAX_RECEIVERS_PER_NAMESPACE,
    writers: RECEIVER,
    awkward: (_out, r) => `not ${oneOf(`${r}.kind`, RECEIVER_KINDS)}`,
  },
  retentionPolicies: {
    table: 'retention_policies',
    typename: 'RetentionPolicy',
    role: 'admin',
    robots: true,
    order: 'name',
    limit: MAX_RETENTION_POLICIES_PER_NAMESPACE,
    writers: RETENTION_POLICY,
    awkward: retentionAwkward,
  },
  robotTokens: {
    table: 'api_tokens',
    typename: 'ApiToken',
    role: 'admin',
    robots: false,
    order: 'id desc',
    limit: MAX_ROBOT_TOKENS,
    writers: API_TOKEN,
    awkward: (out, r) => `not ${stringArray(out, `${r}.groups`)}`,
  },
};

/** The object of `spec`'s row `r` with `fields`. */
function row(out: Out, spec: AdminList, fields: FieldNode[], r: string): void {
  object(out, fields, spec.typename, (f) => {
    const write = spec.writers[f.name.value];
    if (!write) unsupported(`${spec.typename}.${f.name.value}`);
    write(out, f, r);
  });
}

/** The root field's namespace, in which the caller must hold the list's role. */
function namespaceNeed(out: Out, field: FieldNode, spec: AdminList): ParamSource {
  const namespace = out.stringArg(field, 'namespace');
  out.roles.push({ namespace, role: spec.role, robots: spec.robots });
  return namespace;
}

/** The fallback when a row of the namespace (named `name`, when given) is one for the resolver. */
function awkwardFallback(out: Out, spec: AdminList, namespace: ParamSource, name?: ParamSource) {
  if (!spec.awkward) return;
  const r = out.alias('w');
  out.fallbackWhen(
    `exists (select 1 from ${spec.table} ${r} where ${r}.namespace = `,
    namespace,
    ...(name ? [` and ${r}.name = `, name] : []),
    ` and ${spec.awkward(out, r)})`,
  );
}

/** `webhookDeliveries(namespace, webhook, first)`: the newest page of a webhook's deliveries. */
function deliveries(out: Out, field: FieldNode): void {
  onlyArguments(field, ['namespace', 'webhook', 'first']);
  const namespace = namespaceNeed(out, field, WEBHOOKS);
  const webhook = out.stringArg(field, 'webhook');
  const size = pageSize(field);
  const w = out.alias('w');
  const named: (string | ParamSource)[] = [
    `webhooks ${w} where ${w}.namespace = `,
    namespace,
    ` and ${w}.name = `,
    webhook,
  ];
  // A missing webhook is a NOT_FOUND error: the ordinary path's to write.
  out.fallbackWhen('not exists (select 1 from ', ...named, ')');
  const page = (d: string, limit: number) => {
    out.push(`(select ${d}.* from webhook_deliveries ${d} cross join `, ...named);
    out.push(` and ${w}.id = ${d}.webhook_id order by ${d}.id desc limit ${limit}) ${d}`);
  };
  objectOf(out, field, 'WebhookDeliveryPage', (f) => {
    const name = f.name.value;
    if (name === 'deliveries') {
      noArguments(f);
      const d = out.alias('d');
      const fields = fieldsOf(out, f.selectionSet, 'WebhookDelivery');
      list(
        out,
        () => delivery(out, fields, d),
        () => page(d, size),
        `${d}.id desc`,
      );
      return;
    }
    leaf(f);
    const d = out.alias('d');
    if (name === 'hasNextPage') {
      hasMoreRows(out, size, (limit) => page(d, limit));
    } else if (name === 'endCursor') {
      out.push(`coalesce((select ${deliveryCursor(`${d}.id`)} from `);
      page(d, size);
      out.push(` order by ${d}.id asc limit 1), 'null')`);
    } else unsupported(`WebhookDeliveryPage.${name}`);
  });
}

function delivery(out: Out, fields: FieldNode[], d: string): void {
  object(out, fields, 'WebhookDelivery', (f) => {
    leaf(f);
    const name = f.name.value;
    if (name === 'eventCursor') {
      out.push(
        `(case when ${d}.event_seq is null then 'null' else ${eventCursor(`${d}.event_seq`)} end)`,
      );
    } else if (name === 'attempt') out.push(num(`${d}.attempt`));
    else if (name === 'outcome' || name === 'error') out.push(str(`${d}.${name}`));
    else if (name === 'statusCode') out.push(num(`${d}.status_code`));
    else if (name === 'durationMs') out.push(num(`${d}.duration_ms`));
    else if (name === 'nextRetryAt') out.push(dateTime(`${d}.next_retry_at`));
    else if (name === 'time') out.push(dateTime(`${d}.created_at`));
    else unsupported(`WebhookDelivery.${name}`);
  });
}

/**
 * Writes one of the root fields for editors or admins and notes the role it needs; false for
 * any other root field.
 */
export function adminRootField(out: Out, field: FieldNode): boolean {
  const name = field.name.value;
  if (name === 'webhookDeliveries') {
    deliveries(out, field);
    return true;
  }
  if (name === 'webhook') {
    // One webhook by name, or null.
    onlyArguments(field, ['namespace', 'name']);
    const namespace = namespaceNeed(out, field, WEBHOOKS);
    const webhookName = out.stringArg(field, 'name');
    const w = out.alias('w');
    out.push('coalesce((select ');
    row(out, WEBHOOKS, fieldsOf(out, field.selectionSet, WEBHOOKS.typename), w);
    out.push(` from webhooks ${w} where ${w}.namespace = `, namespace);
    out.push(` and ${w}.name = `, webhookName, "), 'null')");
    awkwardFallback(out, WEBHOOKS, namespace, webhookName);
    return true;
  }
  const spec = LISTS[name];
  if (!spec) return false;
  onlyArguments(field, ['namespace']);
  const namespace = namespaceNeed(out, field, spec);
  const fields = fieldsOf(out, field.selectionSet, spec.typename);
  const r = out.alias('w');
  list(
    out,
    () => row(out, spec, fields, r),
    () => {
      out.push(`(select * from ${spec.table} ${r} where ${r}.namespace = `, namespace);
      out.push(` order by ${r}.${spec.order} limit ${spec.limit}) ${r}`);
    },
    `${r}.${spec.order}`,
  );
  awkwardFallback(out, spec, namespace);
  return true;
}
