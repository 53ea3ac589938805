// The Pothos schema builder and its plugins; the GraphQL types themselves live in src/schema/.
import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { GraphQLError } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { forbiddenFieldMessage } from './auth/forbidden.ts';
import { canReadNode, decodeNodeKey, loadNodes, MAX_NODE_IDS, type NodeKey } from './auth/nodes.ts';
import { isRegistry } from './auth/roles.ts';
import type { AppContext } from './context.ts';
import { relations } from './db/relations.ts';
import InputErrorsPlugin from './schema/inputErrors.ts';
import LoadedColumnsPlugin from './schema/loadedColumns.ts';

export interface BuilderTypes {
  DefaultFieldNullability: false;
  Context: AppContext;
  DrizzleRelations: typeof relations;
  AuthScopes: {
    /** image-puller (or more) in the namespace. */
    read: string;
    /** editor (or more) in the namespace. */
    edit: string;
    /** editor in every one of these namespaces (`tag` writes to several). */
    editAll: string[];
    /** admin of the namespace. */
    admin: string;
    clusterAdmin: boolean;
    /** An image registry (cluster admin, or in the `system:registries` group): may map images. */
    registry: boolean;
    /** Every object behind these global ids is readable (`node`, `nodes`). */
    nodes: NodeKey[];
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
  };
}

/** Connections never return more than this many items per page (docs/model.md, "Lists"). */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export const builder = new SchemaBuilder<BuilderTypes>({
  // Output fields are non-null unless a field says otherwise.
  defaultFieldNullability: false,
  // LoadedColumnsPlugin wraps just outside DrizzlePlugin (Pothos applies them right to left);
  // InputErrorsPlugin outside both, so it sees the cursor errors they throw. The federation
  // plugins only record @key directives and reference resolvers, which the subgraph schema
  // (src/schema/federation.ts) reads; the public schema is the same with or without them.
  plugins: [
    ScopeAuthPlugin,
    ErrorsPlugin,
    RelayPlugin,
    DirectivesPlugin,
    FederationPlugin,
    InputErrorsPlugin,
    LoadedColumnsPlugin,
    DrizzlePlugin,
  ],
  scopeAuth: {
    // Subscriptions are checked when they start (and again as they deliver, see events.ts).
    authorizeOnSubscribe: true,
    cacheKey: (value) => JSON.stringify(value),
    authScopes: (ctx) => ({
      read: (namespace) => ctx.access.can('image-puller', namespace),
      edit: (namespace) => ctx.access.can('editor', namespace),
      editAll: async (namespaces) => {
        for (const namespace of namespaces)
          if (!(await ctx.access.can('editor', namespace))) return false;
        return true;
      },
      admin: (namespace) => ctx.access.can('admin', namespace),
      clusterAdmin: ctx.access.caller.clusterAdmin,
      registry: isRegistry(ctx.access.caller),
      nodes: async (keys) => {
        for (const key of keys) if (!(await canReadNode(ctx.access, key))) return false;
        return true;
      },
    }),
    unauthorizedError: (_parent, ctx, info, result) =>
      new GraphQLError(forbiddenFieldMessage(ctx.access.caller.subject, info, result.failure), {
        extensions: { code: 'FORBIDDEN' },
      }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: true,
    // Malformed ids are a BAD_USER_INPUT error before anything is read.
    decodeGlobalID: (globalId) => decodeNodeKey(globalId),
    nodeQueryOptions: {
      authScopes: (_root, args) => ({ nodes: [args.id] }),
      resolve: async (_root, args, ctx, _info, resolveNode) =>
        (
          await loadNodes(ctx.database.db, [args.id], async ([key]) => [await resolveNode(key!)])
        )[0],
    },
    nodesQueryOptions: {
      authScopes: (_root, args) => {
        if (args.ids.length > MAX_NODE_IDS) {
          throw new GraphQLError(
            `nodes takes at most ${MAX_NODE_IDS} ids, not ${args.ids.length}`,
            {
              extensions: { code: 'BAD_USER_INPUT', field: 'ids' },
            },
          );
        }
        return { nodes: args.ids };
      },
      resolve: (_root, args, ctx, _info, resolveNodes) =>
        loadNodes(ctx.database.db, args.ids, resolveNodes),
    },
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
