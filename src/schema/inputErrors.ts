// A Pothos plugin that reports a bad paging argument (a cursor this server did not issue, a
// negative `first`) as a BAD_USER_INPUT error instead of an internal one.
import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  PothosValidationError,
  type SchemaTypes,
} from '@pothos/core';
import { GraphQLError, type GraphQLFieldResolver } from 'graphql';

const pluginName = 'inputErrors';

const PAGING_ARGS = ['after', 'before', 'first', 'last'];
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

function badInput(error: unknown): unknown {
  if (!(error instanceof PothosValidationError)) return error;
  return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * The relay and drizzle plugins reject a malformed cursor with a PothosValidationError, which
 * carries no code. A connection nested under a drizzle field is loaded by that field's query, so
 * the error surfaces there: wrapped are fields that take paging arguments, root fields, and fields
 * returning a drizzle-backed type. Leaves are left alone.
 */
export class InputErrorsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (!this.mayLoadConnections(fieldConfig)) return resolver;
    return (parent, args, context, info) => {
      try {
        const result = resolver(parent, args, context, info);
        return result instanceof Promise
          ? result.catch((error: unknown) => {
              throw badInput(error);
            })
          : result;
      } catch (error) {
        throw badInput(error);
      }
    };
  }

  private mayLoadConnections(fieldConfig: PothosOutputFieldConfig<Types>): boolean {
    if (PAGING_ARGS.some((name) => name in fieldConfig.args)) return true;
    if (ROOT_TYPES.has(fieldConfig.parentType)) return true;
    const type = fieldConfig.type.kind === 'List' ? fieldConfig.type.type : fieldConfig.type;
    if (type.kind !== 'Object' && type.kind !== 'Interface') return false;
    return Boolean(this.buildCache.getTypeConfig(type.ref).extensions?.pothosDrizzleModel);
  }
}

SchemaBuilder.registerPlugin(pluginName, InputErrorsPlugin);

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      inputErrors: InputErrorsPlugin<Types>;
    }
  }
}

export default pluginName;
