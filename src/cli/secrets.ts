// The docker config.json a pull secret holds, from oc's ways of giving one: a docker
// config.json, a podman auth.json, a legacy .dockercfg, or --docker-server and friends.
import { CliError } from './errors.ts';

export const SECRET_TYPES = [
  'kubernetes.io/dockerconfigjson',
  'kubernetes.io/podmanconfigjson',
  'kubernetes.io/dockercfg',
];

/** `--from-file=[key=]path`: the path, and the key oc would store it under. */
export function parseFromFile(value: string): { key: string | null; path: string } {
  const eq = value.indexOf('=');
  // A key is a file name (`.dockerconfigjson`), never a path.
  if (eq > 0 && !value.slice(0, eq).includes('/')) {
    return { key: value.slice(0, eq), path: value.slice(eq + 1) };
  }
  return { key: null, path: value };
}

/**
 * The `{"auths": …}` document for a file's text. A legacy `.dockercfg` holds the registries at
 * the top level; it is wrapped in `auths`.
 */
export function documentFromFile(text: string, path: string, key: string | null): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not a docker config.json: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`${path} is not a docker config.json: expected {"auths": {…}}`);
  }
  const object = parsed as Record<string, unknown>;
  if ('auths' in object) return JSON.stringify({ auths: object.auths });
  const entries = Object.values(object);
  const legacy =
    key === '.dockercfg' ||
    (entries.length > 0 && entries.every((e) => e !== null && typeof e === 'object'));
  if (legacy) return JSON.stringify({ auths: object });
  throw new CliError(`${path} has no "auths": not a docker config.json or podman auth.json`);
}

export interface RegistryLogin {
  server: string;
  username: string;
  password: string;
  email?: string;
}

/** `oc create secret docker-registry`: one registry's credentials as a config.json. */
export function documentFromLogin(login: RegistryLogin): string {
  const auth = Buffer.from(`${login.username}:${login.password}`).toString('base64');
  const entry: Record<string, string> = {
    username: login.username,
    password: login.password,
    auth,
  };
  if (login.email) entry.email = login.email;
  return JSON.stringify({ auths: { [login.server]: entry } });
}
