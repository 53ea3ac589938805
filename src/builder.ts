// The Pothos schema builder and its plugins; the GraphQL types themselves live in src/schema/.
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { DateTimeResolver } from 'graphql-scalars';
import type { AppContext } from './context.ts';
import { relations } from './db/relations.ts';

export interface BuilderTypes {
  DefaultFieldNullability: false;
  Context: AppContext;
  DrizzleRelations: typeof relations;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
  };
}

/** Connections never return more than this many items per page (DESIGN.md §4). */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export const builder = new SchemaBuilder<BuilderTypes>({
  // Output fields are non-null unless a field says otherwise.
  defaultFieldNullability: false,
  plugins: [ErrorsPlugin, RelayPlugin, DrizzlePlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: true,
  },
  drizzle: {
    client: (ctx) => ctx.database.db,
    getTableConfig,
    relations,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    maxConnectionSize: MAX_PAGE_SIZE,
  },
  errors: {
    directResult: true,
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.queryType({});
builder.mutationType({});
