// `tagraph watch [<stream>[:<tag>]]`: one line per tag change, over graphql-ws. After a dropped
// connection it subscribes again with `since: <last cursor>`, so nothing is missed or repeated.
import type { Command } from 'commander';
import type WebSocket from 'ws';
import { UNTRUSTED_CLI_HINT } from '../client.ts';
import { contextOf, type Io } from '../context.ts';
import { TAG_CHANGED } from '../documents.ts';
import { CliError } from '../errors.ts';
import { parseCount, parseOutput } from '../flags.ts';
import { documentText, type ResultOf, textHash, type VariablesOf } from '../graphql.ts';

export type TagChange = ResultOf<typeof TAG_CHANGED>['tagChanged'];

/** One line: `<time> <TYPE> <CAUSE> <ns>/<stream>:<tag> <what it points at now>`. */
export function formatChange(change: TagChange): string {
  const name = `${change.namespace}/${change.stream}:${change.tag}`;
  let detail = '';
  if (change.importFailure) {
    detail = ` import failed (${change.importFailure.reason}): ${change.importFailure.message}`;
  } else if (change.current) {
    detail = ` ${change.current.dockerImageReference}`;
  } else if (change.type !== 'DELETED') {
    detail = ' spec changed';
  }
  return `${change.time} ${change.type} ${change.cause} ${name}${detail}\n`;
}

/** Close codes after which subscribing again cannot help. */
const FATAL_CLOSES: Record<number, string> = {
  4400: 'the server refused the subscription request',
  4401: 'unauthorized: pass a token with --token, TAGRAPH_TOKEN or the config file',
  4403: 'forbidden: the token was refused',
  4406: 'the server does not speak graphql-transport-ws',
};

/** How a dropped connection is described, or a CliError when it cannot be resumed. */
function dropReason(error: unknown): string {
  const close = error as { code?: unknown; reason?: unknown };
  if (typeof close?.code === 'number') {
    const fatal = FATAL_CLOSES[close.code];
    if (fatal) throw new CliError(fatal);
    const reason = typeof close.reason === 'string' && close.reason ? `: ${close.reason}` : '';
    return `closed with code ${close.code}${reason}`;
  }
  if (error instanceof Error) return error.message || error.name;
  const message = (error as { message?: unknown })?.message;
  return typeof message === 'string' && message ? message : 'connection error';
}

/** The first GraphQL error of a refused subscribe (graphql-ws hands over the error list). */
function refusal(error: unknown): { message: string; extensions?: { code?: string } } | null {
  if (!Array.isArray(error)) return null;
  const first = error[0] as { message?: unknown; extensions?: { code?: string } } | undefined;
  return typeof first?.message === 'string'
    ? { message: first.message, extensions: first.extensions }
    : null;
}

function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** `ws` with the Authorization header on the upgrade request as well. */
function webSocketWith(Base: typeof WebSocket, headers: Record<string, string>): typeof WebSocket {
  return class extends Base {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  } as typeof WebSocket;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2000;

interface WatchOptions {
  since?: string;
  limit?: string;
  output?: string;
}

export function registerWatch(program: Command, io: Io): void {
  program
    .command('watch')
    .summary('follow tag changes as they happen')
    .description(
      'Print one line per tag change in the namespace (or of one stream, or one tag) until\n' +
        'interrupted: time, type, cause, tag, and what it points at now. A dropped connection\n' +
        'is resumed from the last change seen, so none is missed. -o json prints each change as\n' +
        'one JSON line with its cursor, which --since takes to start after it.',
    )
    .argument('[target]', '<stream> or <stream>:<tag>')
    .option('--since <cursor>', 'replay the changes after this cursor first')
    .option('--limit <n>', 'exit after this many changes')
    .option('-o, --output <format>', 'json: one JSON object per line')
    .action(async (target: string | undefined, options: WatchOptions, self: Command) => {
      const format = parseOutput(options.output, ['json']);
      const limit = options.limit === undefined ? null : parseCount('limit', options.limit, 1);
      const ctx = contextOf(self, io);
      // Loaded here: only watch speaks graphql-ws.
      const [{ createClient }, { default: WebSocketImpl }] = await Promise.all([
        import('graphql-ws'),
        import('ws'),
      ]);
      const colon = target?.lastIndexOf(':') ?? -1;
      const stream = target ? (colon >= 0 ? target.slice(0, colon) : target) : null;
      const tag = target && colon >= 0 ? target.slice(colon + 1) : null;
      let since = options.since ?? null;
      let seen = 0;
      let everConnected = false;
      let retryMs = FIRST_RETRY_MS;
      let announced = false;
      // By hash first, as trusted-documents servers want it; with the text once the server
      // answered that it does not know the hash (automatic persisted queries).
      const text = documentText(TAG_CHANGED);
      const extensions = { persistedQuery: { version: 1, sha256Hash: textHash(text) } };
      let withText = false;

      for (;;) {
        const client = createClient({
          url: webSocketUrl(ctx.config.url),
          webSocketImpl: webSocketWith(WebSocketImpl, ctx.client.headers),
          connectionParams: ctx.config.token
            ? { authorization: `Bearer ${ctx.config.token}` }
            : undefined,
          retryAttempts: 0,
          lazy: true,
          on: {
            connected: () => {
              everConnected = true;
              announced = false;
              retryMs = FIRST_RETRY_MS;
            },
          },
        });
        let drop = 'the server ended the subscription';
        try {
          const results = client.iterate<ResultOf<typeof TAG_CHANGED>>({
            query: withText ? text : '',
            extensions,
            variables: { namespace: ctx.namespace, stream, tag, since } satisfies VariablesOf<
              typeof TAG_CHANGED
            >,
          });
          for await (const result of results) {
            const slow = result.errors?.find((e) => e.extensions?.code === 'SLOW_CONSUMER');
            if (slow) {
              drop = 'too far behind';
              break;
            }
            if (result.errors?.length) {
              const [first, ...rest] = result.errors.map((e) => e.message);
              throw new CliError(first!, rest);
            }
            const change = result.data?.tagChanged;
            if (!change) continue;
            io.out(format.kind === 'json' ? `${JSON.stringify(change)}\n` : formatChange(change));
            since = change.cursor;
            seen++;
            if (limit !== null && seen >= limit) return;
          }
        } catch (error) {
          if (error instanceof CliError) throw error;
          const refused = refusal(error);
          if (refused?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND' && !withText) {
            withText = true;
            continue;
          }
          if (refused) {
            const only = refused.extensions?.code === 'PERSISTED_QUERY_ONLY';
            throw new CliError(refused.message, only ? [UNTRUSTED_CLI_HINT] : []);
          }
          drop = dropReason(error);
          if (!everConnected) {
            throw new CliError(`cannot watch through ${webSocketUrl(ctx.config.url)}: ${drop}`);
          }
        } finally {
          await client.dispose();
        }
        if (!announced) {
          io.err(
            `watch: connection lost (${drop}); reconnecting${since ? ` after cursor ${since}` : ''}\n`,
          );
          announced = true;
        }
        await new Promise((resume) => setTimeout(resume, retryMs));
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    });
}
