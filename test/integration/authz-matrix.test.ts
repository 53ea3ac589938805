// The authorization matrix, generated from the schema: every root field is called with every
// namespace-naming argument pointed at a victim namespace, by callers who may not act there, and
// must be refused with nothing written and nothing of the victim's in the response. The same call
// against a control namespace, by the least-privileged caller who should succeed, proves the call
// is well-formed. A root field or a namespace-naming argument the generator cannot fill fails it.
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/events/cursor.ts';
import { schema } from '../../src/schema/index.ts';
import { type RoleName, startTestApp, type TestApp, testConfig } from '../support/app.ts';
import { digestOf } from '../support/mapping.ts';
import { rowCounts } from '../support/rowCounts.ts';
import { scalarValue } from '../support/scalars.ts';
import { subscribeWs } from '../support/subscriptions.ts';
import { expectNoVictimData, seedVictim, type Victim } from '../support/victim.ts';

/**
 * Who may use a root field: a role in the namespaces it names, a cluster admin, a registry (a
 * member of `system:registries`, which no role binding can grant), or anyone.
 */
type Needs = RoleName | 'CLUSTER_ADMIN' | 'REGISTRY' | 'ANYONE';

interface FieldPolicy {
  needs: Needs;
  /**
   * How a refused call answers: FORBIDDEN; null (as the field documents for what the caller cannot
   * see); or an answer about the caller alone, with nothing of the victim's in it.
   */
  /**
   * SILENT: a subscription over every namespace the caller may read, so nothing is refused; it
   * must deliver nothing of the victim's, even replaying the whole log.
   */
  refusal: 'FORBIDDEN' | 'NULL' | 'OWN_ONLY' | 'SILENT';
}

