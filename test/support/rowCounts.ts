// Row counts of every table of the app's schema: compared before and after a refused call, they
// show that nothing was written.
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/client.ts';
import type { TestApp } from './app.ts';

/**
 * `table → rows` for every base table in the public schema. Bookkeeping is excluded: migrations,
 * and the scheduler's count of checks per minute (a pass that claims a tag counts it there even
 * when the check then writes nothing).
 */
export async function rowCounts(app: TestApp): Promise<Record<string, number>> {
  const tables = rowsOf<{ name: string }>(
    await app.database.db.execute(sql`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '%migrations%'
        and table_name <> 'scheduled_import_windows'
      order by table_name`),
  ).map((t) => t.name);
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = rowsOf<{ n: number }>(
      await app.database.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`),
    );
    counts[table] = Number(row!.n);
  }
  return counts;
}
