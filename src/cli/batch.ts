// Several mutations in one request, each under its own alias; GraphQL runs them in order.
import type { GraphQLClient } from './client.ts';
import type { AnyDocument, Copies, CopyResult, VariablesOf } from './graphql.ts';

/** Runs `spec`'s mutation once per input, in order, spec.max per request; each call's result. */
export async function runBatch<D extends AnyDocument>(
  client: GraphQLClient,
  spec: Copies<D>,
  each: readonly VariablesOf<D>[],
): Promise<CopyResult<D>[]> {
  const results: CopyResult<D>[] = [];
  for (let start = 0; start < each.length; start += spec.max) {
    results.push(...(await client.requestCopies(spec, {}, each.slice(start, start + spec.max))));
  }
  return results;
}
