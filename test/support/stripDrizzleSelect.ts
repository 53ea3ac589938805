// A Pothos plugin for tests: takes plugin-drizzle's select marker off every field, as an upgrade
// renaming it would.
import SchemaBuilder, { BasePlugin, type SchemaTypes } from '@pothos/core';

/** Takes off the marker plugin-drizzle leaves on a field, as an upgrade renaming it would. */
export const STRIP_PLUGIN = 'stripDrizzleSelect';

class StripDrizzleSelect<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(
    fieldConfig: Parameters<BasePlugin<Types>['onOutputFieldConfig']>[0],
  ) {
    const { pothosDrizzleSelect: _removed, ...extensions } = fieldConfig.extensions ?? {};
    return { ...fieldConfig, extensions };
  }
}
SchemaBuilder.registerPlugin(STRIP_PLUGIN, StripDrizzleSelect);

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      stripDrizzleSelect: StripDrizzleSelect<Types>;
    }
  }
}
