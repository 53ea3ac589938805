// What the CLI's queries return (streams, tags, specs), built with defaults for unit tests of its
// output and manifests: a test spells out only what it is about.
import type { StreamView, TagView } from '../../src/cli/queries.ts';

type SpecView = NonNullable<TagView['spec']>;

/** A tag with no spec, policy, conditions or history, and `overrides` over that. */
export function tagView(name: string, overrides: Partial<TagView> = {}): TagView {
  return {
    name,
    importPending: false,
    dangling: false,
    policy: null,
    spec: null,
    conditions: [],
    history: [],
    ...overrides,
  };
}

/** A spec (generation 2) following `from` with the default import and reference policies, `extra` over them. */
export const specView = (
  from: Pick<NonNullable<SpecView['from']>, 'kind' | 'name'>,
  extra: Partial<SpecView> = {},
): SpecView => ({
  generation: 2,
  reference: false,
  annotations: [],
  from: { ...from, namespace: null },
  importPolicy: { importMode: 'Legacy', insecure: false, scheduled: false },
  referencePolicy: { type: 'Source' },
  ...extra,
});

/** Stream `name` of namespace `demo` on registry.test, made and changed 2025-01-01, `overrides` over that. */
export function streamView(name: string, overrides: Partial<StreamView> = {}): StreamView {
  return {
    id: 'SW1hZ2VTdHJlYW06MQ==',
    name,
    namespace: 'demo',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    generation: 2,
    resourceVersion: '3',
    pullSpec: `registry.test:5000/demo/${name}`,
    dockerImageRepository: null,
    uniqueImageCount: 1,
    labels: [],
    annotations: [],
    lookupPolicy: { local: false },
    tags: [],
    ...overrides,
  };
}
