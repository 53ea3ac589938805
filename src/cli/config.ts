// Where the server is and who we are: flags, then TAGRAPH_* variables, then the config file.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:4000';
export const DEFAULT_NAMESPACE = 'default';

export interface ConnectionFlags {
  server?: string;
  token?: string;
  namespace?: string;
}

export interface CliConfig {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | null;
  namespace: string;
  /** `-n` was given on the command line (apply then refuses a manifest in another namespace). */
  namespaceFromFlag: boolean;
}

/** The config file: `$XDG_CONFIG_HOME/tagraph/config.json`, by default `~/.config/tagraph/…`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'tagraph', 'config.json');
}

interface ConfigFile {
  server?: string;
  token?: string;
  namespace?: string;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`${path} must hold a JSON object like {"server": "…", "token": "…"}`);
  }
  const file: ConfigFile = {};
  for (const key of ['server', 'token', 'namespace'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new CliError(`${path}: "${key}" must be a string`);
    file[key] = value;
  }
  return file;
}

/** `host:port`, `http://host:port` or a full `…/graphql` URL, as the GraphQL endpoint. */
export function graphqlUrl(server: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`the server address "${server}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`the server address "${server}" must be http:// or https://`);
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/graphql';
  return url.toString();
}

export function resolveConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv): CliConfig {
  const file = readConfigFile(configPath(env));
  const server = flags.server || env.TAGRAPH_SERVER || file.server || DEFAULT_SERVER;
  const token = flags.token || env.TAGRAPH_TOKEN || file.token || null;
  const namespace = flags.namespace || file.namespace || DEFAULT_NAMESPACE;
  return {
    url: graphqlUrl(server),
    token,
    namespace,
    namespaceFromFlag: Boolean(flags.namespace),
  };
}
