// The CLI's persisted-document manifest: the build ships every document the CLI can send
// (dist/cli-documents.json), in a format TAGRAPH_TRUSTED_DOCUMENTS reads.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textHash } from '../../src/cli/graphql.ts';
import { cliDocuments } from '../../src/cli/persisted.ts';
import { loadConfig } from '../../src/config.ts';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const CLI_SOURCES = join(REPOSITORY, 'src', 'cli');
const out = mkdtempSync(join(tmpdir(), 'tagraph-cli-manifest-'));
const manifestPath = join(out, 'cli-documents.json');
let built: Record<string, string>;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [
    join(REPOSITORY, 'esbuild.config.mjs'),
    '--outdir',
    out,
  ]);
  built = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The CLI's documents (by export name) that `manifest` lacks. */
function missing(manifest: Record<string, string>): string[] {
  return [...cliDocuments()]
    .filter(([, text]) => manifest[textHash(text)] !== text)
    .map(([name]) => name);
}

/** The CLI's source files, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe("the CLI's persisted documents", () => {
  it('the built manifest holds every document the CLI sends, and nothing else', () => {
    expect(missing(built)).toEqual([]);
    const texts = new Set(cliDocuments().values());
    expect(Object.keys(built)).toHaveLength(texts.size);
    // The check fails for a manifest without one of them.
    const [name, text] = [...cliDocuments()][0]!;
    const { [textHash(text)]: _left, ...short } = built;
    expect(missing(short)).toEqual([name]);
  });

  it('sends each batched document with every count of copies a request may hold', () => {
    const names = [...cliDocuments().keys()];
    // HISTORY: up to HISTORIES_PER_REQUEST copies; the batched mutations up to BATCH_SIZE.
    expect(names.filter((name) => name.startsWith('HISTORY×'))).toHaveLength(5);
    expect(names.filter((name) => name.startsWith('DELETE_TAG×'))).toHaveLength(8);
    expect(names).toContain('APPLY_TAG×8');
  });

  it('finds every operation of documents.ts, and no other CLI file writes one', () => {
    const source = readFileSync(join(CLI_SOURCES, 'documents.ts'), 'utf8');
    const written = source.match(/^\s*(query|mutation|subscription)\b[^\n]*\{/gm) ?? [];
    const listed = new Set([...cliDocuments().keys()].map((name) => name.replace(/×\d+$/, '')));
    expect(listed.size).toBe(written.length);
    const elsewhere = sources(CLI_SOURCES)
      .filter((file) => !/\/(documents|graphql|persisted)\.ts$/.test(file))
      .filter((file) =>
        /\bgraphql\(|\bcopies\(|`\s*(query|mutation|subscription)(\s+\w+)?\s*[({]/.test(
          readFileSync(file, 'utf8'),
        ),
      );
    expect(elsewhere).toEqual([]);
  });

  it('is a manifest TAGRAPH_TRUSTED_DOCUMENTS reads, alone or with others', () => {
    const { trustedDocuments } = loadConfig({
      TAGRAPH_TRUSTED_DOCUMENTS: `${manifestPath},${manifestPath}`,
    });
    expect(trustedDocuments?.documents.size).toBe(Object.keys(built).length);
    expect(() => loadConfig({ TAGRAPH_TRUSTED_DOCUMENTS: ' , ' })).toThrow(/names no file/);
  });
});
