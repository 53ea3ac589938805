// What every command runs with: the resolved connection, a GraphQL client and the output streams.
import type { Command } from 'commander';
import { GraphQLClient } from './client.ts';
import { type CliConfig, type ConnectionFlags, resolveConfig } from './config.ts';
import type { OutputFormat } from './flags.ts';
import { renderTemplate } from './jsonpath.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of stdin as UTF-8, or null once it passes `maxBytes` (the rest is not read). */
  readStdin(maxBytes: number): Promise<string | null>;
  env: NodeJS.ProcessEnv;
}

export interface Context {
  config: CliConfig;
  client: GraphQLClient;
  io: Io;
  namespace: string;
  warn(message: string): void;
}

/** The connection for a command: its (and the program's) flags, the environment, the file. */
export function contextOf(command: Command, io: Io): Context {
  const flags = command.optsWithGlobals() as ConnectionFlags;
  const config = resolveConfig(flags, io.env);
  return {
    config,
    client: new GraphQLClient(config.url, config.token),
    io,
    namespace: config.namespace,
    warn: (message) => io.err(`warning: ${message}\n`),
  };
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const TIMESTAMP = /^\d{4}-\d\d?-\d\d?([Tt ]|$)/;

/**
 * YAML as kubectl prints it: keys sorted, long strings never folded. The library is loaded only
 * here (about 80 ms of the CLI's start otherwise).
 */
export async function toYaml(value: unknown): Promise<string> {
  const { Document, isScalar, visit } = await import('yaml');
  const doc = new Document(value, { sortMapEntries: true });
  // kubectl quotes strings a YAML 1.1 reader would take for a timestamp.
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && TIMESTAMP.test(node.value)) {
        node.type = 'QUOTE_DOUBLE';
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Prints an object (or a List of them) in a machine format; false for `table`. */
export async function printStructured(
  io: Io,
  format: OutputFormat,
  value: unknown,
): Promise<boolean> {
  if (format.kind === 'json') io.out(toJson(value));
  else if (format.kind === 'yaml') io.out(await toYaml(value));
  else if (format.kind === 'jsonpath') io.out(renderTemplate(format.template, value));
  else return false;
  return true;
}
