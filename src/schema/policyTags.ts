// Policy tags in the schema: the policy input of `tag`, ImageStreamTag.policy, reevaluateTag,
// and the read-only previewPolicy and remoteTags.
// The rules: docs/policy-tags.md.
import { builder } from '../builder.ts';
import type {
  PolicyCandidate,
  PolicyEvaluation,
  StoredPolicyEvaluation,
  TagSelectionPolicy,
} from '../domain/policyTags.ts';
import { unwrap } from '../errors.ts';
import { waitForJob } from '../services/importImage.ts';
import { getJob, type ImportJobRow } from '../services/importQueue.ts';
import {
  previewPolicy,
  REEVALUATE_MAX_WAIT_SECONDS,
  REMOTE_TAGS_MAX_PAGE,
  type RemoteTagsPage,
  reevaluateTag,
  remoteTags,
} from '../services/policyTags.ts';
import { editRef } from './access.ts';
import { ACT_ERRORS } from './errors.ts';
import { ImportJob } from './imports.ts';
import { tagByIdField } from './tagField.ts';
import { ImageStreamTag } from './tags.ts';

export const PatternOrderEnum = builder.enumType('PolicyPatternOrder', {
  description:
    'How pattern candidates rank by their extracted value. ASCENDING picks the highest value ' +
    '(the last in ascending order), DESCENDING the lowest. NUMERICAL compares decimal numbers ' +
    'of any length (a value that is not one is filtered out); ALPHABETICAL compares code points.',
  values: [
    'NUMERICAL_ASCENDING',
    'NUMERICAL_DESCENDING',
    'ALPHABETICAL_ASCENDING',
    'ALPHABETICAL_DESCENDING',
  ] as const,
});

const PolicyKindEnum = builder.enumType('TagPolicyKind', {
  values: {
    SEMVER: { value: 'semver' },
    PATTERN: { value: 'pattern' },
    NEWEST_BUILD: { value: 'newestBuild' },
  } as const,
});

const SemverPolicyInput = builder.inputType('SemverPolicyInput', {
  fields: (t) => ({
    range: t.string({
      required: true,
      description:
        'An npm semver range (`^1.2`, `~2.0.1`, `>=1.0.0 <2`, `1.x`); at most 256 characters.',
    }),
    includePrerelease: t.boolean({
      description:
        'Let pre-releases (`2.0.0-rc.1`) match any range. Without it a pre-release matches only ' +
        'a range naming a pre-release of the same version, as npm does.',
    }),
  }),
});

const PatternPolicyInput = builder.inputType('PatternPolicyInput', {
  fields: (t) => ({
    regex: t.string({
      required: true,
      description:
        'An RE2 regular expression (linear time: no lookaround, no backreferences), searched ' +
        'in each tag name (anchor it with ^ and $); at most 256 characters.',
    }),
    extract: t.string({
      description:
        'What a tag ranks by: `$1` or `$name` name captures (`(?P<name>…)`), braces allowed ' +
        '(`{1}` after the dollar), ' +
        '`$$` is a dollar; the whole match (`$0`) when omitted.',
    }),
    order: t.field({ type: PatternOrderEnum, description: 'ALPHABETICAL_ASCENDING when omitted.' }),
  }),
});

const NewestBuildPolicyInput = builder.inputType('NewestBuildPolicyInput', {
  fields: (t) => ({
    filter: t.string({
      description:
        'An RE2 regular expression a tag must match to be a candidate; all tags when omitted.',
    }),
  }),
});

export const TagPolicyInput = builder.inputType('TagPolicyInput', {
  description:
    'Exactly one of semver, pattern or newestBuild: which tag of the source repository the tag follows.',
  fields: (t) => ({
    semver: t.field({ type: SemverPolicyInput }),
    pattern: t.field({ type: PatternPolicyInput }),
    newestBuild: t.field({ type: NewestBuildPolicyInput }),
    exclude: t.stringList({
      description:
        'Globs (`*`, `?`) over whole tag names that never qualify; at most 32. When omitted: ' +
        '`*.sig`, `*.att`, `*.sbom` (signatures, attestations, SBOMs).',
    }),
  }),
});

const PolicyCandidateRef = builder.objectRef<PolicyCandidate>('PolicyCandidate').implement({
  fields: (t) => ({
    tag: t.exposeString('tag'),
    value: t.exposeString('value', {
      description: 'What it ranked by: the version, the extracted value or the build time.',
    }),
  }),
});

