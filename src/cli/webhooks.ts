// `tagraph create webhook`, `get webhooks` and `describe webhook/<name>`: a namespace's outgoing webhooks.
import type { Command } from 'commander';
import type { ResultOf } from 'gql.tada';
import { unwrap } from './client.ts';
import { type Context, contextOf, type Io, toJson } from './context.ts';
import {
  CREATE_WEBHOOK,
  DESCRIBE_WEBHOOK,
  LIST_WEBHOOKS,
  type WebhookFields,
} from './documents.ts';
import { CliError, UsageError } from './errors.ts';
import { collect, parseOutput } from './flags.ts';
import { ago } from './humanize.ts';
import type { NamedKind } from './namedList.ts';
import { table } from './tabwriter.ts';

type WebhookView = ResultOf<typeof WebhookFields>;

/** The names `get` and `describe` take for webhooks. */
export const WEBHOOK_TYPES = new Set(['webhook', 'webhooks', 'wh']);

const FORMATS = ['cloudevents', 'json'];

interface CreateOptions {
  url?: string;
  stream?: string[];
  tag?: string[];
  type?: string[];
  cause?: string[];
  format?: string;
  secret?: string;
  output?: string;
}

/** `ADDED`, `added` and `Added` alike: the API's enum spelling. */
const upper = (values: string[] | undefined) =>
  (values ?? []).map((v) => v.toUpperCase().replace(/-/g, '_'));

export function registerCreateWebhook(create: Command, io: Io): void {
  create
    .command('webhook')
    .summary('POST every matching tag change to a URL, signed')
    .description(
      'Create a webhook in the namespace: each matching tag change is POSTed to --url, signed\n' +
        '(Standard Webhooks headers), as a CloudEvent (default) or plain JSON. Without --secret a\n' +
        'secret is generated and printed once: keep it to verify signatures.',
    )
    .argument('<name>', 'the webhook name (a DNS label)')
    .requiredOption('--url <url>', 'the http:// or https:// endpoint')
    .option('--stream <name>', 'only changes of this stream; repeatable', collect)
    .option('--tag <name>', 'only changes of this tag name; repeatable', collect)
    .option('--type <type>', 'only ADDED, UPDATED or DELETED; repeatable', collect)
    .option('--cause <cause>', 'only this cause (PUSH, IMPORT, TAG, …); repeatable', collect)
    .option('--format <format>', `the body: ${FORMATS.join(' or ')}`, 'cloudevents')
    .option('--secret <whsec_…>', 'use this secret instead of a generated one')
    .option('-o, --output <format>', 'json')
    .action(async (name: string, options: CreateOptions, self: Command) => {
      const output = parseOutput(options.output, ['json']);
      const format = (options.format ?? 'cloudevents').toLowerCase();
      if (!FORMATS.includes(format)) {
        throw new UsageError(`--format must be ${FORMATS.join(' or ')}`);
      }
      const ctx = contextOf(self, io);
      const data = await ctx.client.request(CREATE_WEBHOOK, {
        input: {
          namespace: ctx.namespace,
          name,
          url: options.url!,
          filter: {
            streams: options.stream ?? [],
            tags: options.tag ?? [],
            types: upper(options.type) as never,
            causes: upper(options.cause) as never,
          },
          format: format.toUpperCase() as 'JSON',
          ...(options.secret ? { secret: options.secret } : {}),
        },
      });
      const created = unwrap(data.createWebhook);
      if (output.kind === 'json') {
        io.out(toJson(created));
        return;
      }
      io.out(`webhook/${created.webhook.name} created\n`);
      if (created.secret) io.out(`secret (shown once): ${created.secret}\n`);
    });
}

function filterText(webhook: WebhookView): string {
  const { streams, tags, types, causes } = webhook.filter;
  const parts = [
    streams.length ? `streams=${streams.join(',')}` : '',
    tags.length ? `tags=${tags.join(',')}` : '',
    types.length ? `types=${types.join(',')}` : '',
    causes.length ? `causes=${causes.join(',')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : '<all>';
}

/** `get webhooks [name...]`. */
export const WEBHOOKS: NamedKind<WebhookView> = {
  resource: 'webhook',
  list: async (ctx) =>
    (await ctx.client.request(LIST_WEBHOOKS, { namespace: ctx.namespace }))
      .webhooks as WebhookView[],
  headers: ['NAME', 'URL', 'FORMAT', 'STATE', 'FILTER', 'AGE'],
  row: (w, now) => [
    w.name,
    w.url,
    w.format,
    w.enabled ? w.state : `${w.state} (disabled)`,
    filterText(w),
    ago(w.createdAt as string, now),
  ],
};

/** `describe webhook/<name>`: its settings, its condition and its ten latest deliveries. */
export async function describeWebhook(ctx: Context, name: string): Promise<string> {
  const data = await ctx.client.request(DESCRIBE_WEBHOOK, { namespace: ctx.namespace, name });
  const webhook = data.webhook as WebhookView | null;
  if (!webhook) throw new CliError(`webhook ${ctx.namespace}/${name} not found`);
  const now = Date.now();
  const lines = [
    `Name:\t\t${webhook.name}`,
    `Namespace:\t${webhook.namespace}`,
    `URL:\t\t${webhook.url}`,
    `Format:\t\t${webhook.format}`,
    `Filter:\t\t${filterText(webhook)}`,
    `Enabled:\t${webhook.enabled}`,
    `State:\t\t${webhook.state}`,
  ];
  if (webhook.condition) {
    lines.push(`Condition:\t${webhook.condition.reason}: ${webhook.condition.message}`);
  }
  lines.push(`Created:\t${ago(webhook.createdAt as string, now)} ago`, '', 'Recent deliveries:');
  const deliveries = data.webhookDeliveries.deliveries;
  if (deliveries.length === 0) lines.push('  <none>');
  else {
    lines.push(
      table(
        ['  WHEN', 'EVENT', 'ATTEMPT', 'OUTCOME', 'STATUS', 'DURATION', 'NEXT RETRY', 'ERROR'],
        deliveries.map((d) => [
          `  ${ago(d.time as string, now)}`,
          d.eventCursor ?? 'ping',
          String(d.attempt),
          d.outcome,
          d.statusCode === null ? '-' : String(d.statusCode),
          d.durationMs === null ? '-' : `${d.durationMs}ms`,
          d.nextRetryAt ? (d.nextRetryAt as string) : '-',
          d.error ?? '',
        ]),
      ).trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}
