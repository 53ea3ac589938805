// Masked errors carry INTERNAL_SERVER_ERROR, and a database outage is told as DATABASE_UNAVAILABLE.
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/db/client.ts';
import { INTERNAL_ERROR_CODE, maskErrorsExceptUnavailable } from '../../src/limits.ts';

function yogaThrowing(error: Error) {
  return createYoga({
    schema: createSchema({
      typeDefs: 'type Query { failing: Int, typed: Int }',
      resolvers: {
        Query: {
          failing: () => {
            throw error;
          },
        },
      },
    }),
    maskedErrors: { maskError: maskErrorsExceptUnavailable },
    logging: false,
  });
}

async function errorsOf(yoga: ReturnType<typeof yogaThrowing>) {
  const response = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ failing }' }),
  });
  const body = (await response.json()) as {
    errors: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  };
  return body.errors;
}

describe('masked errors', () => {
  it('an unexpected error is masked, with code INTERNAL_SERVER_ERROR and its path', async () => {
    const [error] = await errorsOf(yogaThrowing(new Error('select secret from somewhere')));
    expect(error).toMatchObject({
      path: ['failing'],
      extensions: { code: INTERNAL_ERROR_CODE },
    });
    expect(JSON.stringify(error)).not.toContain('secret');
  });

  it('a database out of reach is DATABASE_UNAVAILABLE, not masked', async () => {
    const [error] = await errorsOf(yogaThrowing(new DatabaseUnavailableError('no connection')));
    expect(error!.extensions).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
  });
});
