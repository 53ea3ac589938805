// The web UI's persisted-document manifest (dist/web-documents.json): every document the page
// sends, by the SHA-256 of its text, and no document written anywhere but web/src/queries.ts.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { webDocuments } from '../../web/build.mjs';
import * as queries from '../../web/src/queries.ts';

const WEB_SOURCES = fileURLToPath(new URL('../../web/src', import.meta.url));
const OPERATION = /^\s*(query|mutation|subscription)\b/;

describe("the web UI's persisted documents", () => {
  it('lists every operation queries.ts exports, by the SHA-256 of its text', async () => {
    const manifest = await webDocuments(esbuild);
    const operations = (Object.values(queries) as unknown[]).filter(
      (value): value is string => typeof value === 'string' && OPERATION.test(value),
    );
    expect(operations.length).toBeGreaterThan(10);
    for (const text of operations) {
      expect(manifest[createHash('sha256').update(text).digest('hex')]).toBe(text);
    }
    expect(Object.keys(manifest)).toHaveLength(new Set(operations).size);
  });

  it('finds documents nowhere else in the page', () => {
    const elsewhere = readdirSync(WEB_SOURCES)
      .filter((name) => /\.tsx?$/.test(name) && name !== 'queries.ts')
      .filter((name) =>
        /`\s*(query|mutation|subscription)(\s+\w+)?\s*[({]/.test(
          readFileSync(join(WEB_SOURCES, name), 'utf8'),
        ),
      );
    expect(elsewhere).toEqual([]);
  });
});
