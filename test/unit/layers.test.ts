// The layer rules of src/ (docs/architecture.md, "Layers"), checked over every file's imports.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

type Layer =
  | 'errors'
  | 'domain'
  | 'support'
  | 'registry'
  | 'db'
  | 'auth'
  | 'events'
  | 'services'
  | 'importer'
  | 'webhooks'
  | 'push'
  | 'graphql'
  | 'server'
  | 'entry'
  | 'cli';

/** Each file's layer, by the first entry that matches its path under src/ (a folder or a file). */
const LAYER_OF: [prefix: string, layer: Layer][] = [
  ['errors.ts', 'errors'],
  ['domain/', 'domain'],
  ['config.ts', 'support'],
  ['tracing.ts', 'support'],
  ['log.ts', 'support'],
  ['coalesce.ts', 'support'],
  ['secrets.ts', 'support'],
  ['packageRoot.ts', 'support'],
  ['metrics.ts', 'support'],
  ['process.ts', 'support'],
  ['inputs.ts', 'support'],
  ['registry/', 'registry'],
  ['db/', 'db'],
  ['auth/', 'auth'],
  ['events/', 'events'],
  ['services/', 'services'],
  ['importer/', 'importer'],
  ['webhooks/', 'webhooks'],
  ['push/', 'push'],
  ['schema/', 'graphql'],
  ['builder.ts', 'graphql'],
  ['context.ts', 'graphql'],
  ['queryCost.ts', 'graphql'],
  ['limits.ts', 'graphql'],
  ['graphiql.ts', 'graphql'],
  ['server.ts', 'server'],
  ['server/', 'server'],
  ['main.ts', 'entry'],
  ['worker.ts', 'entry'],
  ['migrate.ts', 'entry'],
  ['cli/', 'cli'],
];

/** The other layers a layer's files may import (its own are always allowed). */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  errors: [],
  domain: ['errors'],
  // config.ts parses settings with the parsers of what they configure (tokens, egress entries).
  support: ['errors', 'domain', 'registry', 'db', 'auth'],
  registry: ['errors', 'domain', 'support'],
  db: ['domain', 'support'],
  auth: ['errors', 'domain', 'support', 'db'],
  events: ['errors', 'domain', 'support', 'db', 'auth'],
  // Services that manage webhooks validate URLs and send test pings through the webhooks layer.
  services: ['errors', 'domain', 'support', 'db', 'auth', 'events', 'webhooks'],
  importer: ['errors', 'domain', 'support', 'registry', 'db', 'events', 'services'],
  // Outbound webhook delivery: signs and sends events through the registry client's egress guard.
  webhooks: ['errors', 'domain', 'support', 'registry', 'db', 'events'],
  push: ['errors', 'domain', 'support', 'registry', 'db', 'events', 'services'],
  graphql: ['errors', 'domain', 'support', 'db', 'auth', 'events', 'services', 'webhooks'],
  server: [
    'errors',
    'domain',
    'support',
    'registry',
    'db',
    'auth',
    'events',
    'services',
    'importer',
    'webhooks',
    'push',
    'graphql',
  ],
  entry: ['support', 'db', 'importer', 'webhooks', 'server'],
  cli: ['errors', 'domain'],
};

/** The gateway's and the worker's entry points: the worker process never loads the gateway. */
const WORKER_MAY_NOT_IMPORT: Layer[] = ['server', 'graphql', 'push'];

/** The one file outside src/ that src/ may import, relative to src/. */
const GENERATED_SCHEMA_TYPES = '../schema/graphql-env.d.ts';

interface Edge {
  from: string;
  to: string;
}

function layerOf(file: string): Layer | undefined {
  return LAYER_OF.find(([prefix]) =>
    prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix,
  )?.[1];
}

/** Every import of a file under src/ that names another file under src/ (paths relative to src/). */
function importGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = (readdirSync(SRC, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split('\\').join('/'));
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    // Static imports and re-exports (type-only ones included) and dynamic import() calls.
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package or a node: builtin
      const target = resolve(SRC, dirname(file), fileName);
      const to = relative(SRC, target).split('\\').join('/');
      // The printed schema's types (schema/graphql-env.d.ts), which the CLI's documents are typed by.
      if (to === GENERATED_SCHEMA_TYPES && existsSync(target)) continue;
      if (!existsSync(target) || to.startsWith('..')) unresolved.push(`${file} → ${fileName}`);
      else edges.push({ from: file, to });
    }
  }
  return { files, edges, unresolved };
}

/** The imports that break the rules, as `from → to (fromLayer → toLayer)`. */
function violations(edges: Edge[]): string[] {
  const found: string[] = [];
  for (const { from, to } of edges) {
    const fromLayer = layerOf(from);
    const toLayer = layerOf(to);
    if (!fromLayer || !toLayer || fromLayer === toLayer) continue;
    const refused =
      !MAY_IMPORT[fromLayer].includes(toLayer) ||
      (from === 'worker.ts' && WORKER_MAY_NOT_IMPORT.includes(toLayer));
    if (refused) found.push(`${from} → ${to} (${fromLayer} → ${toLayer})`);
  }
  return found;
}

describe('layers of src/', () => {
  const { files, edges, unresolved } = importGraph();

  it('reads the import graph (every relative import names a file under src/)', () => {
    expect(unresolved).toEqual([]);
    // A parse that found nothing would pass every rule below.
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({
      from: 'services/importImage.ts',
      to: 'services/importQueue.ts',
    });
  });

  it('places every file in a layer', () => {
    expect(files.filter((file) => !layerOf(file))).toEqual([]);
  });

  it('has no import against the rules', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('refuses imports that point outwards', () => {
    expect(
      violations([
        { from: 'domain/names.ts', to: 'db/schema.ts' },
        { from: 'registry/manifests.ts', to: 'db/schema.ts' },
        { from: 'services/importImage.ts', to: 'importer/worker.ts' },
        { from: 'services/tagging.ts', to: 'schema/tags.ts' },
        { from: 'db/schema.ts', to: 'services/images.ts' },
        { from: 'cli/main.ts', to: 'services/tagging.ts' },
        { from: 'worker.ts', to: 'server.ts' },
        { from: 'errors.ts', to: 'domain/names.ts' },
      ]),
    ).toHaveLength(8);
    expect(
      violations([
        { from: 'importer/worker.ts', to: 'services/importQueue.ts' },
        { from: 'db/schema.ts', to: 'domain/imageConfig.ts' },
        { from: 'main.ts', to: 'server.ts' },
      ]),
    ).toEqual([]);
  });
});
