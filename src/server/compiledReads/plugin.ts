// The yoga plugin that answers covered read documents with their compiled statement and lets
// everything else through to the ordinary execution unchanged.
import { type SQL, sql } from 'drizzle-orm';
import { type DocumentNode, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { type Caller, readableNamespaceSql } from '../../auth/roles.ts';
import { type Db, rowsOf } from '../../db/client.ts';
import { QUERY_LIMITS } from '../../limits.ts';
import { type CompiledRead, compileRead, type ParamSource } from './compile.ts';

/** Distinct documents remembered (compiled, waiting for their first ordinary success, or refused). */
const MAX_DOCUMENTS = 1000;
/** Longer documents are never compiled or remembered, so the cache stays small (1,000 × 16 KiB). */
const MAX_DOCUMENT_CHARS = 16_384;
/** Variable values a compiled statement takes: names of namespaces, streams and tags. */
const PLAIN_NAME = /^[A-Za-z0-9._:@/-]{1,253}$/;

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
  /** Records a request this plugin answered (the execute phase's metrics never see it). */
  onAnswered?: (operationName: string | null, document: DocumentNode, seconds: number) => void;
}

function paramValue(source: ParamSource, variables: Record<string, unknown>): string {
  return 'literal' in source ? source.literal : (variables[source.variable] as string);
}

/** The request's variables when every one is a plain name the compiled statement reads. */
function plainVariables(
  compiled: CompiledRead,
  variables: unknown,
): Record<string, unknown> | null {
  const given = (variables ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) return null;
  const keys = Object.keys(given);
  if (keys.length !== compiled.variables.size) return null;
  for (const key of keys) {
    const value = given[key];
    if (!compiled.variables.has(key) || typeof value !== 'string' || !PLAIN_NAME.test(value)) {
      return null;
    }
  }
  return given;
}

/** The statement for one request: the caller's read access to each namespace, and the data. */
export function statementFor(
  compiled: CompiledRead,
  variables: Record<string, unknown>,
  caller: Caller,
): SQL {
  const checks = compiled.namespaces
    .map((ns) => readableNamespaceSql(caller, sql`${paramValue(ns, variables)}::text`))
    .filter((check): check is SQL => check !== null);
  const readable = checks.length === 0 ? sql`true` : sql.join(checks, sql` and `);
  const data = sql.join(
    compiled.data.map((piece) =>
      typeof piece === 'string' ? sql.raw(piece) : sql`${paramValue(piece, variables)}::text`,
    ),
  );
  return sql`select ${readable} as readable, ${data} as data`;
}

/**
 * Covered documents (src/server/compiledReads/compile.ts) are answered by one statement whose
 * result is the response's `data` as text, written to the client as is. A request takes the
 * ordinary path when the document is not covered or not yet proven, when its variables are not
 * plain names, when it has no caller, or when the caller may not read a namespace it names (the
 * ordinary path then writes the same FORBIDDEN error it always does).
 */
export function compiledReads(options: CompiledReadsOptions): Plugin {
  const entries = new LRUCache<string, Entry>({ max: MAX_DOCUMENTS });
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
  return {
    async onParams({ params, request, context, setResult }) {
      const started = performance.now();
      const { query, operationName } = params;
      // A document sent by hash arrives here as its text: the persisted-document plugin, first
      // in the chain, looked it up (and refused it if the caller may not run it).
      if (typeof query !== 'string') return;
      if (query.length > MAX_DOCUMENT_CHARS) return;
      const entry = entryFor(query, operationName ?? null);
      const compiled = entry.compiled;
      if (!compiled) return;
      if (!entry.proven) {
        pending.set(context, entry);
        return;
      }
      const caller = options.callerOf(request);
      const variables = plainVariables(compiled, params.variables);
      if (!caller || !variables) return;
      let row: { readable: boolean; data: string } | undefined;
      try {
        row = rowsOf<{ readable: boolean; data: string }>(
          await options.db.execute(statementFor(compiled, variables, caller)),
        )[0];
      } catch {
        // The ordinary path meets the same failure and reports it as it always does.
        return;
      }
      if (!row?.readable) return;
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
