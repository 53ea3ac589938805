// A namespace's named objects (webhooks, receivers, retention policies): the refusal, the
// not-found answer, and the create (with its per-namespace cap), list, get, update and delete
// that each such table shares.

import type { InferSelectModel } from 'drizzle-orm';
import { and, eq, sql } from 'drizzle-orm';
import type { PgColumn, PgInsertValue, PgTable, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker } from '../auth/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { conflict, invalid, notFound, ok, type Result } from '../errors.ts';
import { ensureNamespace } from './imageStreams.ts';

type NamedTable = PgTable & { namespace: PgColumn; name: PgColumn };

export interface NamespacedObjectsSpec<T extends NamedTable> {
  table: T;
  /** The role in the namespace every operation on these objects needs. */
  role: 'editor' | 'admin';
  /** The resource a refusal names (`webhooks`, `receivers`, …). */
  resource: string;
  /** What one object is called in a not-found message. */
  noun: string;
  /** What several are called in the at-most message. */
  plural: string;
  /** Objects one namespace may have, which bounds the list. */
  max: number;
}

export function namespacedObjects<T extends NamedTable>(spec: NamespacedObjectsSpec<T>) {
  type Row = InferSelectModel<T>;
  const { table } = spec;
  const refused = (access: AccessChecker, namespace: string, verb: string) =>
    refusal(access, spec.role, namespace, 'namespace', { verb, resource: spec.resource });
  const missing = (namespace: string, name: string) =>
    notFound(`${spec.noun} ${namespace}/${name} not found`, 'name');
  const named = (namespace: string, name: string) =>
    and(eq(table.namespace, namespace), eq(table.name, name));
  /** The one row `query` answers for the object named, or NOT_FOUND. */
  const found = async (
    namespace: string,
    name: string,
    query: () => PromiseLike<unknown>,
  ): Promise<Result<Row>> => {
    const [row] = (await query()) as Row[];
    return row ? ok(row) : missing(namespace, name);
  };
  /** found(), once the caller may `verb` the namespace's objects. */
  const one = async (
    access: AccessChecker,
    namespace: string,
    name: string,
    verb: string,
    query: () => PromiseLike<unknown>,
  ): Promise<Result<Row>> =>
    (await refused(access, namespace, verb)) ?? found(namespace, name, query);

  return {
    refused,
    notFound: missing,
    named,
    /**
     * Inserts a new object inside the caller's transaction, creating its namespace when need be:
     * refused when the namespace has `max` objects already, CONFLICT when the name is taken.
     */
    async create(tx: Tx, values: PgInsertValue<T>): Promise<Result<Row>> {
      const { namespace, name } = values as { namespace: string; name: string };
      await ensureNamespace(tx, namespace);
      const [count] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(table as PgTable)
        .where(eq(table.namespace, namespace));
      if (Number(count?.n ?? 0) >= spec.max) {
        return invalid([
          {
            field: 'namespace',
            message: `a namespace may have at most ${spec.max} ${spec.plural}`,
          },
        ]);
      }
      const [row] = (await tx
        .insert(table as PgTable)
        .values(values)
        .onConflictDoNothing()
        .returning()) as Row[];
      return row ? ok(row) : conflict(`${spec.noun} ${namespace}/${name} already exists`, 'name');
    },
    /** The namespace's objects by name (at most `max`). */
    async list(db: Db, access: AccessChecker, namespace: string): Promise<Result<Row[]>> {
      const denied = await refused(access, namespace, 'list');
      if (denied) return denied;
      const rows = await db
        .select()
        .from(table as PgTable)
        .where(eq(table.namespace, namespace))
        .orderBy(table.name)
        .limit(spec.max);
      return ok(rows as Row[]);
    },
    /** One object by name. */
    get: (db: Db, access: AccessChecker, namespace: string, name: string) =>
      one(access, namespace, name, 'get', () =>
        db
          .select()
          .from(table as PgTable)
          .where(named(namespace, name)),
      ),
    /** Changes one object's columns, answering with its row; the caller checked its refusal. */
    update: (db: Db, namespace: string, name: string, values: PgUpdateSetSource<T>) =>
      found(namespace, name, () =>
        db
          .update(table as PgTable)
          .set(values)
          .where(named(namespace, name))
          .returning(),
      ),
    /** Deletes one object, answering with its row. */
    remove: (db: Db, access: AccessChecker, namespace: string, name: string) =>
      one(access, namespace, name, 'delete', () =>
        db
          .delete(table as PgTable)
          .where(named(namespace, name))
          .returning(),
      ),
  };
}