/** Every root field. A field missing here fails the suite: decide its policy when adding it. */
const POLICIES: Record<string, FieldPolicy> = {
  'Query.apiTokens': { needs: 'CLUSTER_ADMIN', refusal: 'FORBIDDEN' },
  // Searches every namespace the caller may read: anyone may ask, and sees only its own.
  'Query.findImage': { needs: 'ANYONE', refusal: 'OWN_ONLY' },
  'Query.image': { needs: 'IMAGE_PULLER', refusal: 'NULL' },
  'Query.imageDiff': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.imageStream': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.imageStreamImage': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.imageStreamTag': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.imageStreams': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.importJob': { needs: 'IMAGE_PULLER', refusal: 'NULL' },
  'Query.importJobs': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.me': { needs: 'ANYONE', refusal: 'OWN_ONLY' },
  'Query.namespace': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.namespaces': { needs: 'ANYONE', refusal: 'OWN_ONLY' },
  'Query.node': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.nodes': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  // Both read a registry with the namespace's pull secrets: an editor's, as for imports.
  'Query.previewPolicy': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Query.pullSecrets': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Query.remoteTags': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Query.retentionPolicies': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Query.robotTokens': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Query.roleBindings': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Query.tagEvents': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Mutation.addRoleBinding': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.applyImageStream': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.createImageStream': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.createImageStreamMapping': { needs: 'REGISTRY', refusal: 'FORBIDDEN' },
  'Mutation.createPullSecret': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.createRobotToken': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.createToken': { needs: 'CLUSTER_ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.deleteImageStream': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.deletePullSecret': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.deleteRetentionPolicy': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.deleteTag': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.importImage': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.pruneImages': { needs: 'CLUSTER_ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.pruneTagHistory': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.reevaluateTag': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.removeRoleBinding': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.replacePullSecret': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.revokeRobotToken': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.revokeToken': { needs: 'CLUSTER_ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.rollbackTag': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.runRetentionPolicy': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.setRetentionPolicy': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.setTagAnnotations': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.tag': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.updateImageStream': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Query.webhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Query.webhookDeliveries': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  // A webhook's URL may carry a credential: editors only, not readers.
  'Query.webhooks': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.createWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.deleteWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.disableWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.enableWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.redeliverWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.testWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  'Mutation.updateWebhook': { needs: 'EDITOR', refusal: 'FORBIDDEN' },
  // Receivers trigger work from outside the cluster: admins only.
  'Query.receivers': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.createReceiver': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Mutation.deleteReceiver': { needs: 'ADMIN', refusal: 'FORBIDDEN' },
  'Subscription.imageStreamChanged': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
  'Subscription.imageTagsChanged': { needs: 'IMAGE_PULLER', refusal: 'SILENT' },
  'Subscription.tagChanged': { needs: 'IMAGE_PULLER', refusal: 'FORBIDDEN' },
};

/** The role just below `needs`: it must be refused too. */
const BELOW: Record<Needs, RoleName | null> = {
  ANYONE: null,
  IMAGE_PULLER: null,
  EDITOR: 'IMAGE_PULLER',
  ADMIN: 'EDITOR',
  CLUSTER_ADMIN: 'ADMIN',
  REGISTRY: 'ADMIN',
};

/** Argument and input-field names that can name a namespace, or an object inside one. */
const NAMING =
  /namespace|^ref$|^destinations$|^source$|^image$|^from$|^ids?$|^subject|digest|^name$|Reference$/i;

/** What a generated value points at. */
interface Target {
  /** The namespace refs and namespace arguments name. */
  ns: string;
  /** The namespace every other namespace-naming argument names (the caller's own, in mixed calls). */
  own: string;
  /** The argument path pointed at `ns` (all of them when null). */
  focus: string | null;
  fixture: Victim;
  tokenId: string;
  /** Name images by a one-character id (the enumeration attack) instead of the full digest. */
  shortIds: boolean;
}

type Rule = (t: Target, path: string) => unknown;
const RECURSE = Symbol('recurse');

/** The namespace this argument names: the focus of a mixed call, or every argument otherwise. */
const nsFor = (t: Target, path: string) => (t.focus === null || t.focus === path ? t.ns : t.own);
const streamRef = (t: Target, path: string, tag: string) =>
  `${nsFor(t, path)}/${t.fixture.stream}:${tag}`;
/** A one-character id in the victim (the enumeration attack), the full digest in the control. */
const imageRef = (t: Target, path: string) =>
  `${nsFor(t, path)}/${t.fixture.stream}@${
    t.shortIds ? t.fixture.digests[0]!.slice(7, 8) : t.fixture.digests[0]
  }`;

/**
 * Values for namespace-naming arguments, keyed `Owner.argument` (Owner: `Query.field` for
 * arguments, the input type's name for input fields). `ref`-like keys are focus points of mixed
 * calls; `namespace` arguments follow `nsFor` too.
 */
const RULES: Record<string, Rule> = {
  // The victim's image, by digest: a caller who may not read the victim must find nothing.
  'Query.findImage.digest': (t) => t.fixture.digests[0],
  // Exactly one of digest and pullSpec: the digest names the victim's image.
  'Query.findImage.pullSpec': () => undefined,
  'Query.image.digest': (t) => t.fixture.digests[0],
  'Query.imageDiff.from': imageRef,
  'Query.imageDiff.to': (t, p) => streamRef(t, p, t.fixture.tag),
  'Query.imageStream.name': (t) => t.fixture.stream,
  'Query.imageStreamImage.ref': imageRef,
  'Query.imageStreamTag.ref': (t, p) => streamRef(t, p, t.fixture.tag),
  'Query.importJob.id': (t) => t.fixture.jobId,
  // A paging key inside the namespace argument's namespace: names nothing by itself.
  'Query.importJobs.before': () => undefined,
  'Query.namespace.name': (t, p) => nsFor(t, p),
  // A repository with a tag is refused after authorization, so no registry is reached.
  'Query.previewPolicy.repository': () => 'registry.test:5000/matrix/app:1',
  'Query.previewPolicy.policy': () => ({ semver: { range: '*' } }),
  'Query.remoteTags.repository': () => 'registry.test:5000/matrix/app:1',
  'Query.node.id': (t) => t.fixture.tagId,
  'Query.nodes.ids': (t) => [t.fixture.streamId, t.fixture.tagId, t.fixture.imageId],
  'Mutation.revokeToken.id': (t) => t.tokenId,
  // Each fixture namespace has a robot token of this name (beforeAll).
  'Mutation.revokeRobotToken.name': () => ROBOT,
  'CreateRobotTokenInput.name': () => 'mx-new-robot',
  // Each fixture namespace has a webhook of this name (beforeAll).
  'Query.webhook.name': () => HOOK,
  'Query.webhookDeliveries.webhook': () => HOOK,
  'CreateWebhookInput.name': () => 'mx-new-hook',
  'CreateWebhookInput.url': () => HOOK_URL,
  'UpdateWebhookInput.name': () => HOOK,
  'WebhookRefInput.name': () => HOOK,
  'RedeliverWebhookInput.name': () => HOOK,
  'CreateReceiverInput.name': () => 'mx-new-receiver',
  // Each fixture namespace has a receiver of this name (beforeAll).
  'ReceiverRefInput.name': () => RECEIVER,
  // Each fixture namespace has both retention policies (beforeAll); deleting one leaves the other.
  'SetRetentionPolicyInput.name': () => POLICY,
  'RunRetentionPolicyInput.name': () => POLICY,
  'DeleteRetentionPolicyInput.name': () => DOOMED_POLICY,
  'CreateImageStreamInput.name': () => 'mx-new-stream',
  // The stream TagInput's destinations name (each tag of an applied stream is one of its own).
  'ApplyImageStreamInput.name': (t) => t.fixture.stream,
  'CreateImageStreamMappingInput.image': () => RECURSE,
  'CreateImageStreamMappingInput.stream': (t) => t.fixture.stream,
  'CreateImageStreamMappingInput.tag': () => 'mx-pushed',
  'CreateTokenInput.subject': (t) => `system:serviceaccount:${t.ns}:default`,
  'DeleteImageStreamInput.name': () => DOOMED_STREAM,
  'DeletePullSecretInput.name': () => 'victim-registry',
  'DeleteTagInput.ref': (t, p) => streamRef(t, p, 'upstream'),
  'ImageInput.digest': () => digestOf('matrix-pushed'),
  'ImageInput.dockerImageReference': (t) =>
    `registry.test:5000/${t.ns}/${t.fixture.stream}@${digestOf('matrix-pushed')}`,
  'ImageStreamFilter.namePrefix': (t) => t.fixture.stream.slice(0, 3),
  'ImageLayerInput.digest': () => digestOf('matrix-layer'),
  'ImageManifestInput.digest': () => digestOf('matrix-child'),
  'ImportImageInput.from': () => 'quay.io/matrix/attacker:1',
  'ImportImageInput.image': (t, p) => streamRef(t, p, t.fixture.tag),
  'PullSecretInput.document': () =>
    JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('mx:pw').toString('base64') } } }),
  'PullSecretInput.name': () => 'victim-registry',
  'ReevaluateTagInput.ref': (t, p) => streamRef(t, p, t.fixture.tag),
  'RoleBindingInput.subjectName': () => 'mx-someone',
  'RoleBindingInput.subjectKind': () => 'User',
  'RollbackTagInput.ref': (t, p) => streamRef(t, p, t.fixture.tag),
  'RollbackTagInput.to': () => ({ index: 1 }),
  'RollbackTarget.digest': () => undefined,
  'SetTagAnnotationsInput.ref': (t, p) => streamRef(t, p, t.fixture.tag),
  'SetTagAnnotationsInput.annotations': () => [{ key: 'mx', value: '1' }],
  'TagInput.destinations': (t, p) => [streamRef(t, p, 'mx-dest')],
  // A Boolean that only looks like a reference by its name.
  'TagInput.reference': () => undefined,
  'TagInput.source': (t, p) => streamRef(t, p, t.fixture.tag),
  'UpdateImageStreamInput.name': (t) => t.fixture.stream,
  'Subscription.imageStreamChanged.name': (t) => t.fixture.stream,
  // tagChanged names its namespace with `namespace`; imageStreamChanged with `namespaces`, the
  // caller's own and the victim together (exactly one of the three may be given).
  'Subscription.tagChanged.namespaces': () => undefined,
  'Subscription.tagChanged.allNamespaces': () => undefined,
  'Subscription.imageStreamChanged.namespace': () => undefined,
  'Subscription.imageStreamChanged.namespaces': (t, p) => [t.own, nsFor(t, p)],
  'Subscription.imageStreamChanged.allNamespaces': () => undefined,
  'Subscription.imageTagsChanged.digest': (t) => t.fixture.digests[0],
};

