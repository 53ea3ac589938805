// Writes schema/schema.graphql from the Pothos schema (sorted); with --check, fails on drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.ts';

export const schemaFile = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));

export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}

function main(): void {
  const printed = printedSchema();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(schemaFile, 'utf8');
    } catch {}
    if (committed !== printed) {
      console.error('schema/schema.graphql is out of date: run `npm run schema:print`');
      process.exit(1);
    }
    console.log('schema/schema.graphql is up to date');
    return;
  }
  writeFileSync(schemaFile, printed);
  console.log(`wrote ${schemaFile}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
