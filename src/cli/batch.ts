// Several mutations in one request, each under its own alias; GraphQL runs them in order.
import { ERROR_FIELDS, type GraphQLClient, type Outcome } from './client.ts';

/** Mutations per request: well inside the server's alias and token limits (30, 3 000). */
export const BATCH_SIZE = 8;

export interface BatchCall {
  field: string;
  inputType: string;
  input: Record<string, unknown>;
  /** The payload's fields, e.g. `... on TagPayload { results { message } }`. */
  selection: string;
  /** The error fields the mutation's union admits (default: validation and conflict). */
  errors?: string;
}

/** One request's document: the calls as `m0`, `m1`, … with inputs `$i0`, `$i1`, … */
export function batchDocument(calls: BatchCall[]): string {
  const params = calls.map((c, i) => `$i${i}: ${c.inputType}!`).join(', ');
  const fields = calls.map(
    (c, i) => `m${i}: ${c.field}(input: $i${i}) { ${c.errors ?? ERROR_FIELDS} ${c.selection} }`,
  );
  return `mutation(${params}) {\n${fields.join('\n')}\n}`;
}

/** Runs the calls in order, a chunk per request; returns each call's payload or typed error. */
export async function runBatch<T>(
  client: GraphQLClient,
  calls: BatchCall[],
): Promise<Outcome<T>[]> {
  const results: Outcome<T>[] = [];
  for (let start = 0; start < calls.length; start += BATCH_SIZE) {
    const chunk = calls.slice(start, start + BATCH_SIZE);
    const variables = Object.fromEntries(chunk.map((c, i) => [`i${i}`, c.input]));
    const data = await client.request<Record<string, Outcome<T>>>(batchDocument(chunk), variables);
    for (let i = 0; i < chunk.length; i++) results.push(data[`m${i}`]!);
  }
  return results;
}
