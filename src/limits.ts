// Request limits enforced before execution: connection page sizes (DESIGN.md §4: at most 100).
import { GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from './builder.ts';

/**
 * Rejects `first`/`last` above MAX_PAGE_SIZE with a clear error instead of silently clamping
 * (Pothos clamps), so a script that asks for 500 learns it must page.
 */
export function pageSizeLimit(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const errors: GraphQLError[] = [];
      visit(args.document, {
        Argument(node) {
          if (node.name.value !== 'first' && node.name.value !== 'last') return;
          const value =
            node.value.kind === Kind.INT
              ? Number(node.value.value)
              : node.value.kind === Kind.VARIABLE
                ? variables[node.value.name.value]
                : undefined;
          if (typeof value === 'number' && value > MAX_PAGE_SIZE) {
            errors.push(
              new GraphQLError(
                `Argument "${node.name.value}" is ${value}: a page holds at most ${MAX_PAGE_SIZE} items; use the cursor to fetch more`,
                { nodes: [node], extensions: { code: 'PAGE_SIZE_LIMIT' } },
              ),
            );
          }
        },
      });
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
