// Postgres query plans in tests: EXPLAIN (FORMAT JSON) of a statement, and reading the plan tree.
import { type SQL, sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/client.ts';

export type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

/** Refreshes the planner's statistics of `tables` after a bulk seed, so plans see the data. */
export async function analyze(
  db: { execute(query: SQL): Promise<unknown> },
  ...tables: string[]
): Promise<void> {
  for (const table of tables) await db.execute(sql`analyze ${sql.identifier(table)}`);
}

/** The root plan node Postgres would run `statement` with (inside `db`'s transaction, if any). */
export async function explainPlan(
  db: { execute(query: SQL): Promise<unknown> },
  statement: SQL,
): Promise<PlanNode> {
  const [row] = rowsOf<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    await db.execute(sql`explain (format json) ${statement}`),
  );
  return row!['QUERY PLAN'][0].Plan;
}

/** A statement drizzle built (`.toSQL()`), as SQL with its parameters bound in place. */
export function builtStatement(built: { sql: string; params: unknown[] }): SQL {
  const pieces = built.sql.split(/\$(\d+)/);
  return sql.join(
    pieces.map((piece, i) =>
      i % 2 === 0 ? sql.raw(piece) : sql`${built.params[Number(piece) - 1]}`,
    ),
  );
}

/**
 * A page statement drizzle built (`.toSQL()`), planned and run: the root plan node Postgres
 * chose and the rows the statement returns.
 */
export async function planAndRows<Row>(
  db: { execute(query: SQL): Promise<unknown> },
  built: { sql: string; params: unknown[] },
): Promise<{ plan: PlanNode; rows: Row[] }> {
  const statement = builtStatement(built);
  const plan = await explainPlan(db, statement);
  const rows = rowsOf<Row>(await db.execute(sql`select * from (${statement}) page`));
  return { plan, rows };
}

/** Node types of a plan, depth first, each with the index its scan used. */
export function planNodes(plan: PlanNode): string[] {
  const own = `${plan['Node Type']}${plan['Index Name'] ? ` ${plan['Index Name']}` : ''}`;
  return [own, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** The first node, depth first, that scans `index`. */
export function findNode(plan: PlanNode, index: string): PlanNode | undefined {
  if (plan['Index Name'] === index) return plan;
  for (const child of plan.Plans ?? []) {
    const found = findNode(child, index);
    if (found) return found;
  }
  return undefined;
}
