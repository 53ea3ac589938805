// Starting the server on Postgres as a user does: a database that does not exist is one line.
import { describe, expect, it } from 'vitest';
import { spawnEntry } from '../support/app.ts';
import { postgresFileDatabase } from '../support/database.ts';

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

describe('a Postgres database that does not exist', () => {
  it('is one line saying so and how to create it, without the password; exit 1', async () => {
    const target = postgresFileDatabase();
    const url = new URL(target.url);
    url.username = url.username || 'postgres';
    url.password = 'pw-never-shown-4711';
    url.pathname = '/tagraph_no_such_database';
    const run = spawnEntry('main', {
      DATABASE_URL: url.toString(),
      TAGRAPH_SECRET_KEY: '07'.repeat(32),
      TAGRAPH_PORT: '0',
      TAGRAPH_LOG_FORMAT: '',
    });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    const said = lines(run.stderr());
    expect(said, run.output()).toHaveLength(1);
    expect(said[0]).toContain('"tagraph_no_such_database" does not exist');
    expect(said[0]).toContain('createdb');
    expect(said[0]).toContain('CREATE DATABASE');
    expect(run.output()).not.toContain('pw-never-shown-4711');
  });
});
