// Every file of src/, web/ and of the test and bench helpers opens with a comment saying what it is for.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FOLDERS = ['src', 'test/support', 'test/setup', 'bench/lib', 'web'];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => join(folder, name));
}

/** The file's first line after a shebang, or null when that is not a `// ` comment with words. */
function purposeLine(text: string): string | null {
  const lines = text.split('\n');
  const first = lines[0]?.startsWith('#!') ? lines[1] : lines[0];
  return first && /^\/\/ \S.{9,}/.test(first) ? first : null;
}

describe('purpose comments', () => {
  for (const folder of FOLDERS) {
    it(`open every file of ${folder}/`, () => {
      const files = sourceFiles(folder);
      expect(files.length).toBeGreaterThan(0);
      const missing = files.filter(
        (file) => purposeLine(readFileSync(join(ROOT, file), 'utf8')) === null,
      );
      expect(missing).toEqual([]);
    });
  }

  it('are told apart from what is not one', () => {
    expect(purposeLine('// Parses image references.\nexport {}')).not.toBeNull();
    expect(purposeLine('#!/usr/bin/env node\n// The executable of the build.\n')).not.toBeNull();
    expect(purposeLine("import { x } from './x.ts';\n")).toBeNull();
    expect(purposeLine('/** A doc comment of the first export. */\n')).toBeNull();
    expect(purposeLine('//\n// later\n')).toBeNull();
  });
});
