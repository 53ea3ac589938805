// A Pothos plugin that lets a drizzle field whose data is already on its row skip the drizzle
// plugin's per-field bookkeeping.
import SchemaBuilder, {
  BasePlugin,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';

const pluginName = 'loadedColumns';

/**
 * `@pothos/plugin-drizzle` wraps every field of a drizzle object that selects something — each
 * exposed column included — in a resolver that looks up, records and scopes the query plan's
 * mapping for that field's response path (`@pothos/selection-mapper`), then falls back to loading
 * the row when the plan did not. For a field that only reads columns of its own row, the plan's
 * mapping tells nothing the row does not: when every column it selects is on the row, the row was
 * loaded with them. On a query with thousands of such leaves per response, that bookkeeping is
 * a large share of the server's CPU and garbage.
 *
 * This plugin sits just outside the drizzle plugin (listed right before it), so authorization and
 * error handling still wrap both paths. A row missing any of the columns — one a mutation's
 * service returned without them — takes the drizzle path unchanged and is reloaded.
 *
 * It recognises such fields by what the drizzle plugin leaves on their config: the field kind
 * `DrizzleObject` and `extensions.pothosDrizzleSelect` (`{ columns }`), and leaves alone those
 * with `extensions.pothosDrizzleLoaded`. These are the drizzle plugin's internals, not its API:
 * if an upgrade renames them, no field is recognised and the schema build fails (afterBuild)
 * rather than quietly losing the fast path (docs/overrides.md).
 */
export class LoadedColumnsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  /** Fields given the fast path in this build. */
  private fastFields = 0;

  override afterBuild(schema: GraphQLSchema): GraphQLSchema {
    if (this.fastFields === 0) {
      throw new Error(
        "LoadedColumnsPlugin found no drizzle field that reads only its own row's columns: @pothos/plugin-drizzle no longer marks its fields as this plugin expects (field kind 'DrizzleObject', extensions.pothosDrizzleSelect); see docs/overrides.md",
      );
    }
    return schema;
  }

  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const columns = ownColumnsOf(fieldConfig);
    if (!columns) return resolver;
    const direct = (fieldConfig.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<
      unknown,
      Types['Context'],
      object
    >;
    if (direct === resolver) return resolver;
    this.fastFields += 1;
    return (parent, args, context, info) =>
      hasColumns(parent, columns)
        ? direct(parent, args, context, info)
        : resolver(parent, args, context, info);
  }
}

/** The columns a field of a drizzle object reads from its row, when that is all it selects. */
function ownColumnsOf<Types extends SchemaTypes>(
  fieldConfig: PothosOutputFieldConfig<Types>,
): string[] | null {
  if (fieldConfig.kind !== 'DrizzleObject') return null;
  const extensions = fieldConfig.extensions ?? {};
  // A field with its own loaded check (relation counts) decides presence itself.
  if (extensions.pothosDrizzleLoaded) return null;
  const select = extensions.pothosDrizzleSelect as unknown;
  if (!select || typeof select !== 'object') return null;
  const { columns, ...rest } = select as { columns?: Record<string, unknown> };
  if (!columns || Object.keys(rest).length > 0) return null;
  const names = Object.keys(columns);
  return names.every((name) => columns[name] === true) ? names : null;
}

function hasColumns(parent: unknown, columns: string[]): boolean {
  if (typeof parent !== 'object' || parent === null) return false;
  const row = parent as Record<string, unknown>;
  for (const column of columns) if (row[column] === undefined) return false;
  return true;
}

SchemaBuilder.registerPlugin(pluginName, LoadedColumnsPlugin);

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      loadedColumns: LoadedColumnsPlugin<Types>;
    }
  }
}

export default pluginName;
