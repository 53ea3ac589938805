// `tagraph describe is/<name>`, `istag/<stream>:<tag>` and `isimage/<stream>@<id>`.
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.ts';
import {
  describeImageStream,
  describeImageStreamImage,
  describeImageStreamTag,
} from '../describe.ts';
import { CliError, notFound } from '../errors.ts';
import { fetchStreamImage, fetchStreamTag, listStreams, requireStream } from '../queries.ts';
import { istagName, parseResourceArgs } from '../resources.ts';
import { describeWebhook, WEBHOOK_TYPES } from '../webhooks.ts';

export function registerDescribe(program: Command, io: Io): void {
  program
    .command('describe')
    .summary('show a stream, tag or image in detail (oc describe)')
    .description(
      'Describe is/<name> (every stream without a name), istag/<stream>:<tag> or\n' +
        'isimage/<stream>@<id>, as oc describe does; webhook/<name> with its recent deliveries.',
    )
    .argument(
      '<resource...>',
      'is/<name>, istag/<stream>:<tag>, isimage/<stream>@<id>, webhook/<name>',
    )
    .action(async (args: string[], _options: object, self: Command) => {
      const webhookNames = webhookArgs(args);
      if (webhookNames) {
        const ctx = contextOf(self, io);
        if (webhookNames.length === 0) throw new CliError('describe webhook needs a name');
        const blocks: string[] = [];
        for (const name of webhookNames) blocks.push(await describeWebhook(ctx, name));
        io.out(blocks.join('\n'));
        return;
      }
      const { type, names } = parseResourceArgs(args);
      const ctx = contextOf(self, io);
      const blocks: string[] = [];
      if (type === 'is') {
        const streams =
          names.length === 0
            ? await listStreams(ctx.client, ctx.namespace)
            : await Promise.all(names.map((n) => requireStream(ctx.client, ctx.namespace, n)));
        if (streams.length === 0) ctx.warn(`no image streams in namespace ${ctx.namespace}`);
        for (const stream of streams) blocks.push(describeImageStream(stream));
      } else if (names.length === 0) {
        throw new CliError(`describe ${type} needs a name`);
      } else if (type === 'istag') {
        for (const name of names) {
          const ref = istagName(name);
          const tag = await fetchStreamTag(ctx.client, ctx.namespace, ref);
          if (!tag) throw notFound('istag', ref);
          blocks.push(describeImageStreamTag(tag));
        }
      } else {
        for (const name of names) {
          const image = await fetchStreamImage(ctx.client, ctx.namespace, name);
          if (!image) throw notFound('isimage', name);
          blocks.push(describeImageStreamImage(image));
        }
      }
      io.out(blocks.join('\n\n'));
    });
}

/** The names in `webhook/<name>…` or `webhook <name>…`; null when the arguments name no webhook. */
function webhookArgs(args: string[]): string[] | null {
  const first = args[0] ?? '';
  const [type, name] = first.split('/', 2) as [string, string | undefined];
  if (!WEBHOOK_TYPES.has(type.toLowerCase())) return null;
  return [...(name ? [name] : []), ...args.slice(1).map((a) => a.replace(/^webhooks?\//i, ''))];
}
