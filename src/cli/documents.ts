// Every GraphQL document the CLI sends, typed from the schema; test/unit/cli-queries.test.ts
// checks each export against the schema and the server's query limits. Each exported operation
// is in the manifest the build writes (persisted.ts), so documents live here and nowhere else.
//
// Page sizes keep every request inside the server's query cost limit (src/limits.ts), which
// multiplies a connection's subtree by its `first`: a page of 40 tags with 50 history items each
// is priced near the number of fields it may return. The test keeps every document under 80 % of
// the limit, the ones sent several times in one request (`copies`) at their largest.
import { copies, graphql } from './graphql.ts';

/** Mutations per request: well inside the server's alias and token limits (30, 3 000). */
export const BATCH_SIZE = 8;
/** Tags whose history one request reads, each under its own alias. */
export const HISTORIES_PER_REQUEST = 5;

// Typed errors: a union only admits fragments on its own members, so the details of validation
// and conflict errors are spread where the mutation can return them.

export const ErrorFields = graphql(`
  fragment ErrorFields on Error { code field message }
`);

export const ValidationProblems = graphql(`
  fragment ValidationProblems on ValidationError { problems { field message } }
`);

export const ConflictCandidates = graphql(`
  fragment ConflictCandidates on ConflictError { candidates }
`);

// Streams, tags and images: the views the get and describe commands print.

export const ImageFields = graphql(`
  fragment ImageFields on Image {
    digest mediaType dockerImageReference architecture os variant created author size
    config { cmd entrypoint env labels { key value } exposedPorts user workingDir volumes }
    layers { digest size mediaType }
    manifests { digest mediaType size os architecture variant }
  }
`);

export const PolicyFields = graphql(`
  fragment PolicyFields on TagPolicy {
    kind range includePrerelease regex extract order filter exclude
    lastEvaluation { evaluatedAt listed excluded filtered candidates winner digest reason }
  }
`);

export const TagFields = graphql(
  `
  fragment TagFields on ImageStreamTag {
    name importPending dangling policy { ...PolicyFields }
    spec {
      generation reference annotations { key value } from { kind name namespace }
      importPolicy { importMode insecure scheduled } referencePolicy { type }
    }
    conditions { type status reason message generation lastTransitionTime }
  }
`,
  [PolicyFields],
);

export const HistoryPage = graphql(`
  fragment HistoryPage on TagHistoryConnection {
    pageInfo { hasNextPage endCursor }
    nodes { created dockerImageReference generation image { digest } }
  }
`);

export const STREAM = graphql(
  `
  query($namespace: String!, $name: String!, $after: String, $historyAfter: String) {
    imageStream(namespace: $namespace, name: $name) {
      id name namespace createdAt updatedAt generation resourceVersion pullSpec
      dockerImageRepository uniqueImageCount labels { key value } annotations { key value }
      lookupPolicy { local }
      tags(first: 40, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ...TagFields history(first: 50, after: $historyAfter) { ...HistoryPage } }
      }
    }
  }
`,
  [TagFields, HistoryPage],
);

export const STREAM_NAMES = graphql(`
  query($namespace: String!, $after: String) {
    imageStreams(namespace: $namespace, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { name }
    }
  }
`);

/** A stream's distinct images (the server's stream_images), by digest: `get isimage`. */
export const STREAM_IMAGE_DIGESTS = graphql(`
  query($namespace: String!, $name: String!, $after: String) {
    imageStream(namespace: $namespace, name: $name) {
      images(orderBy: { field: DIGEST, direction: ASC }, first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { digest }
      }
    }
  }
`);

export const NAMESPACES = graphql(`
  query($after: String) {
    namespaces(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { name imageStreamCount tagCount failingImportCount }
    }
  }
`);

/** The next history page of one `<stream>:<tag>`, several tags per request. */
export const HISTORY = copies(
  graphql(
    `
    query($namespace: String!, $ref: String!, $after: String) {
      imageStreamTag(namespace: $namespace, ref: $ref) {
        __typename
        ... on ImageStreamTag { history(first: 50, after: $after) { ...HistoryPage } }
      }
    }
  `,
    [HistoryPage],
  ),
  { max: HISTORIES_PER_REQUEST, alias: 'h', shared: ['namespace'] },
);

