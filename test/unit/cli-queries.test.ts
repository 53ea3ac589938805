// Every document the CLI sends is valid against the printed schema and inside the server's query
// limits (query cost, graphql-armor depth, aliases, tokens), batches at their largest included.
import { readFileSync } from 'node:fs';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { buildSchema, type GraphQLError, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BATCH_SIZE, type BatchCall, batchDocument } from '../../src/cli/batch.ts';
import {
  deleteStreamCall,
  deleteTagCall,
  imageLookupCall,
  tagAnnotationsCall,
  tagCall,
} from '../../src/cli/calls.ts';
import * as apply from '../../src/cli/commands/apply.ts';
import { CREATE_SECRET } from '../../src/cli/commands/create.ts';
import { IMPORT } from '../../src/cli/commands/importImage.ts';
import { PRUNE } from '../../src/cli/commands/prune.ts';
import { ROLLBACK } from '../../src/cli/commands/rollback.ts';
import { TAG } from '../../src/cli/commands/tag.ts';
import { TAG_CHANGED } from '../../src/cli/commands/watch.ts';
import {
  HISTORIES_PER_REQUEST,
  historiesQuery,
  STREAM_IMAGE_QUERY,
  STREAM_NAMES_QUERY,
  STREAM_QUERY,
  TAG_QUERY,
} from '../../src/cli/queries.ts';
import { MAX_QUERY_COST, QUERY_LIMITS } from '../../src/limits.ts';
import { compileCost, evaluateCost } from '../../src/queryCost.ts';

const schema = buildSchema(
  readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'),
);

const batch = (call: BatchCall) => batchDocument(Array.from({ length: BATCH_SIZE }, () => call));

const DOCUMENTS: Record<string, string> = {
  STREAM_QUERY,
  STREAM_NAMES_QUERY,
  TAG_QUERY,
  STREAM_IMAGE_QUERY,
  histories: historiesQuery(HISTORIES_PER_REQUEST),
  TAG,
  IMPORT,
  ROLLBACK,
  PRUNE,
  CREATE_SECRET,
  TAG_CHANGED,
  'apply CURRENT': apply.CURRENT,
  'apply CREATE': apply.CREATE,
  'apply UPDATE': apply.UPDATE,
  'apply IMPORT_ALL': apply.IMPORT_ALL,
  'batch tag': batch(tagCall({})),
  'batch deleteTag': batch(deleteTagCall('ns', 'a:b')),
  'batch deleteImageStream': batch(deleteStreamCall('ns', 'a')),
  'batch image lookup': batch(imageLookupCall('ns', 'a', true)),
  'batch setTagAnnotations': batch(tagAnnotationsCall('ns', 'a:b', [])),
};

/** What the server's cost limit prices a document at, its variables omitted (default pages). */
function costOf(document: string): number {
  return evaluateCost(compileCost(schema, parse(document))!, {});
}

describe.each(Object.entries(DOCUMENTS))('%s', (_name, document) => {
  it('is valid against schema/schema.graphql', () => {
    expect(validate(schema, parse(document), specifiedRules).map((e) => e.message)).toEqual([]);
  });

  it('passes the server’s depth, alias and token limits', () => {
    const errors = validate(schema, parse(document), [
      maxDepthRule({ ...QUERY_LIMITS.maxDepth, propagateOnRejection: false, onReject: [fail] }),
      maxAliasesRule({ ...QUERY_LIMITS.maxAliases, propagateOnRejection: false, onReject: [fail] }),
    ]);
    expect(errors).toEqual([]);
    expect(() => parse(document, { maxTokens: QUERY_LIMITS.maxTokens.n })).not.toThrow();
  });

  it('costs less than the server’s limit, with a fifth to spare', () => {
    const cost = costOf(document);
    expect(cost).toBeGreaterThan(0);
    expect(cost).toBeLessThan(MAX_QUERY_COST * 0.8);
  });
});

function fail(_context: unknown, error: GraphQLError): void {
  throw error;
}
