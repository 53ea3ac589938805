// Which documents the gateway runs, over HTTP and graphql-ws alike: a manifest's trusted documents
// only (and cluster admins' own when allowed), or any, with automatic persisted queries (APQ).
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import type { Caller } from '../auth/roles.ts';
import { type Config, documentHash, normalizedDocumentHash } from '../config.ts';
import { requestError } from '../limits.ts';

/** The refusals' `extensions.code`s (docs/errors.md). */
export type PersistedDocumentRefusal =
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'PERSISTED_QUERY_ONLY'
  | 'PERSISTED_QUERY_ID_REQUIRED'
  | 'PERSISTED_QUERY_MISMATCH'
  | 'PERSISTED_QUERY_TOO_LARGE';

/** What a request or a graphql-ws subscribe message carries that decides its document. */
export interface OperationParams {
  query?: string | null;
  extensions?: Record<string, unknown> | null;
}

export interface PersistedDocuments {
  /** yoga's plugins (HTTP and SSE); `callerOf` answers who sent a request (authenticated already). */
  plugins(callerOf: (request: Request) => Caller | null): Plugin[];
  /** graphql-ws: the document a subscribe message runs, or why it is refused. */
  documentFor(params: OperationParams, caller: Caller | null): string | GraphQLError;
}

/** The hash of `extensions.persistedQuery` (version 1), as Apollo's and urql's clients send it. */
function sentHash(params: OperationParams): string | null {
  const persisted = params.extensions?.persistedQuery as
    | { version?: unknown; sha256Hash?: unknown }
    | null
    | undefined;
  if (persisted?.version !== 1 || typeof persisted.sha256Hash !== 'string') return null;
  return persisted.sha256Hash;
}

const MESSAGES: Record<PersistedDocumentRefusal, string> = {
  // Apollo's and urql's clients resend the document on this exact message.
  PERSISTED_QUERY_NOT_FOUND: 'PersistedQueryNotFound',
  PERSISTED_QUERY_ONLY: 'only persisted documents run here: send the hash of a trusted document',
  PERSISTED_QUERY_ID_REQUIRED:
    'send a persisted document hash (extensions.persistedQuery.sha256Hash) or a document',
  PERSISTED_QUERY_MISMATCH: "the persisted query hash is not the SHA-256 of the document's text",
  PERSISTED_QUERY_TOO_LARGE: 'the document is too large to persist',
};

/** The persisted-documents rule of `config`, refusals counted in `metrics`. */
export function persistedDocuments(config: Config, metrics: Registry): PersistedDocuments {
  const refusals = new Counter({
    name: 'tagraph_persisted_document_refusals_total',
    help: 'Operations refused by the persisted-documents rule, by extensions.code',
    labelNames: ['code'],
    registers: [metrics],
  });
  const refusal = (code: PersistedDocumentRefusal, extensions: Record<string, unknown> = {}) => {
    refusals.inc({ code });
    return requestError(MESSAGES[code], code, { extensions });
  };
  const trusted = config.trustedDocuments;
  if (trusted) {
    const lookup = (key: string) => {
      const hash = normalizedDocumentHash(key);
      return hash === null ? null : (trusted.documents.get(hash) ?? null);
    };
    const mayRunAny = (caller: Caller | null) =>
      trusted.adminArbitrary && caller?.clusterAdmin === true;
    return {
      plugins: (callerOf) => [
        usePersistedOperations({
          getPersistedOperation: lookup,
          // Authentication ran in onRequest, before yoga reads the parameters.
          allowArbitraryOperations: (request) => mayRunAny(callerOf(request)),
          customErrors: {
            notFound: () => refusal('PERSISTED_QUERY_NOT_FOUND'),
            persistedQueryOnly: () => refusal('PERSISTED_QUERY_ONLY'),
            keyNotFound: () => refusal('PERSISTED_QUERY_ID_REQUIRED'),
          },
        }),
      ],
      documentFor: (params, caller) => {
        if (params.query) return mayRunAny(caller) ? params.query : refusal('PERSISTED_QUERY_ONLY');
        const hash = sentHash(params);
        if (hash === null) return refusal('PERSISTED_QUERY_ID_REQUIRED');
        return lookup(hash) ?? refusal('PERSISTED_QUERY_NOT_FOUND');
      },
    };
  }

  // APQ: a client sends a hash alone, and on PERSISTED_QUERY_NOT_FOUND the hash with its
  // document, which is then kept for the hash. The store is bounded in count and per document,
  // so clients cannot fill the memory with documents.
  const { maxDocuments, maxDocumentBytes } = config.apq;
  const store = new LRUCache<string, string>({ max: maxDocuments });
  /** Registers `query` under `hash` when it is the document's hash; the refusal otherwise. */
  const register = (hash: string, query: string): GraphQLError | null => {
    const normalized = normalizedDocumentHash(hash);
    if (normalized === null || normalized !== documentHash(query)) {
      return refusal('PERSISTED_QUERY_MISMATCH');
    }
    if (Buffer.byteLength(query, 'utf8') > maxDocumentBytes) {
      return refusal('PERSISTED_QUERY_TOO_LARGE', { maxBytes: maxDocumentBytes });
    }
    store.set(normalized, query);
    return null;
  };
  const lookup = (key: string) => {
    const hash = normalizedDocumentHash(key);
    return hash === null ? null : (store.get(hash) ?? null);
  };
  const registration: Plugin = {
    onParams({ params }) {
      const hash = sentHash(params);
      if (hash === null || !params.query) return;
      const refused = register(hash, params.query);
      if (refused) throw refused;
    },
  };
  const lookupByHash = usePersistedOperations({
    getPersistedOperation: lookup,
    allowArbitraryOperations: true,
    customErrors: { notFound: () => refusal('PERSISTED_QUERY_NOT_FOUND') },
  });
  // Without a hash a request goes on as any other (a missing document is yoga's to refuse).
  const hashedOnly: Plugin = {
    ...lookupByHash,
    onParams: (payload) =>
      sentHash(payload.params) === null ? undefined : lookupByHash.onParams?.(payload),
  };
  return {
    plugins: () => [registration, hashedOnly],
    documentFor: (params) => {
      const hash = sentHash(params);
      if (hash === null) return params.query ?? '';
      if (params.query) return register(hash, params.query) ?? params.query;
      return lookup(hash) ?? refusal('PERSISTED_QUERY_NOT_FOUND');
    },
  };
}
