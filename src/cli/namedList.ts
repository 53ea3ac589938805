// How `get` prints a namespace's objects that have names (receivers, webhooks, retention policies,
// robot tokens): `-o name`, a structured document, or a table.

import { errorLines, isTypedError, type TypedError } from './client.ts';
import { type Context, type Io, printStructured } from './context.ts';
import { CliError, UsageError } from './errors.ts';
import type { OutputFormat } from './flags.ts';
import { table } from './tabwriter.ts';

/** The objects of these names in the order given, else all; `notFound` words a missing one. */
function pickNamed<T extends { name: string }>(
  all: T[],
  names: string[],
  notFound: (name: string) => string,
): T[] {
  if (names.length === 0) return all;
  return names.map((name) => {
    const found = all.find((item) => item.name === name);
    if (!found) throw new CliError(notFound(name));
    return found;
  });
}

/** How one kind of object is printed as `-o name` and as a table. */
export interface NamedTable<T> {
  /** The resource type `-o name` prints before the slash. */
  resource: string;
  /** The line to stderr when there is nothing to print. */
  empty: string;
  headers: string[];
  row: (item: T, now: number) => string[];
}

/** `get <objects> [name...]` of the objects `chosen` for `names`, in `format`. */
export async function printNamed<T extends { name: string | null }>(
  io: Io,
  format: OutputFormat,
  names: string[],
  chosen: T[],
  view: NamedTable<T>,
): Promise<void> {
  if (format.kind === 'name') {
    for (const item of chosen) io.out(`${view.resource}/${item.name}\n`);
    return;
  }
  if (format.kind !== 'table') {
    await printStructured(io, format, names.length === 1 ? chosen[0] : { items: chosen });
    return;
  }
  if (chosen.length === 0) {
    io.err(`${view.empty}\n`);
    return;
  }
  const now = Date.now();
  io.out(
    table(
      view.headers,
      chosen.map((item) => view.row(item, now)),
    ),
  );
}

/** A kind of object of a namespace that `get <objects> [name...]` reads and prints. */
export interface NamedKind<T> extends Omit<NamedTable<T>, 'empty'> {
  /** Every object of this kind in the namespace. */
  list: (ctx: Context) => Promise<T[]>;
  /** The error for a name not found (default: `<resource> <namespace>/<name> not found`). */
  notFound?: (name: string, namespace: string) => string;
  /** The line to stderr when there are none (default: `No <resource>s found in <ns> namespace.`). */
  empty?: (namespace: string) => string;
}

/** `get <objects> [name...]`: the namespace's objects of `kind`, the ones named (else all). */
export async function getNamed<T extends { name: string }>(
  io: Io,
  ctx: Context,
  names: string[],
  format: OutputFormat,
  kind: NamedKind<T>,
): Promise<void> {
  const { namespace } = ctx;
  const chosen = pickNamed(
    await kind.list(ctx),
    names,
    (name) => kind.notFound?.(name, namespace) ?? `${kind.resource} ${namespace}/${name} not found`,
  );
  const empty = kind.empty?.(namespace) ?? `No ${kind.resource}s found in ${namespace} namespace.`;
  await printNamed(io, format, names, chosen, { ...kind, empty });
}

/**
 * `delete <resource>/<name>...`: `remove` each in turn, printing `<resource> "<name>" deleted`;
 * the failures, one line each, end it as one error.
 */
export async function deleteNamed(
  io: Io,
  resource: string,
  names: string[],
  remove: (name: string) => Promise<TypedError | { __typename: string }>,
): Promise<void> {
  if (names.length === 0) throw new UsageError(`delete ${resource} needs a name`);
  const failures: string[] = [];
  for (const name of names) {
    const outcome = await remove(name);
    if (isTypedError(outcome)) failures.push(...errorLines(outcome));
    else io.out(`${resource} "${name}" deleted\n`);
  }
  if (failures.length > 0) throw new CliError(failures[0]!, failures.slice(1));
}
