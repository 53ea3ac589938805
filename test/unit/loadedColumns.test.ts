// Guards LoadedColumnsPlugin: drizzle's plain column fields take its fast path in the real schema,
// and a build whose drizzle fields lack the plugin-drizzle markers it reads fails loudly.
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { relations } from '../../src/db/relations.ts';
import { schema } from '../../src/schema/index.ts';
import LoadedColumnsPlugin from '../../src/schema/loadedColumns.ts';
import { STRIP_PLUGIN } from '../support/stripDrizzleSelect.ts';

/** Resolves `Type.field` of the real schema on `parent` with an empty context. */
function resolveOn(typeName: string, fieldName: string, parent: Record<string, unknown>) {
  const type = schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType)) throw new Error(`${typeName} is not an object type`);
  const field = type.getFields()[fieldName]!;
  const info = {
    fieldName,
    fieldNodes: [],
    returnType: field.type,
    parentType: type,
    path: { prev: undefined, key: fieldName, typename: typeName },
    schema,
    fragments: {},
    rootValue: null,
    operation: {
      kind: 'OperationDefinition',
      operation: 'query',
      selectionSet: { selections: [] },
    },
    variableValues: {},
  } as unknown as GraphQLResolveInfo;
  // A caller who may read anything, and no database: drizzle's own path looks the field up in
  // the query plan and, finding none, reloads the row through the context's database.
  const context = {
    access: {
      caller: { subject: 'reader', groups: [], clusterAdmin: false },
      places: { rememberStream: () => {}, rememberTag: () => {} },
      can: async () => true,
    },
  };
  return Promise.resolve()
    .then(() => field.resolve!(parent, {}, context, info))
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
}

describe('LoadedColumnsPlugin', () => {
  it('resolves a plain column of a loaded row straight from the row (the fast path)', async () => {
    const row = { id: 1, namespace: 'ns', name: 'ruby', generation: 3 };
    expect(await resolveOn('ImageStream', 'name', row)).toEqual({ value: 'ruby' });
    expect(await resolveOn('ImageStream', 'generation', row)).toEqual({ value: 3 });
  });

  it('leaves a row without the column to drizzle, which goes to reload it', async () => {
    // drizzle's path: no plan in the context, so it reloads, and there is no database to ask.
    const outcome = await resolveOn('ImageStream', 'name', { id: 1, namespace: 'ns' });
    expect(outcome).toHaveProperty('error');
  });

  it('fails the schema build when the drizzle fields no longer carry what it reads', () => {
    const build = (strip: boolean) => {
      const builder = new SchemaBuilder<{ DrizzleRelations: typeof relations }>({
        plugins: [LoadedColumnsPlugin, DrizzlePlugin, ...(strip ? [STRIP_PLUGIN] : [])],
        drizzle: { client: () => null as never, getTableConfig, relations },
      } as never);
      const Stream = builder.drizzleObject('imageStreams', {
        name: 'Stream',
        fields: (t) => ({ name: t.exposeString('name') }),
      });
      builder.queryType({
        fields: (t) => ({ stream: t.field({ type: Stream, resolve: () => null as never }) }),
      });
      return builder.toSchema();
    };
    expect(() => build(false)).not.toThrow();
    expect(() => build(true)).toThrow(/LoadedColumnsPlugin found no drizzle field/);
  });
});
