// The yoga plugin that answers covered read documents with their compiled statement and lets
// everything else through to the ordinary execution unchanged.
import { decodeBase64, decodeCursorChunk } from '@pothos/core';
import { type SQL, sql } from 'drizzle-orm';
import { type DocumentNode, type GraphQLSchema, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import { type Caller, readableNamespaceSql, roleNamespaceSql } from '../../auth/roles.ts';
import { type Db, rowsOf } from '../../db/client.ts';
import { decodeCursor } from '../../events/cursor.ts';
import { badStrings } from '../../inputs.ts';
import { QUERY_LIMITS } from '../../limits.ts';
import { cursorPosition } from '../../schema/listOrder.ts';
import { type CompiledRead, compileRead } from './compile.ts';
import { filterParam } from './filters.ts';
import type { CursorOrdering, ParamSource, Piece } from './statement.ts';

/** Distinct documents remembered (compiled, waiting for their first ordinary success, or refused). */
const MAX_DOCUMENTS = 1000;
/** Longer documents are never compiled or remembered, so the cache stays small (1,000 × 16 KiB). */
const MAX_DOCUMENT_CHARS = 16_384;
/** Variable values a compiled statement takes: names of namespaces, streams and tags. */
const PLAIN_NAME = /^[A-Za-z0-9._:@/-]{1,253}$/;
/** Cursors longer than this are not ones this server issued (names are at most 253 characters). */
const MAX_CURSOR_CHARS = 4096;

/**
 * What happened to a query request: `served` compiled, or why the ordinary path answered it (the
 * document is not covered or not yet proven, its variables are not the statement's, the caller
 * may not read a namespace it names, the answer is an error or missing object, the statement
 * failed).
 */
type Outcome =
  | 'served'
  | 'not_covered'
  | 'unproven'
  | 'variables'
  | 'forbidden'
  | 'fallback'
  | 'failed';

interface Entry {
  /** Null: the document is outside what the compiler covers. */
  compiled: CompiledRead | null;
  /** The parsed document (for the metrics' operation-name label); null when it does not parse. */
  document: DocumentNode | null;
  /**
   * The ordinary path answered this document once without any error, so it passes validation,
   * the shape limits, the cost and page-size limits (none of which depend on the string
   * variables the compiled statement takes). Until then every request of it goes that way.
   */
  proven: boolean;
}

/** What a served request's result writes: the text Postgres built, wrapped as yoga would. */
interface RawResult {
  data: null;
  stringify: () => string;
}

export interface CompiledReadsOptions {
  db: Db;
  /** The caller the authentication plugin found for a request, or null. */
  callerOf: (request: Request) => Caller | null;
  /** The host part of pull specs (the config's `registryHost`), a statement parameter. */
  registryHost: string;
  /** Where `tagraph_compiled_reads_total` is registered. */
  metrics?: Registry;
  /** Records a request this plugin answered (the execute phase's metrics never see it). */
  onAnswered?: (operationName: string | null, document: DocumentNode, seconds: number) => void;
}

/** A request's values: its variables, and the sort keys of the cursors among them. */
interface Values {
  variables: Record<string, unknown>;
  registryHost: string;
  cursors: Map<string, unknown[]>;
  /** Each list filter's parameter (JSON), by its key. */
  filters: Map<string, string>;
}

function paramValue(source: ParamSource, values: Values): string | null {
  if ('literal' in source) return source.literal;
  if ('setting' in source) return values.registryHost;
  if ('variable' in source) return (values.variables[source.variable] as string | null) ?? null;
  if ('filter' in source) return values.filters.get(source.filter) ?? null;
  const key = values.cursors.get(source.cursorKey)?.[source.index];
  if (key instanceof Date) return key.toISOString();
  return key === undefined ? null : String(key);
}

/** The sort keys of `cursor` when it is one the ordinary path pages from; null otherwise. */
function cursorKeys(ordering: CursorOrdering, cursor: string): unknown[] | null {
  try {
    if (!ordering.list && ordering.name === 'events') {
      // The event log's position, as cursorId reads it.
      const position = decodeCursor(cursor);
      return position === null ? null : [position];
    }
    if (!ordering.list) {
      // The drizzle plugin's own cursor of a list by one text column (namespaces by name).
      const decoded = decodeBase64(cursor);
      const key = decoded.startsWith('DC:') ? decodeCursorChunk(decoded.slice(3)) : null;
      return typeof key === 'string' ? [key] : null;
    }
    return cursorPosition(ordering, 'after', cursor);
  } catch {
    // The ordinary path answers with its error.
    return null;
  }
}

/**
 * The request's values when each `String!` variable is a plain name (each optional name absent,
 * null or one), each cursor variable is absent, null, or a cursor of its list's ordering, and
 * each list filter is one the ordinary path takes; null when the request is not for this
 * statement.
 */
function requestValues(
  compiled: CompiledRead,
  variables: unknown,
  registryHost: string,
  schema: GraphQLSchema | null,
): Values | null {
  const given = (variables ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) return null;
  const filterVariables = new Set(
    [...compiled.filters.values()].flatMap((f) => f.variables.map((d) => d.variable.name.value)),
  );
  const read = [compiled.variables, compiled.cursors, filterVariables, compiled.optionalVariables];
  for (const key of Object.keys(given)) {
    if (!read.some((set) => set.has(key))) return null;
  }
  for (const name of compiled.variables) {
    const value = given[name];
    if (typeof value !== 'string' || !PLAIN_NAME.test(value)) return null;
  }
  for (const name of compiled.optionalVariables) {
    const value = given[name];
    if (value != null && (typeof value !== 'string' || !PLAIN_NAME.test(value))) return null;
  }
  const cursors = new Map<string, unknown[]>();
  for (const [name, ordering] of compiled.cursors) {
    const value = given[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.length > MAX_CURSOR_CHARS) return null;
    // A string no stored text may hold is refused before execution (unstorableInputGuard),
    // even where the cursor's lenient base64 decoding would read past it.
    if (badStrings(value, `$${name}`).length > 0) return null;
    const keys = cursorKeys(ordering, value);
    if (!keys) return null;
    cursors.set(name, keys);
  }
  const filters = new Map<string, string>();
  for (const [key, source] of compiled.filters) {
    const param = filterParam(schema, source, given);
    if (param === null) return null;
    filters.set(key, param);
  }
  return { variables: given, registryHost, cursors, filters };
}

/**
 * The statement for one request: whether the caller may read each namespace and holds the
 * role each editors' or admins' root field needs in its namespace (`readable`), whether the
 * answer is one for the ordinary path, and the data.
 */
export function statementFor(compiled: CompiledRead, values: Values, caller: Caller): SQL {
  const namespace = (ns: ParamSource) => sql`${paramValue(ns, values)}::text`;
  const checks = [
    ...compiled.namespaces.map((ns) => readableNamespaceSql(caller, namespace(ns))),
    ...compiled.roles.map((need) =>
      caller.scope && !need.robots
        ? sql`false`
        : roleNamespaceSql(caller, need.role, namespace(need.namespace)),
    ),
  ].filter((check): check is SQL => check !== null);
  const readable = checks.length === 0 ? sql`true` : sql.join(checks, sql` and `);
  const text = (pieces: Piece[]) =>
    sql.join(
      pieces.map((piece) => {
        if (typeof piece === 'string') return sql.raw(piece);
        if ('readable' in piece) {
          return sql`(${readableNamespaceSql(caller, sql.raw(piece.readable)) ?? sql`true`})`;
        }
        return sql`${paramValue(piece, values)}::text`;
      }),
    );
  const fallback = compiled.fallback.length === 0 ? sql`false` : text(compiled.fallback);
  // The data only when the caller may read and the statement covers the answer: no data of a
  // namespace the caller may not read (or hold the root field's role in) is ever built.
  return sql`select c.readable, c.fallback,
    case when c.readable and not c.fallback then ${text(compiled.data)} end as data
    from (select ${readable} as readable, ${fallback} as fallback) c`;
}

/**
 * Covered documents (src/server/compiledReads/compile.ts) are answered by one statement whose
 * result is the response's `data` as text, written to the client as is. A request takes the
 * ordinary path when the document is not covered or not yet proven, when its variables are not
 * plain names, when it has no caller, or when the caller may not read a namespace it names or
 * lacks the role a root field needs there (the ordinary path then writes the same FORBIDDEN error
 * it always does).
 */
export function compiledReads(options: CompiledReadsOptions): Plugin {
  const entries = new LRUCache<string, Entry>({ max: MAX_DOCUMENTS });
  /** The schema filters are coerced by, as the ordinary execution coerces them. */
  let schema: GraphQLSchema | null = null;
  /** The document an ordinary execution runs, by its context, until its result is seen. */
  const pending = new WeakMap<object, Entry>();
  const entryFor = (query: string, operationName: string | null): Entry => {
    const key = `${operationName ?? ''}\n${query}`;
    let entry = entries.get(key);
    if (!entry) {
      let compiled: CompiledRead | null = null;
      let document: DocumentNode | null = null;
      try {
        // The shape limit's token count: a longer document is refused on the ordinary path anyway.
        document = parse(query, { noLocation: true, maxTokens: QUERY_LIMITS.maxTokens.n });
        const result = compileRead(document);
        if ('compiled' in result) compiled = result.compiled;
      } catch {
        // Not even a document: the ordinary path reports it.
      }
      if (compiled && operationName !== null && compiled.operationName !== operationName) {
        compiled = null;
      }
      entry = { compiled, document: compiled ? document : null, proven: false };
      entries.set(key, entry);
    }
    return entry;
  };
  const outcomes = options.metrics
    ? new Counter({
        name: 'tagraph_compiled_reads_total',
        help: 'GraphQL requests over HTTP by what the compiled-reads path did: served, or why the ordinary path answered (not_covered includes mutations)',
        labelNames: ['outcome'],
        registers: [options.metrics],
      })
    : null;
  const count = (outcome: Outcome) => {
    outcomes?.inc({ outcome });
  };
  return {
    onSchemaChange({ schema: current }) {
      schema = current;
    },
    async onParams({ params, request, context, setResult }) {
      const started = performance.now();
      const { query, operationName } = params;
      // A document sent by hash arrives here as its text: the persisted-document plugin, first
      // in the chain, looked it up (and refused it if the caller may not run it).
      if (typeof query !== 'string') return;
      if (query.length > MAX_DOCUMENT_CHARS) return;
      const entry = entryFor(query, operationName ?? null);
      const compiled = entry.compiled;
      if (!compiled) return count('not_covered');
      if (!entry.proven) {
        pending.set(context, entry);
        return count('unproven');
      }
      const caller = options.callerOf(request);
      const values = requestValues(compiled, params.variables, options.registryHost, schema);
      if (!caller || !values) return count('variables');
      let row: { readable: boolean; fallback: boolean; data: string | null } | undefined;
      try {
        row = rowsOf<{ readable: boolean; fallback: boolean; data: string | null }>(
          await options.db.execute(statementFor(compiled, values, caller)),
        )[0];
      } catch {
        // The ordinary path meets the same failure and reports it as it always does.
        return count('failed');
      }
      if (!row?.readable) return count('forbidden');
      if (row.fallback || row.data === null) return count('fallback');
      count('served');
      const body = `{"data":${row.data}}`;
      const result: RawResult = { data: null, stringify: () => body };
      setResult(result);
      if (entry.document) {
        options.onAnswered?.(
          compiled.operationName,
          entry.document,
          (performance.now() - started) / 1000,
        );
      }
    },
    onExecutionResult({ result, context }) {
      const entry = pending.get(context);
      if (!entry) return;
      pending.delete(context);
      if (Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const { errors } = result as { errors?: readonly unknown[] };
      if (!errors || errors.length === 0) entry.proven = true;
    },
  };
}