export const STREAM_TAG = graphql(
  `
  query($namespace: String!, $ref: String!, $historyAfter: String) {
    imageStreamTag(namespace: $namespace, ref: $ref) {
      __typename
      ... on Error { message }
      ... on ImageStreamTag {
        ...TagFields
        history(first: 50, after: $historyAfter) { ...HistoryPage }
        image { ...ImageFields }
        stream { name namespace pullSpec lookupPolicy { local } }
      }
    }
  }
`,
  [TagFields, HistoryPage, ImageFields],
);

export const STREAM_IMAGE = graphql(
  `
  query($namespace: String!, $ref: String!) {
    imageStreamImage(namespace: $namespace, ref: $ref) {
      __typename
      ... on Error { message }
      ... on ConflictError { candidates }
      ... on ImageStreamImage {
        name namespace digest dockerImageReference image { ...ImageFields }
      }
    }
  }
`,
  [ImageFields],
);

// apply: the stream as it is, then the changes.

export const APPLY_CURRENT = graphql(`
  query($namespace: String!, $name: String!, $after: String) {
    imageStream(namespace: $namespace, name: $name) {
      resourceVersion dockerImageRepository
      labels { key value } annotations { key value } lookupPolicy { local }
      tags(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { name spec { annotations { key value } } }
      }
    }
  }
`);

export const CREATE_STREAM = graphql(
  `
  mutation($input: CreateImageStreamInput!) {
    createImageStream(input: $input) {
      __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
      ... on ImageStreamPayload { imageStream { name } }
    }
  }
`,
  [ErrorFields, ValidationProblems, ConflictCandidates],
);

export const UPDATE_STREAM = graphql(
  `
  mutation($input: UpdateImageStreamInput!) {
    updateImageStream(input: $input) {
      __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
      ... on ImageStreamPayload { imageStream { name } }
    }
  }
`,
  [ErrorFields, ValidationProblems, ConflictCandidates],
);

