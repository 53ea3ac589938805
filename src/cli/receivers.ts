// `tagraph create receiver`, `get receivers` and `delete receiver/<name>`: a namespace's webhook receivers.
import type { Command } from 'commander';
import { unwrap } from './client.ts';
import { type Context, contextOf, type Io, toJson } from './context.ts';
import { CREATE_RECEIVER, DELETE_RECEIVER, LIST_RECEIVERS } from './documents.ts';
import { UsageError } from './errors.ts';
import { parseOutput } from './flags.ts';
import type { ResultOf } from './graphql.ts';
import { ago } from './humanize.ts';
import { deleteNamed, type NamedKind } from './namedList.ts';
import { namedArgs } from './tokens.ts';

/** The names `get` and `delete` take for receivers. */
const RECEIVER_TYPES: ReadonlySet<string> = new Set(['receiver', 'receivers', 'rcv']);

const KINDS = ['docker-hub', 'quay', 'harbor', 'github', 'generic'];

/** The receiver names of `receiver a b` / `receiver/a`, or null for another resource type. */
export function receiverArgs(args: string[]): string[] | null {
  return namedArgs(args, RECEIVER_TYPES);
}

export function registerCreateReceiver(create: Command, io: Io): void {
  create
    .command('receiver')
    .summary("a URL a registry calls on a push, re-checking the namespace's following tags")
    .description(
      'Create a webhook receiver in the namespace (admins only). A call re-checks at once the\n' +
        "namespace's scheduled and policy tags following the pushed repository. The URL and, for\n" +
        'harbor, github and generic, the secret are printed once: configure them in the registry.',
    )
    .argument('<name>', 'the receiver name (a DNS label)')
    .requiredOption('--kind <kind>', `who calls: ${KINDS.join(', ')}`)
    .option('--registry <host>', 'the registry host, where the payload does not name it')
    .option('-o, --output <format>', 'json')
    .action(
      async (
        name: string,
        options: { kind: string; registry?: string; output?: string },
        self: Command,
      ) => {
        const output = parseOutput(options.output, ['json']);
        const kind = options.kind.toLowerCase().replace(/_/g, '-');
        if (!KINDS.includes(kind))
          throw new UsageError(`--kind must be one of ${KINDS.join(', ')}`);
        const ctx = contextOf(self, io);
        const data = await ctx.client.request(CREATE_RECEIVER, {
          input: {
            namespace: ctx.namespace,
            name,
            kind: kind.toUpperCase().replace(/-/g, '_') as 'GENERIC',
            ...(options.registry ? { registry: options.registry } : {}),
          },
        });
        const created = unwrap(data.createReceiver);
        const url = new URL(created.path, ctx.config.url).toString();
        if (output.kind === 'json') {
          io.out(toJson({ ...created, url }));
          return;
        }
        io.out(`receiver/${created.receiver.name} created\n`);
        io.out(`url (shown once): ${url}\n`);
        if (created.secret) io.out(`secret (shown once): ${created.secret}\n`);
      },
    );
}

type ReceiverView = ResultOf<typeof LIST_RECEIVERS>['receivers'][number];

/** `get receivers [name...]`. */
export const RECEIVERS: NamedKind<ReceiverView> = {
  resource: 'receiver',
  list: async (ctx) =>
    (await ctx.client.request(LIST_RECEIVERS, { namespace: ctx.namespace })).receivers,
  headers: ['NAME', 'KIND', 'REGISTRY', 'SIGNED', 'LAST CALLED', 'AGE'],
  row: (r, now) => [
    r.name,
    r.kind,
    r.registry ?? '<from payload>',
    r.signed ? 'yes' : 'no',
    r.lastCalledAt ? ago(r.lastCalledAt as string, now) : '<never>',
    ago(r.createdAt as string, now),
  ],
};

/** `delete receiver/<name>...`. */
export async function deleteReceivers(io: Io, ctx: Context, names: string[]): Promise<void> {
  await deleteNamed(io, 'receiver', names, async (name) => {
    const input = { namespace: ctx.namespace, name };
    return (await ctx.client.request(DELETE_RECEIVER, { input })).deleteReceiver;
  });
}
