// The committed SDLs (public and federation subgraph), document types and migrations match the code.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  documentTypesFile,
  printedDocumentTypes,
  printedSchema,
  printedSubgraph,
  schemaFile,
  subgraphFile,
} from '../../src/schema/print.ts';

describe('drift', () => {
  it('schema/schema.graphql is the printed Pothos schema (run npm run schema:print)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printedSchema());
  });

  it('schema/subgraph.graphql is the printed federation subgraph (run npm run schema:print)', () => {
    expect(readFileSync(subgraphFile, 'utf8')).toBe(printedSubgraph());
  });

  it('schema/graphql-env.d.ts holds the printed schema’s types (run npm run schema:print)', () => {
    expect(readFileSync(documentTypesFile, 'utf8')).toBe(printedDocumentTypes());
  });

  it('drizzle/ holds a migration for every change to src/db/schema.ts (run npm run db:generate)', () => {
    const out = mkdtempSync(join(tmpdir(), 'tagraph-drift-'));
    try {
      cpSync('drizzle', out, { recursive: true });
      const before = readdirSync(out).sort();
      const log = execFileSync(
        'npx',
        [
          'drizzle-kit',
          'generate',
          '--dialect',
          'postgresql',
          '--schema',
          'src/db/schema.ts',
          '--out',
          out,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(readdirSync(out).sort(), log).toEqual(before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
