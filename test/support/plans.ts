// Postgres query plans in tests: EXPLAIN (FORMAT JSON) of a statement, and reading the plan tree.
import { type SQL, sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/client.ts';

export type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

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