/** Every argument named `namespace` names the namespace the call is about. */
const ruleFor = (key: string): Rule | undefined =>
  RULES[key] ?? (key.endsWith('.namespace') ? (t, p) => nsFor(t, p) : undefined);

/** References: a mixed call points one of them at the victim, the rest at the caller's own. */
const FOCUSABLE = new Set([
  'Query.imageDiff.from',
  'Query.imageDiff.to',
  'Query.imageStreamImage.ref',
  'Query.imageStreamTag.ref',
  'DeleteTagInput.ref',
  'ImportImageInput.image',
  'ReevaluateTagInput.ref',
  'RollbackTagInput.ref',
  'SetTagAnnotationsInput.ref',
  'TagInput.destinations',
  'TagInput.source',
]);
/** Argument names that hold a `[ns/]…` reference: each must be in FOCUSABLE. */
const REFERENCE_NAMES =
  /\.(ref|source|destinations)$|^ImportImageInput\.image$|^Query\.imageDiff\./;

/** A webhook each fixture namespace gets, and where it points (a name that never resolves). */
const HOOK = 'mx-hook';
const HOOK_URL = 'https://hooks.invalid/mx';

/** A webhook receiver each fixture namespace gets for deleteReceiver. */
const RECEIVER = 'mx-receiver';

