// `tagraph import-image … --dry-run`: ask the server what the import would record and print it.
import { unwrap } from './client.ts';
import { type Context, toJson } from './context.ts';
import { IMPORT_DRY_RUN } from './documents.ts';
import { CliError } from './errors.ts';
import type { ResultOf, VariablesOf } from './graphql.ts';
import { ago, humanSize } from './humanize.ts';
import { DESCRIBE, tabwrite } from './tabwriter.ts';

type Preview = NonNullable<
  Extract<
    ResultOf<typeof IMPORT_DRY_RUN>['importImage'],
    { __typename: 'ImportImagePayload' }
  >['preview']
>;

/** The preview as `Label:\tvalue` lines, laid out as `describe` lays out its fields. */
export function formatImportPreview(preview: Preview, now: number = Date.now()): string {
  const lines: [string, string][] = [
    ['Image Stream Tag', `${preview.namespace}/${preview.stream}:${preview.tag}`],
    ['From', preview.from],
    ['Import Mode', preview.importMode],
    ['Digest', preview.digest],
  ];
  if (preview.sourceDigest !== preview.digest) lines.push(['Manifest List', preview.sourceDigest]);
  lines.push(['Media Type', preview.mediaType]);
  lines.push(['Docker Image', preview.dockerImageReference]);
  const platform = [preview.os, preview.architecture, preview.variant].filter(Boolean).join('/');
  if (platform) lines.push(['Platform', platform]);
  for (const [i, p] of preview.platforms.entries()) {
    const name = [p.os, p.architecture, p.variant].filter(Boolean).join('/') || '<unknown>';
    lines.push([i === 0 ? 'Platforms' : '', `${name}\t${p.digest}`]);
  }
  if (preview.created) lines.push(['Image Created', ago(preview.created, now)]);
  if (preview.author) lines.push(['Author', preview.author]);
  if (preview.size != null) lines.push(['Image Size', humanSize(preview.size)]);
  lines.push(['Layers', String(preview.layerCount)]);
  lines.push(['Labels', String(preview.labelCount)]);
  const config = preview.config;
  if (config?.entrypoint?.length) lines.push(['Entrypoint', config.entrypoint.join(' ')]);
  if (config?.cmd?.length) lines.push(['Command', config.cmd.join(' ')]);
  if (config?.user) lines.push(['User', config.user]);
  if (config?.workingDir) lines.push(['Working Dir', config.workingDir]);
  lines.push(['Current Image', preview.currentDigest ?? '<none>']);
  lines.push([
    'Would Change',
    preview.changed ? 'yes: the tag would point at this image' : 'no: the tag points at it already',
  ]);
  const text = lines.map(([label, value]) => `${label ? `${label}:` : ''}\t${value}\n`).join('');
  return tabwrite(text, DESCRIBE);
}

/** Sends importImage with dryRun and prints its preview (or its JSON); nothing is imported. */
export async function importDryRun(
  ctx: Context,
  json: boolean,
  input: Omit<VariablesOf<typeof IMPORT_DRY_RUN>['input'], 'dryRun'>,
): Promise<void> {
  const data = await ctx.client.request(IMPORT_DRY_RUN, { input: { ...input, dryRun: true } });
  const { preview } = unwrap(data.importImage);
  if (!preview) throw new CliError('the server returned no preview');
  if (json) {
    ctx.io.out(toJson(preview));
    return;
  }
  ctx.io.out(`imagestream.image.openshift.io/${preview.stream} (dry run: nothing imported)\n\n`);
  ctx.io.out(formatImportPreview(preview));
}