const PolicyEvaluationRef = builder
  .objectRef<StoredPolicyEvaluation>('PolicyEvaluation')
  .implement({
    description: 'What the last evaluation an import recorded saw and picked.',
    fields: (t) => ({
      evaluatedAt: t.field({ type: 'DateTime', resolve: (e) => new Date(e.evaluatedAt) }),
      listed: t.exposeInt('listed', { description: 'Tags the registry listed.' }),
      excluded: t.exposeInt('excluded', { description: 'Tags an exclusion glob matched.' }),
      filtered: t.exposeInt('filtered', {
        description: 'Tags the policy did not accept (outside the range, no match, no build time).',
      }),
      candidates: t.exposeInt('candidates', { description: 'Tags ranked.' }),
      top: t.field({
        type: [PolicyCandidateRef],
        description: 'The best candidates, best first; at most ten.',
        resolve: (e) => e.top,
      }),
      winner: t.exposeString('winner', { nullable: true }),
      digest: t.exposeString('digest', {
        nullable: true,
        description: "The winner's manifest digest as imported.",
      }),
      reason: t.exposeString('reason'),
    }),
  });

type PolicyOf<Kind> = Extract<TagSelectionPolicy, { kind: Kind }>;

/** A resolver of one setting of `kind`'s policies: null for a policy of another kind. */
function settingOf<Kind extends TagSelectionPolicy['kind'], Key extends keyof PolicyOf<Kind>>(
  kind: Kind,
  key: Key,
) {
  return ({ policy }: { policy: TagSelectionPolicy }) =>
    policy.kind === kind ? (policy as PolicyOf<Kind>)[key] : null;
}

const TagPolicyRef = builder
  .objectRef<{ policy: TagSelectionPolicy; evaluation: StoredPolicyEvaluation | null }>('TagPolicy')
  .implement({
    fields: (t) => ({
      kind: t.field({ type: PolicyKindEnum, resolve: (p) => p.policy.kind }),
      range: t.string({ nullable: true, resolve: settingOf('semver', 'range') }),
      includePrerelease: t.boolean({
        nullable: true,
        resolve: settingOf('semver', 'includePrerelease'),
      }),
      regex: t.string({ nullable: true, resolve: settingOf('pattern', 'regex') }),
      extract: t.string({ nullable: true, resolve: settingOf('pattern', 'extract') }),
      order: t.field({
        type: PatternOrderEnum,
        nullable: true,
        resolve: settingOf('pattern', 'order'),
      }),
      filter: t.string({ nullable: true, resolve: settingOf('newestBuild', 'filter') }),
      exclude: t.stringList({ resolve: (p) => p.policy.exclude }),
      lastEvaluation: t.field({
        type: PolicyEvaluationRef,
        nullable: true,
        resolve: (p) => p.evaluation,
      }),
    }),
  });

builder.drizzleObjectFields(ImageStreamTag, (t) => ({
  policy: t.field({
    type: TagPolicyRef,
    nullable: true,
    description: 'The policy that picks the repository tag this tag follows; null for other tags.',
    select: { columns: { policy: true, policyEvaluation: true } },
    resolve: (tag) =>
      tag.policy ? { policy: tag.policy, evaluation: tag.policyEvaluation ?? null } : null,
  }),
}));

const ReevaluateTagInput = builder.inputType('ReevaluateTagInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    ref: t.string({ required: true, description: '`[ns/]stream:tag`, a policy tag' }),
    wait: t.boolean({
      description: 'Return when the import has finished (or `timeoutSeconds` has passed).',
    }),
    timeoutSeconds: t.int({
      description: `How long \`wait\` waits: 1 to ${REEVALUATE_MAX_WAIT_SECONDS}; 60 when omitted.`,
    }),
  }),
});