/** A robot token each fixture namespace gets for revokeRobotToken. */
const ROBOT = 'mx-robot';

/** Retention policies each fixture namespace gets: one to set and run, one to delete. */
const POLICY = 'mx-policy';
const DOOMED_POLICY = 'mx-doomed-policy';

/** A stream each fixture namespace gets for deleteImageStream, so other calls keep theirs. */
const DOOMED_STREAM = 'mx-doomed';

type Arg = GraphQLArgument | GraphQLInputField;

/** Walks every argument and input field of a root field: `[key, argument]` pairs, once each. */
function walkArgs(owner: string, args: readonly Arg[], seen = new Set<string>()): [string, Arg][] {
  const out: [string, Arg][] = [];
  for (const arg of args) {
    const key = `${owner}.${arg.name}`;
    out.push([key, arg]);
    const named = getNamedType(arg.type);
    if (isInputObjectType(named) && !seen.has(named.name)) {
      seen.add(named.name);
      out.push(...walkArgs(named.name, Object.values(named.getFields()), seen));
    }
  }
  return out;
}

function namesNamespace(key: string, arg: Arg): boolean {
  const named = getNamedType(arg.type);
  return NAMING.test(arg.name) || (isScalarType(named) && named.name === 'ID') || !!RULES[key];
}

/** A value for one argument: its rule, else a plain value by type when required, else nothing. */
function argumentValue(owner: string, arg: Arg, t: Target): unknown {
  const key = `${owner}.${arg.name}`;
  const rule = ruleFor(key);
  if (rule) {
    const value = rule(t, key);
    if (value !== RECURSE) return value;
    return objectOf(getNamedType(arg.type) as GraphQLNamedType, t);
  }
  if (!isNonNullType(arg.type)) return undefined;
  return plainValue(arg.type.ofType, t);
}

function plainValue(type: GraphQLInputType, t: Target): unknown {
  if (isNonNullType(type)) return plainValue(type.ofType, t);
  if (isListType(type)) return [plainValue(type.ofType, t)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) return objectOf(type, t);
  if (type.name === 'String') return 'mx1';
  const value = scalarValue(type.name);
  if (value === undefined) throw new Error(`no plain value for scalar ${type.name}`);
  return value;
}

function objectOf(type: GraphQLNamedType, t: Target): Record<string, unknown> {
  if (!isInputObjectType(type)) throw new Error(`${type.name} is not an input object`);
  const out: Record<string, unknown> = {};
  for (const field of Object.values(type.getFields())) {
    const value = argumentValue(type.name, field, t);
    if (value !== undefined) out[field.name] = value;
  }
  return out;
}

const GRAPHQL_LITERAL_TYPES = (arg: Arg) => String(arg.type);

