// The database target of the current test file, made from the project's migrated template.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { type Database, type DatabaseTarget, openDatabase } from '../../src/db/client.ts';
import { copyTemplate, withDatabase } from '../setup/global.ts';

let current: DatabaseTarget | undefined;

/** The database this test file owns (set up by test/setup/per-file.ts). */
export function fileDatabase(): DatabaseTarget {
  if (!current) throw new Error('no test database: is test/setup/per-file.ts in setupFiles?');
  return current;
}

/** This file's database, which must be on Postgres (tests of test/postgres). */
export function postgresFileDatabase(): Extract<DatabaseTarget, { kind: 'postgres' }> {
  const target = fileDatabase();
  if (target.kind !== 'postgres') throw new Error('a Postgres test database was expected');
  return target;
}

/**
 * Opens this file's database with its own pool: `poolSize: 1` makes every statement run on the
 * one connection that a later statement asks about (prepared statements, plans).
 */
export function openFileDatabase(options: { poolSize?: number } = {}): Promise<Database> {
  return openDatabase({ ...fileDatabase(), ...options });
}

/**
 * Runs `body` on this file's database through one connection (as `openFileDatabase` with
 * `poolSize: 1`), then closes it.
 */
export async function onOneConnection<T>(body: (db: Database['db']) => Promise<T>): Promise<T> {
  const database = await openFileDatabase({ poolSize: 1 });
  try {
    return await body(database.db);
  } finally {
    await database.close();
  }
}

export async function createFileDatabase(
  kind: 'postgres' | 'pglite',
  serverUrl: string,
  template: string,
): Promise<() => Promise<void>> {
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  if (kind === 'postgres') {
    const name = `${template}_f_${suffix}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name} template ${template}`);
    current = { kind, url: withDatabase(serverUrl, name), poolSize: 5 };
    return async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const root = mkdtempSync(join(tmpdir(), 'tagraph-file-'));
  const dataDir = join(root, 'data');
  copyTemplate(template, dataDir);
  current = { kind, dataDir };
  return async () => rmSync(root, { recursive: true, force: true });
}
