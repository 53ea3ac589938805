// Driving imports through the public API: importImage, the app's own worker, and the tag after.
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

export interface JobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  attempts: number;
  lastError: string | null;
  tags: string[];
  cause: string;
  additionalTags: string[];
  tagListTruncated: boolean;
  images: {
    tag: string;
    status: string;
    digest: string | null;
    dockerImageReference: string | null;
    reason: string | null;
    message: string | null;
  }[];
}

export const JOB_FIELDS = `id status attempts lastError tags cause additionalTags tagListTruncated
  images { tag status digest dockerImageReference reason message }`;

const IMPORT = `mutation($input: ImportImageInput!) {
  importImage(input: $input) {
    __typename
    ... on ImportImagePayload { timedOut job { ${JOB_FIELDS} } }
    ... on Error { code field message }
  }
}`;

/** Calls importImage; returns the payload or the typed error as the API gives it. */
export async function callImportImage(app: TestApp, input: Record<string, unknown>) {
  const result = await app.graphql<{ importImage: Record<string, unknown> }>(IMPORT, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.importImage as {
    __typename: string;
    job?: JobView;
    timedOut?: boolean;
    code?: string;
    message?: string;
    field?: string;
  };
}

/** Runs queued imports with the app's worker until none is due; returns how many ran. */
export async function drainImports(app: TestApp): Promise<number> {
  let total = 0;
  for (;;) {
    const ran = await app.importer.worker.runOnce();
    if (ran === 0) return total;
    total += ran;
  }
}

export async function getJob(app: TestApp, id: string): Promise<JobView> {
  const result = await app.graphql<{ importJob: JobView }>(
    `query($id: ID!) { importJob(id: $id) { ${JOB_FIELDS} } }`,
    { id },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.importJob;
}

/**
 * importImage, confirmed and allowed to reach insecure registries, as an editor of `namespace`;
 * returns a reader of the queued job as that editor.
 */
export async function enqueueAsEditor(
  app: TestApp,
  namespace: string,
  input: Record<string, unknown>,
): Promise<() => Promise<JobView>> {
  const editor = app.as(await app.member(namespace, 'EDITOR'));
  const payload = await callImportImage(editor, {
    namespace,
    confirm: true,
    insecure: true,
    ...input,
  });
  expect(payload.__typename, JSON.stringify(payload)).toBe('ImportImagePayload');
  const id = payload.job!.id;
  return () => getJob(editor, id);
}

/** enqueueAsEditor, then the app's worker until nothing is due; the job as it ended. */
export async function importAsEditor(
  app: TestApp,
  namespace: string,
  input: Record<string, unknown>,
): Promise<JobView> {
  const read = await enqueueAsEditor(app, namespace, input);
  await drainImports(app);
  return read();
}

/** importImage, then the worker, then the job as it ended (or stands, if it is to be retried). */
export async function importNow(app: TestApp, input: Record<string, unknown>): Promise<JobView> {
  const payload = await callImportImage(app, input);
  expect(payload.__typename, JSON.stringify(payload)).toBe('ImportImagePayload');
  await drainImports(app);
  return getJob(app, payload.job!.id);
}

/**
 * importNow of `from` into `image` (stream[:tag]) of `namespace`, confirmed and allowed to reach
 * the test registries over plain HTTP; `extra` over that (scheduled, importMode, …).
 */
export function importFrom(
  app: TestApp,
  namespace: string,
  image: string,
  from: string,
  extra: Record<string, unknown> = {},
): Promise<JobView> {
  return importNow(app, { namespace, image, from, confirm: true, insecure: true, ...extra });
}

export interface TagView {
  name: string;
  importPending: boolean;
  pullSpec: string | null;
  spec: { generation: number } | null;
  image: {
    digest: string;
    mediaType: string;
    architecture: string | null;
    os: string | null;
    dockerImageReference: string | null;
    config: {
      cmd: string[] | null;
      env: string[] | null;
      labels: { key: string; value: string }[];
    } | null;
    layers: { digest: string; size: number }[];
    manifests: { digest: string; architecture: string | null; os: string | null }[];
  } | null;
  history: {
    nodes: { dockerImageReference: string; generation: number; image: { digest: string } | null }[];
  };
  conditions: {
    type: string;
    status: string;
    reason: string;
    message: string;
    generation: number;
    lastTransitionTime: string;
  }[];
}

export async function getTag(app: TestApp, namespace: string, ref: string): Promise<TagView> {
  const result = await app.graphql<{ imageStreamTag: TagView & { __typename: string } }>(
    `query($ns: String!, $ref: String!) {
      imageStreamTag(namespace: $ns, ref: $ref) {
        __typename
        ... on ImageStreamTag {
          name importPending pullSpec spec { generation }
          image {
            digest mediaType architecture os dockerImageReference
            config { cmd env labels { key value } }
            layers { digest size }
            manifests { digest architecture os }
          }
          history { nodes { dockerImageReference generation image { digest } } }
          conditions { type status reason message generation lastTransitionTime }
        }
      }
    }`,
    { ns: namespace, ref },
  );
  expect(result.errors).toBeUndefined();
  expect(result.data!.imageStreamTag?.__typename).toBe('ImageStreamTag');
  return result.data!.imageStreamTag;
}

/** getTag as an image puller of `namespace`, the least role that may read the tag. */
export async function getTagAsPuller(app: TestApp, namespace: string, ref: string) {
  return getTag(app.as(await app.member(namespace, 'IMAGE_PULLER')), namespace, ref);
}

/** Change events of a namespace, oldest first: cause, tag and digest after. */
export async function tagEvents(app: TestApp, namespace: string) {
  const result = await app.graphql<{
    tagEvents: {
      events: {
        cause: string;
        tag: string;
        current: { digest: string | null } | null;
        importFailure: { reason: string } | null;
      }[];
    };
  }>(
    `query($ns: String!) { tagEvents(namespace: $ns, first: 100) {
      events { cause tag current { digest } importFailure { reason } } } }`,
    { ns: namespace },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.tagEvents.events;
}

/**
 * Makes the scheduled tags of a namespace (of one stream, when given) due now, as if their
 * interval had passed.
 */
export async function makeDue(app: TestApp, namespace: string, stream?: string): Promise<void> {
  await app.database.db.execute(sql`
    update tags set next_import_at = now() - interval '1 second'
    from image_streams s where s.id = tags.stream_id and s.namespace = ${namespace}
      and (${stream ?? null}::text is null or s.name = ${stream ?? null})
      and tags.next_import_at is not null`);
}