/** A selection of everything readable, a few levels deep (bounded by the server's shape limits). */
function selectionOf(
  type: GraphQLOutputType,
  depth: number,
  aliased: ReadonlySet<string> = new Set(),
): string {
  const named = getNamedType(type);
  if (isScalarType(named) || isEnumType(named)) return '';
  if (depth === 0) return '{ __typename }';
  if (isUnionType(named) || isInterfaceType(named)) {
    const possible = schema.getPossibleTypes(named);
    // A field name two members type differently gets an alias, or the fragments cannot merge.
    const typesOf = new Map<string, Set<string>>();
    for (const member of possible) {
      for (const f of Object.values(member.getFields())) {
        typesOf.set(f.name, (typesOf.get(f.name) ?? new Set()).add(String(f.type)));
      }
    }
    const conflicting = new Set([...typesOf].filter(([, types]) => types.size > 1).map(([n]) => n));
    return `{ __typename ${possible
      .map((p) => `... on ${p.name} ${selectionOf(p, depth, conflicting)}`)
      .join(' ')} }`;
  }
  if (!isObjectType(named)) return '';
  const fields = Object.values(named.getFields()).filter(
    (f) =>
      !f.args.some((a) => isNonNullType(a.type)) && f.name !== 'edges' && f.name !== 'pageInfo',
  );
  const alias = (name: string) => (aliased.has(name) ? `${named.name}_${name}: ` : '');
  return `{ __typename ${fields
    .map((f) => `${alias(f.name)}${f.name} ${selectionOf(f.type, depth - 1)}`)
    .join(' ')} }`;
}

interface Call {
  operation: string;
  variables: Record<string, unknown>;
}

function callOf(kind: string, field: GraphQLField<unknown, unknown>, t: Target): Call {
  const owner = `${kind}.${field.name}`;
  const variables: Record<string, unknown> = {};
  const declared: string[] = [];
  const passed: string[] = [];
  for (const arg of field.args) {
    const value = argumentValue(owner, arg, t);
    if (value === undefined) continue;
    variables[arg.name] = value;
    declared.push(`$${arg.name}: ${GRAPHQL_LITERAL_TYPES(arg)}`);
    passed.push(`${arg.name}: $${arg.name}`);
  }
  const vars = declared.length ? `(${declared.join(', ')})` : '';
  const args = passed.length ? `(${passed.join(', ')})` : '';
  const operation = `${kind.toLowerCase()} Matrix${vars} { ${field.name}${args} ${selectionOf(field.type, 3)} }`;
  return { operation, variables };
}