export const IMPORT_ALL = graphql(
  `
  mutation($input: ImportImageInput!) {
    importImage(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on ImportImagePayload { job { id } }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

// Mutations sent in batches, each call under its own alias; GraphQL runs them in order.

const BATCH = { max: BATCH_SIZE, alias: 'm', shared: [] } as const;

export const APPLY_TAG = copies(
  graphql(
    `
    mutation($input: TagInput!) {
      tag(input: $input) {
        __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
        ... on TagPayload { results { tag message } }
      }
    }
  `,
    [ErrorFields, ValidationProblems, ConflictCandidates],
  ),
  BATCH,
);

export const SET_TAG_ANNOTATIONS = copies(
  graphql(
    `
    mutation($input: SetTagAnnotationsInput!) {
      setTagAnnotations(input: $input) {
        __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
        ... on SetTagAnnotationsPayload { changed importJobId }
      }
    }
  `,
    [ErrorFields, ValidationProblems, ConflictCandidates],
  ),
  BATCH,
);

export const DELETE_TAG = copies(
  graphql(
    `
    mutation($input: DeleteTagInput!) {
      deleteTag(input: $input) {
        __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
        ... on DeleteTagPayload { namespace stream tag danglingFollowers }
      }
    }
  `,
    [ErrorFields, ValidationProblems, ConflictCandidates],
  ),
  BATCH,
);

export const DELETE_STREAM = copies(
  graphql(
    `
    mutation($input: DeleteImageStreamInput!) {
      deleteImageStream(input: $input) {
        __typename ...ErrorFields ...ConflictCandidates
        ... on DeleteImageStreamPayload { namespace name }
      }
    }
  `,
    [ErrorFields, ConflictCandidates],
  ),
  BATCH,
);

export const SET_IMAGE_LOOKUP = copies(
  graphql(
    `
    mutation($input: UpdateImageStreamInput!) {
      updateImageStream(input: $input) {
        __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
        ... on ImageStreamPayload { imageStream { name lookupPolicy { local } } }
      }
    }
  `,
    [ErrorFields, ValidationProblems, ConflictCandidates],
  ),
  BATCH,
);

// One command, one mutation.

export const TAG = graphql(
  `
  mutation($input: TagInput!) {
    tag(input: $input) {
      __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
      ... on TagPayload { results { message namespace stream tag importJobId } }
    }
  }
`,
  [ErrorFields, ValidationProblems, ConflictCandidates],
);

export const IMPORT = graphql(
  `
  mutation($input: ImportImageInput!) {
    importImage(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on ImportImagePayload {
        timedOut
        job {
          id namespace stream status attempts lastError tags additionalTags
          images { tag status digest dockerImageReference reason message }
        }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const REEVALUATE = graphql(
  `
  mutation($input: ReevaluateTagInput!) {
    reevaluateTag(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on ReevaluateTagPayload {
        timedOut
        job { id namespace stream status attempts lastError images { tag status digest reason message } }
        imageStreamTag {
          name dockerImageReference
          policy { ...PolicyFields }
        }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems, PolicyFields],
);

export const IMPORT_DRY_RUN = graphql(
  `
  mutation($input: ImportImageInput!) {
    importImage(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on ImportImagePayload {
        preview {
          namespace stream tag from importMode sourceDigest digest mediaType dockerImageReference
          platforms { digest os architecture variant }
          os architecture variant created author size layerCount labelCount
          config { cmd entrypoint env labels { key value } exposedPorts user workingDir volumes }
          currentDigest changed
        }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const ROLLBACK = graphql(
  `
  mutation($input: RollbackTagInput!) {
    rollbackTag(input: $input) {
      __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
      ... on RollbackTagPayload {
        message historyIndex
        imageStreamTag { name dockerImageReference image { digest } }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems, ConflictCandidates],
);

export const PRUNE = graphql(
  `
  mutation($input: PruneImagesInput!) {
    pruneImages(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on PruneImagesPayload {
        dryRun images
        historyItems { namespace stream tag index dockerImageReference image created }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const CREATE_SECRET = graphql(
  `
  mutation($input: PullSecretInput!) {
    createPullSecret(input: $input) {
      __typename ...ErrorFields ...ValidationProblems ...ConflictCandidates
      ... on PullSecretPayload { pullSecret { namespace name registries createdAt } }
    }
  }
`,
  [ErrorFields, ValidationProblems, ConflictCandidates],
);

export const CREATE_TOKEN = graphql(
  `
  mutation($input: CreateTokenInput!) {
    createToken(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on CreateTokenPayload { token apiToken { id subject groups clusterAdmin } }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const ADD_ROLE_BINDING = graphql(
  `
  mutation($input: RoleBindingInput!) {
    addRoleBinding(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on RoleBindingPayload { roleBinding { namespace role subjectKind subjectName } }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const REMOVE_ROLE_BINDING = graphql(
  `
  mutation($input: RoleBindingInput!) {
    removeRoleBinding(input: $input) {
      __typename ...ErrorFields
      ... on RoleBindingPayload { roleBinding { namespace role subjectKind subjectName } }
    }
  }
`,
  [ErrorFields],
);

// watch: tag changes over graphql-ws.

export const TAG_CHANGED = graphql(`
  subscription($namespace: String!, $stream: String, $tag: String, $since: String) {
    tagChanged(namespace: $namespace, stream: $stream, tag: $tag, since: $since) {
      cursor type cause time namespace stream tag
      previous { digest dockerImageReference }
      current { digest dockerImageReference }
      importFailure { reason message }
    }
  }
`);

// Robot tokens and the caller: `create token --role`, `get tokens`, `delete token/…`, `whoami`.

const RobotTokenFields = graphql(`
  fragment RobotTokenFields on ApiToken {
    id name namespace role description expiresAt lastUsedAt createdBy createdAt revokedAt
  }
`);

export const CREATE_ROBOT_TOKEN = graphql(
  `
  mutation($input: CreateRobotTokenInput!) {
    createRobotToken(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on RobotTokenPayload { token apiToken { ...RobotTokenFields } }
    }
  }
`,
  [ErrorFields, ValidationProblems, RobotTokenFields],
);

export const ROBOT_TOKENS = graphql(
  `
  query($namespace: String!) { robotTokens(namespace: $namespace) { ...RobotTokenFields } }
`,
  [RobotTokenFields],
);

export const REVOKE_ROBOT_TOKEN = graphql(
  `
  mutation($namespace: String!, $name: String!) {
    revokeRobotToken(namespace: $namespace, name: $name) {
      __typename ...ErrorFields
      ... on RobotTokenPayload { apiToken { ...RobotTokenFields } }
    }
  }
`,
  [ErrorFields, RobotTokenFields],
);

export const WHOAMI = graphql(`
  query { me { subject groups clusterAdmin namespaces tokenId expiresAt scope { namespace role } } }
`);

// Webhooks: create, list, and describe with recent deliveries.

export const CREATE_WEBHOOK = graphql(
  `
  mutation($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on CreateWebhookPayload { secret webhook { namespace name url format } }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const WebhookFields = graphql(`
  fragment WebhookFields on Webhook {
    namespace name url format enabled state
    filter { streams tags types causes }
    condition { reason message time }
    deliveredThrough nextAttemptAt createdAt
  }
`);

export const LIST_WEBHOOKS = graphql(
  `
  query($namespace: String!) { webhooks(namespace: $namespace) { ...WebhookFields } }
`,
  [WebhookFields],
);

/** The webhook and its latest deliveries (describe webhook/<name>). */
export const DESCRIBE_WEBHOOK = graphql(
  `
  query($namespace: String!, $name: String!) {
    webhook(namespace: $namespace, name: $name) { ...WebhookFields }
    webhookDeliveries(namespace: $namespace, webhook: $name, first: 10) {
      deliveries { eventCursor attempt outcome statusCode durationMs error nextRetryAt time }
    }
  }
`,
  [WebhookFields],
);

// Webhook receivers: create (the path and secret shown once), list, delete.

export const CREATE_RECEIVER = graphql(
  `
  mutation($input: CreateReceiverInput!) {
    createReceiver(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on CreateReceiverPayload { path secret receiver { namespace name kind registry } }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

export const LIST_RECEIVERS = graphql(`
  query($namespace: String!) {
    receivers(namespace: $namespace) {
      namespace name kind registry signed createdBy createdAt lastCalledAt
    }
  }
`);

export const DELETE_RECEIVER = graphql(
  `
  mutation($input: ReceiverRefInput!) {
    deleteReceiver(input: $input) {
      __typename ...ErrorFields
      ... on ReceiverPayload { receiver { name } }
    }
  }
`,
  [ErrorFields],
);

export const PRUNE_HISTORY = graphql(
  `
  mutation($input: PruneTagHistoryInput!) {
    pruneTagHistory(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on PruneTagHistoryPayload {
        dryRun historyItemCount
        historyItems { namespace stream tag index dockerImageReference image created }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);

// Retention policies: set, list, delete and run by hand.

export const RetentionPolicyFields = graphql(`
  fragment RetentionPolicyFields on RetentionPolicy {
    namespace name keepTagRevisions keepYoungerThanMinutes streams includeTags excludeTags
    intervalMinutes enabled nextRunAt lastRunAt
    lastRun { outcome trigger historyItemCount tagCount message }
    createdAt
  }
`);

export const SET_RETENTION_POLICY = graphql(
  `
  mutation($input: SetRetentionPolicyInput!) {
    setRetentionPolicy(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on SetRetentionPolicyPayload { created policy { ...RetentionPolicyFields } }
    }
  }
`,
  [ErrorFields, ValidationProblems, RetentionPolicyFields],
);

export const LIST_RETENTION_POLICIES = graphql(
  `
  query($namespace: String!) {
    retentionPolicies(namespace: $namespace) { ...RetentionPolicyFields }
  }
`,
  [RetentionPolicyFields],
);

export const DELETE_RETENTION_POLICY = graphql(
  `
  mutation($input: DeleteRetentionPolicyInput!) {
    deleteRetentionPolicy(input: $input) {
      __typename ...ErrorFields
      ... on DeleteRetentionPolicyPayload { policy { name } }
    }
  }
`,
  [ErrorFields],
);

export const RUN_RETENTION_POLICY = graphql(
  `
  mutation($input: RunRetentionPolicyInput!) {
    runRetentionPolicy(input: $input) {
      __typename ...ErrorFields
      ... on RunRetentionPolicyPayload {
        report {
          dryRun historyItemCount
          historyItems { namespace stream tag index dockerImageReference image created }
        }
      }
    }
  }
`,
  [ErrorFields],
);

/** One ImageStream applied all or nothing (tagraph apply -f). */
export const APPLY_STREAM = graphql(
  `
  mutation($input: ApplyImageStreamInput!) {
    applyImageStream(input: $input) {
      __typename ...ErrorFields ...ValidationProblems
      ... on ApplyImageStreamPayload {
        status
        failures { tag code message field problems { field message } }
      }
    }
  }
`,
  [ErrorFields, ValidationProblems],
);