const ReevaluateTagPayload = builder
  .objectRef<{
    namespace: string;
    tagId: number;
    importJobId: number;
    job: ImportJobRow;
    timedOut: boolean;
  }>('ReevaluateTagPayload')
  .implement({
    authScopes: (p) => ({ read: p.namespace }),
    fields: (t) => ({
      importJobId: t.exposeID('importJobId', {
        description: 'The queued import that lists the repository and imports the winner.',
      }),
      job: t.field({
        type: ImportJob,
        description: 'That import: as queued, or as it ended when `wait` was given.',
        resolve: (p) => p.job,
      }),
      timedOut: t.exposeBoolean('timedOut', {
        description: 'With `wait`: the import had not finished when the timeout came.',
      }),
      imageStreamTag: tagByIdField(t),
    }),
  });

builder.mutationFields((t) => ({
  reevaluateTag: t.field({
    authScopes: editRef,
    type: ReevaluateTagPayload,
    description:
      "Evaluate a policy tag's policy now: queues an import that lists the repository and " +
      'imports the winner (a new winner or digest pushes a history item with cause POLICY).',
    args: { input: t.arg({ type: ReevaluateTagInput, required: true }) },
    errors: { types: ACT_ERRORS },
    resolve: async (_root, { input }, ctx) => {
      const queued = unwrap(await reevaluateTag(ctx.database.db, ctx.access, input));
      if (!input.wait) {
        const job = (await getJob(ctx.database.db, queued.importJobId))!;
        return { ...queued, job, timedOut: false };
      }
      const seconds = input.timeoutSeconds ?? 60;
      const job = (await waitForJob(ctx.database.db, queued.importJobId, seconds * 1000))!;
      return { ...queued, job, timedOut: job.status === 'queued' || job.status === 'running' };
    },
  }),
}));

const PolicyPreviewRef = builder
  .objectRef<PolicyEvaluation & { truncated: boolean }>('PolicyPreview')
  .implement({
    description: 'What a policy would pick in a repository now.',
    fields: (t) => ({
      listed: t.exposeInt('listed'),
      excluded: t.exposeInt('excluded'),
      filtered: t.exposeInt('filtered'),
      candidates: t.exposeInt('candidates'),
      top: t.field({ type: [PolicyCandidateRef], resolve: (e) => e.top }),
      winner: t.exposeString('winner', { nullable: true }),
      reason: t.exposeString('reason'),
      truncated: t.exposeBoolean('truncated', {
        description: 'The repository had more tags than the listing caps let it read.',
      }),
    }),
  });

const RemoteTagsRef = builder.objectRef<RemoteTagsPage>('RemoteTagsPage').implement({
  fields: (t) => ({
    tags: t.exposeStringList('tags', { description: "In the registry's order." }),
    totalCount: t.exposeInt('totalCount', { description: 'Tags that passed the filter.' }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: 'The last tag of the page; pass it as `after`.',
    }),
    truncated: t.exposeBoolean('truncated', {
      description: 'The repository had more tags than the listing caps let it read.',
    }),
  }),
});

const REMOTE_READ =
  'Reads the registry with the pull secrets of `namespace`, so the caller needs EDITOR there; ' +
  'writes nothing. `repository` is a pull spec without tag or digest. A repository the ' +
  'registry does not have is a NotFoundError; one it refuses to list, a ValidationError on ' +
  '`repository`.';

builder.queryFields((t) => ({
  previewPolicy: t.field({
    type: PolicyPreviewRef,
    description: `What a policy would pick in a repository now. ${REMOTE_READ}`,
    args: {
      namespace: t.arg.string({ required: true }),
      repository: t.arg.string({ required: true }),
      policy: t.arg({ type: TagPolicyInput, required: true }),
      insecure: t.arg.boolean(),
    },
    errors: { types: ACT_ERRORS },
    resolve: async (_root, args, ctx) =>
      unwrap(await previewPolicy(ctx.access, ctx.registryReader, args)),
  }),
  remoteTags: t.field({
    type: RemoteTagsRef,
    description: `A page of a repository's tags, optionally filtered by an RE2 expression. ${REMOTE_READ}`,
    args: {
      namespace: t.arg.string({ required: true }),
      repository: t.arg.string({ required: true }),
      filter: t.arg.string({ description: 'An RE2 expression searched in each tag name.' }),
      first: t.arg.int({ description: `1 to ${REMOTE_TAGS_MAX_PAGE}; 100 when omitted.` }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      insecure: t.arg.boolean(),
    },
    errors: { types: ACT_ERRORS },
    resolve: async (_root, args, ctx) =>
      unwrap(await remoteTags(ctx.access, ctx.registryReader, args)),
  }),
}));