interface Response {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/**
 * Whether the root field itself was refused: a FORBIDDEN error on its own path, or a
 * ForbiddenError payload. A FORBIDDEN error on a nested field does not count: by then the root
 * field has run (and, for a mutation, written).
 */
function refused(response: Response, field: string): boolean {
  const atRoot = (e: NonNullable<Response['errors']>[number]) =>
    e.extensions?.code === 'FORBIDDEN' && (e.path === undefined || e.path.length === 1);
  if (response.errors?.some(atRoot)) return true;
  const payload = response.data?.[field] as { __typename?: string } | null | undefined;
  return payload?.__typename === 'ForbiddenError';
}

function nullAnswer(response: Response, field: string): boolean {
  return !response.errors?.length && response.data?.[field] === null;
}

let app: TestApp;
let victim: Victim;
let control: Victim;
/** The caller's own namespace in mixed calls: the outsider is its admin. */
const OWN = 'mx-own';
let outsider: string;
const victimMembers: Partial<Record<RoleName, string>> = {};
const controlMembers: Partial<Record<RoleName, string>> = {};
let tokenId: string;
/** A registry's token: its subject is in `system:registries` and holds no role anywhere. */
let registry: string;

beforeAll(async () => {
  // Background delivery retries the webhooks' failing sends, writing attempt rows at its own
  // pace; off, every row written is a caller's.
  app = await startTestApp({ webhooks: { ...testConfig().webhooks, deliver: false } });
  victim = await seedVictim(app, 'mx-victim');
  control = await seedVictim(app, 'mx-control');
  await app.stream(OWN, victim.stream);
  await app.stream(victim.namespace, DOOMED_STREAM);
  await app.stream(control.namespace, DOOMED_STREAM);
  for (const namespace of [victim.namespace, control.namespace]) {
    await app.admin(
      `mutation($input: CreateRobotTokenInput!) { createRobotToken(input: $input) { __typename } }`,
      { input: { namespace, name: ROBOT, role: 'IMAGE_PULLER' } },
    );
    await app.admin(
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { __typename } }`,
      { input: { namespace, name: HOOK, url: HOOK_URL } },
    );
    await app.admin(
      `mutation($input: CreateReceiverInput!) { createReceiver(input: $input) { __typename } }`,
      { input: { namespace, name: RECEIVER, kind: 'GENERIC' } },
    );
    for (const name of [POLICY, DOOMED_POLICY]) {
      await app.admin(
        `mutation($input: SetRetentionPolicyInput!) { setRetentionPolicy(input: $input) { __typename } }`,
        { input: { namespace, name } },
      );
    }
  }
  outsider = await app.member(OWN, 'ADMIN', 'mx-outsider');
  for (const role of ['IMAGE_PULLER', 'EDITOR', 'ADMIN'] as const) {
    victimMembers[role] = await app.member(victim.namespace, role);
    controlMembers[role] = await app.member(control.namespace, role);
  }
  tokenId = (await app.user('mx-token-holder')).id;
  registry = (await app.user('mx-registry', ['system:registries'])).token;
}, 120_000);
afterAll(async () => {
  await app.stop();
});

const ROOTS = [
  ['Query', schema.getQueryType()!],
  ['Mutation', schema.getMutationType()!],
  ['Subscription', schema.getSubscriptionType()!],
] as const;

const FIELDS = ROOTS.flatMap(([kind, type]) =>
  Object.values(type.getFields()).map((field) => ({ kind, field, key: `${kind}.${field.name}` })),
);

describe('the generator covers the schema', () => {
  it('knows a policy for every root field', () => {
    const unknown = FIELDS.map((f) => f.key).filter((key) => !POLICIES[key]);
    expect(unknown, 'root fields without a policy in POLICIES').toEqual([]);
    const stale = Object.keys(POLICIES).filter((key) => !FIELDS.some((f) => f.key === key));
    expect(stale, 'policies of fields the schema no longer has').toEqual([]);
  });

  it('knows how to fill every argument that can name a namespace', () => {
    const unfilled = FIELDS.flatMap(({ key, field }) =>
      walkArgs(key, field.args)
        .filter(([argKey, arg]) => namesNamespace(argKey, arg) && !ruleFor(argKey))
        .map(([argKey]) => argKey),
    );
    expect(unfilled, 'namespace-naming arguments without a RULES entry').toEqual([]);
  });

  it('points mixed calls at every reference argument', () => {
    const references = FIELDS.flatMap(({ key, field }) =>
      walkArgs(key, field.args).map(([argKey]) => argKey),
    ).filter((argKey) => REFERENCE_NAMES.test(argKey) && !FOCUSABLE.has(argKey));
    expect(references, 'reference arguments missing from FOCUSABLE').toEqual([]);
  });
});

describe.each(FIELDS.map((f) => [f.key, f] as const))('%s', (key, { kind, field }) => {
  const policy = POLICIES[key]!;
  const victimTarget = (focus: string | null): Target => ({
    ns: victim.namespace,
    own: OWN,
    focus,
    fixture: victim,
    tokenId,
    shortIds: true,
  });
  const focusable = walkArgs(key, field.args)
    .map(([argKey]) => argKey)
    .filter((argKey) => FOCUSABLE.has(argKey));

  /** The refused callers: no access at all, and the role just below the one needed. */
  const refusedCallers = () => {
    const callers: [string, string][] = [['outsider (admin of another namespace)', outsider]];
    const below = BELOW[policy.needs];
    if (below) callers.push([`${below} of the victim namespace`, victimMembers[below]!]);
    return callers;
  };

  /** Runs a call that must be refused; checks nothing was written and nothing leaked. */
  async function expectRefused(token: string, call: Call, label: string) {
    if (kind === 'Subscription' && policy.refusal === 'SILENT') {
      await expectSilent(token, call, label);
      return;
    }
    if (kind === 'Subscription') {
      const sub = subscribeWs<Response>(app.url, call.operation, call.variables, { token });
      const ended = await sub.ended;
      const first = sub.results[0];
      expect(
        first ? refused(first, field.name) : ended.kind === 'error',
        `${label}: ${JSON.stringify(sub.results)}`,
      ).toBe(true);
      expectNoVictimData(victim, sub.results, label);
      await sub.stop();
      return;
    }
    const before = await rowCounts(app);
    const response = (await app.call(token, call.operation, call.variables)) as Response;
    const answer = JSON.stringify(response).slice(0, 600);
    if (policy.refusal === 'FORBIDDEN') {
      expect(refused(response, field.name), `${label} must be FORBIDDEN: ${answer}`).toBe(true);
    } else if (policy.refusal === 'NULL') {
      expect(nullAnswer(response, field.name), `${label} must be null: ${answer}`).toBe(true);
    } else {
      expect(response.errors, `${label}: ${answer}`).toBeUndefined();
    }
    expectNoVictimData(victim, response, label);
    expect(await rowCounts(app), `${label} wrote something`).toEqual(before);
  }

  /** Replays the whole log to `token` and checks nothing of the victim's came of it. */
  async function expectSilent(token: string, call: Call, label: string) {
    await expect.poll(() => app.events.subscriberCount).toBe(0);
    const sub = subscribeWs<Response>(
      app.url,
      withSince(call),
      {
        ...call.variables,
        since: encodeCursor(1),
      },
      { token },
    );
    try {
      // Registered and caught up: every replayed result has been sent.
      await expect
        .poll(() => app.events.subscriberCount === 1 && app.events.replayCount === 0)
        .toBe(true);
      // Answered on the same socket after everything sent before it.
      await new Promise((done) => {
        sub.client.subscribe(
          { query: '{ __typename }' },
          { next: done, error: done, complete: () => {} },
        );
      });
      expect(sub.results, `${label}: ${JSON.stringify(sub.results)}`).toEqual([]);
      expectNoVictimData(victim, sub.results, label);
    } finally {
      await sub.stop();
    }
  }

  /** The call replaying the log from its start. */
  function withSince(call: Call): string {
    return call.operation
      .replace('Matrix(', 'Matrix($since: String, ')
      .replace(`${field.name}(`, `${field.name}(since: $since, `);
  }

  if (policy.needs !== 'ANYONE') {
    it('refuses callers without the role, naming the victim everywhere', async () => {
      const call = callOf(kind, field, victimTarget(null));
      for (const [who, token] of refusedCallers()) {
        await expectRefused(token, call, `${key} as ${who}`);
      }
    });
  } else {
    it('shows a caller nothing of a namespace it cannot read', async () => {
      await expectRefused(outsider, callOf(kind, field, victimTarget(null)), `${key} as outsider`);
    });
  }

  for (const focus of focusable) {
    it(`refuses ${focus} pointed at the victim while the rest names the caller's own namespace`, async () => {
      const call = callOf(kind, field, victimTarget(focus));
      await expectRefused(outsider, call, `${key} with ${focus} in the victim`);
      const puller = victimMembers.IMAGE_PULLER!;
      if (kind === 'Mutation') {
        // Reading the victim is not enough to write through a reference into it.
        const writesThere = !/source$/.test(focus);
        if (writesThere) await expectRefused(puller, call, `${key} with ${focus} as victim puller`);
      }
    });
  }
  it('succeeds for the least-privileged caller who should (the generated call is well-formed)', async () => {
    const target: Target = {
      ns: control.namespace,
      own: control.namespace,
      focus: null,
      fixture: control,
      tokenId,
      shortIds: false,
    };
    const call = callOf(kind, field, target);
    const token =
      policy.needs === 'CLUSTER_ADMIN'
        ? app.adminToken
        : policy.needs === 'REGISTRY'
          ? registry
          : policy.needs === 'ANYONE'
            ? outsider
            : controlMembers[policy.needs]!;
    if (kind === 'Subscription') {
      call.variables.since = encodeCursor(1);
      const sub = subscribeWs<Response>(app.url, withSince(call), call.variables, { token });
      const [first] = await sub.waitFor(1);
      await sub.stop();
      expect(first!.errors, JSON.stringify(first)).toBeUndefined();
      expect(first!.data?.[field.name]).toBeTruthy();
      return;
    }
    const response = (await app.call(token, call.operation, call.variables)) as Response;
    const answer = JSON.stringify(response).slice(0, 600);
    expect(response.errors, `${key}: ${answer}`).toBeUndefined();
    expect(refused(response, field.name), `${key}: ${answer}`).toBe(false);
    if (policy.refusal === 'FORBIDDEN' || key === 'Query.image' || key === 'Query.importJob') {
      expect(response.data?.[field.name], `${key}: ${answer}`).not.toBeNull();
    }
  });
});
