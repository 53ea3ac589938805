// Robot tokens and the caller from the command line: `create token <name> --role`, `get tokens`,
// `delete token/<name>` and `whoami`.
import type { Command } from 'commander';
import { unwrap } from './client.ts';
import { type Context, contextOf, type Io, printStructured, toJson } from './context.ts';
import { CREATE_ROBOT_TOKEN, REVOKE_ROBOT_TOKEN, ROBOT_TOKENS, WHOAMI } from './documents.ts';
import { CliError, UsageError } from './errors.ts';
import { type OutputFormat, parseOutput } from './flags.ts';
import { humanDuration } from './humanize.ts';
import { deleteNamed, printNamed } from './namedList.ts';

/** The names `get` and `delete` take for robot tokens. */
export const TOKEN_TYPES = new Set(['token', 'tokens', 'robottoken', 'robottokens']);

/** `token/ci`, `tokens ci` … → the names, or null for another resource. */
export function tokenArgs(args: string[]): string[] | null {
  return namedArgs(args, TOKEN_TYPES);
}

/**
 * The names after a resource type of `types` (`<type> a b`, `<type>/a <type>/b`), or null when
 * the arguments start with another type.
 */
export function namedArgs(args: string[], types: ReadonlySet<string>): string[] | null {
  const [first, ...rest] = args;
  if (!first) return null;
  const slash = first.indexOf('/');
  const type = (slash >= 0 ? first.slice(0, slash) : first).toLowerCase();
  if (!types.has(type)) return null;
  const names = slash >= 0 ? [first.slice(slash + 1)] : [];
  for (const arg of rest) {
    const at = arg.indexOf('/');
    names.push(at >= 0 && types.has(arg.slice(0, at).toLowerCase()) ? arg.slice(at + 1) : arg);
  }
  return names;
}

const ROLES: Record<string, 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN'> = {
  'image-puller': 'IMAGE_PULLER',
  'system:image-puller': 'IMAGE_PULLER',
  puller: 'IMAGE_PULLER',
  editor: 'EDITOR',
  edit: 'EDITOR',
  admin: 'ADMIN',
};

export function parseRole(value: string): 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN' {
  const role = ROLES[value.toLowerCase()];
  if (!role) throw new UsageError(`--role must be image-puller, editor or admin, not "${value}"`);
  return role;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--expires`: a lifetime (`12h`, `30d`, `8w`) or an RFC 3339 time; the moment it ends. */
export function parseExpiry(value: string, now: number = Date.now()): Date {
  const lifetime = /^(\d{1,4})([hdw])$/.exec(value);
  if (lifetime) return new Date(now + Number(lifetime[1]) * UNIT_MS[lifetime[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return new Date(at);
  }
  throw new UsageError(
    `--expires must be a lifetime such as 12h, 30d or 8w, or an RFC 3339 time, not "${value}"`,
  );
}

/** `create token <name> --role=<role>`: a robot token of the namespace, printed once. */
export async function createRobotToken(
  ctx: Context,
  name: string,
  options: { role: string; expires?: string; description?: string },
  format: OutputFormat,
): Promise<void> {
  const role = parseRole(options.role);
  const expiresAt = options.expires ? parseExpiry(options.expires).toISOString() : undefined;
  const data = await ctx.client.request(CREATE_ROBOT_TOKEN, {
    input: {
      namespace: ctx.namespace,
      name,
      role,
      description: options.description ?? '',
      ...(expiresAt ? { expiresAt } : {}),
    },
  });
  const created = unwrap(data.createRobotToken);
  ctx.io.out(format.kind === 'json' ? toJson(created) : `${created.token}\n`);
}

type TokenView = {
  name: string | null;
  role: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
};

const ROLE_NAMES: Record<string, string> = {
  IMAGE_PULLER: 'image-puller',
  EDITOR: 'editor',
  ADMIN: 'admin',
};

/** `in 89d`, `expired 2h ago` or `never`. */
function expiryText(expiresAt: string | null, now: number): string {
  if (!expiresAt) return 'never';
  const at = Date.parse(expiresAt);
  return at > now ? `in ${humanDuration(at - now)}` : `expired ${humanDuration(now - at)} ago`;
}

function statusOf(token: TokenView, now: number): string {
  if (token.revokedAt) return 'Revoked';
  if (token.expiresAt && Date.parse(token.expiresAt) <= now) return 'Expired';
  return 'Active';
}

/** `get tokens [name...]`: the namespace's robot tokens (namespace admins). */
export async function printRobotTokens(
  io: Io,
  ctx: Context,
  names: string[],
  format: OutputFormat,
): Promise<void> {
  const data = await ctx.client.request(ROBOT_TOKENS, { namespace: ctx.namespace });
  const all = data.robotTokens;
  const chosen = names.length === 0 ? all : all.filter((t) => t.name && names.includes(t.name));
  for (const name of names) {
    if (!chosen.some((t) => t.name === name)) {
      throw new CliError(`robot token ${name} not found in namespace ${ctx.namespace}`);
    }
  }
  await printNamed(io, format, names, chosen, {
    resource: 'token',
    empty: `No robot tokens found in ${ctx.namespace} namespace.`,
    headers: ['NAME', 'ROLE', 'STATUS', 'EXPIRES', 'LAST USED', 'CREATED BY'],
    row: (token, now) => [
      token.name ?? '',
      ROLE_NAMES[token.role ?? ''] ?? '',
      statusOf(token, now),
      expiryText(token.expiresAt, now),
      token.lastUsedAt ? `${humanDuration(now - Date.parse(token.lastUsedAt))} ago` : '<never>',
      token.createdBy ?? '',
    ],
  });
}

/** `delete token/<name>...`: revokes the namespace's live robot tokens of those names. */
export async function revokeRobotTokens(io: Io, ctx: Context, names: string[]): Promise<void> {
  await deleteNamed(io, 'token', names, async (name) => {
    const data = await ctx.client.request(REVOKE_ROBOT_TOKEN, { namespace: ctx.namespace, name });
    return data.revokeRobotToken;
  });
}

export function registerWhoami(program: Command, io: Io): void {
  program
    .command('whoami')
    .summary('print who the token authenticates as (oc whoami)')
    .description(
      'Print the subject the token stands for; -o json|yaml adds its groups, the namespaces it\n' +
        'may read, its expiry and, for a robot token, the namespace and role it is limited to.',
    )
    .option('-o, --output <format>', 'json or yaml')
    .action(async (options: { output?: string }, self: Command) => {
      const format = parseOutput(options.output, ['json', 'yaml']);
      const ctx = contextOf(self, io);
      const { me } = await ctx.client.request(WHOAMI, {});
      if (format.kind === 'table') io.out(`${me.subject}\n`);
      else await printStructured(io, format, me);
    });
}
