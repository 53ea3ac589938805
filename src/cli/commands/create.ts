// `tagraph create secret …` (a pull secret), `create webhook …`, `create token …` and `tagraph create -f <file>` (new streams only).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { unwrap } from '../client.ts';
import { contextOf, type Io, toJson } from '../context.ts';
import { CREATE_SECRET, CREATE_TOKEN } from '../documents.ts';
import { CliError, UsageError } from '../errors.ts';
import { collect, parseOutput } from '../flags.ts';
import { registerCreateReceiver } from '../receivers.ts';
import { registerCreateRetentionPolicy } from '../retention.ts';
import { documentFromFile, documentFromLogin, parseFromFile, SECRET_TYPES } from '../secrets.ts';
import { createRobotToken } from '../tokens.ts';
import { registerCreateWebhook } from '../webhooks.ts';
import { applyFilesAction } from './apply.ts';

interface SecretOptions {
  fromFile?: string;
  type?: string;
  dockerServer?: string;
  dockerUsername?: string;
  dockerPassword?: string;
  dockerEmail?: string;
  output?: string;
}

async function readSecretFile(value: string): Promise<string> {
  const { key, path } = parseFromFile(value);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return documentFromFile(text, path, key);
}

function registerSecret(create: Command, io: Io): void {
  create
    .command('secret')
    .summary('store registry credentials for imports (oc create secret)')
    .description(
      'Store a pull secret the importer uses for private registries, from a docker config.json\n' +
        'or podman auth.json (--from-file), or from --docker-server/--docker-username/\n' +
        "--docker-password. oc's spellings work: create secret generic <name>\n" +
        '--from-file=.dockerconfigjson=<path> --type=kubernetes.io/dockerconfigjson, and\n' +
        'create secret docker-registry <name> --docker-server=… .',
    )
    .usage('[generic|docker-registry] <name> [options]')
    .argument('<args...>', '[generic|docker-registry] <name>')
    .option('--from-file <[key=]path>', 'a docker config.json or podman auth.json')
    .option('--type <type>', `the secret type: ${SECRET_TYPES.join(', ')}`)
    .option('--docker-server <server>', 'registry host (docker-registry)')
    .option('--docker-username <user>', 'user name (docker-registry)')
    .option('--docker-password <password>', 'password (docker-registry)')
    .option('--docker-email <email>', 'email (docker-registry)')
    .option('-o, --output <format>', 'json')
    .action(async (args: string[], options: SecretOptions, self: Command) => {
      const format = parseOutput(options.output, ['json']);
      const [first, ...rest] = args;
      const kind = first === 'generic' || first === 'docker-registry' ? first : null;
      const names = kind ? rest : args;
      if (names.length !== 1) throw new UsageError('create secret needs exactly one name');
      const name = names[0]!;
      if (options.type && !SECRET_TYPES.includes(options.type)) {
        throw new CliError(
          `tagraph stores registry credentials only: --type must be ${SECRET_TYPES.join(', ')}`,
        );
      }
      let document: string;
      if (kind === 'docker-registry' || (!options.fromFile && options.dockerServer)) {
        if (!options.dockerUsername || !options.dockerPassword) {
          throw new CliError('docker-registry needs --docker-username and --docker-password');
        }
        document = documentFromLogin({
          server: options.dockerServer ?? 'https://index.docker.io/v1/',
          username: options.dockerUsername,
          password: options.dockerPassword,
          email: options.dockerEmail,
        });
      } else if (options.fromFile) {
        document = await readSecretFile(options.fromFile);
      } else {
        throw new CliError('give --from-file=<config.json> (or docker-registry --docker-server=…)');
      }
      const ctx = contextOf(self, io);
      const data = await ctx.client.request(CREATE_SECRET, {
        input: { namespace: ctx.namespace, name, document },
      });
      const { pullSecret } = unwrap(data.createPullSecret);
      io.out(format.kind === 'json' ? toJson(pullSecret) : `secret/${pullSecret.name} created\n`);
    });
}

export function registerCreate(program: Command, io: Io): void {
  const create = program
    .command('create')
    .summary(
      'create image streams from a file, a pull secret, a webhook, an API token or a retention policy',
    )
    .description(
      'create -f <file|->: create the ImageStreams of a manifest (an error if one exists; see\n' +
        'apply). create secret: store registry credentials. create webhook: POST tag changes to a\n' +
        'URL. create token: issue an API token. create retentionpolicy: prune old tag history on a\n' +
        'schedule.',
    );
  applyFilesAction(create, io, {
    fileHelp: 'ImageStream YAML or JSON (- for stdin); repeatable',
    outputHelp: 'json',
    formats: ['json'],
    missing: 'create needs -f <file> or a subcommand (secret)',
    createOnly: true,
  });
  registerSecret(create, io);
  registerToken(create, io);
  registerCreateWebhook(create, io);
  registerCreateReceiver(create, io);
  registerCreateRetentionPolicy(create, io);
}

function registerToken(create: Command, io: Io): void {
  create
    .command('token')
    .summary('issue a robot token of the namespace, or an API token (cluster admins)')
    .description(
      'With --role: a robot token named <name> that holds that role in the namespace (-n) and\n' +
        'nothing elsewhere, until --expires (default 90 days); namespace admins. Without --role:\n' +
        'an API token for a user or service account <name> (cluster admins). Printed once.',
    )
    .argument(
      '<name>',
      'the robot token name, or a user or system:serviceaccount:<namespace>:<name>',
    )
    .option('--role <role>', 'image-puller, editor or admin: issue a robot token')
    .option('--expires <when>', 'a robot token lifetime (12h, 30d, 8w) or an RFC 3339 time')
    .option('--group <group>', 'a group the subject is in; repeatable', collect)
    .option('--cluster-admin', 'make the token a cluster admin')
    .option('--description <text>', 'what the token is for')
    .option('-o, --output <format>', 'json')
    .action(
      async (
        subject: string,
        options: {
          role?: string;
          expires?: string;
          group?: string[];
          clusterAdmin?: boolean;
          description?: string;
          output?: string;
        },
        self: Command,
      ) => {
        const format = parseOutput(options.output, ['json']);
        const ctx = contextOf(self, io);
        if (options.role !== undefined) {
          if (options.group?.length || options.clusterAdmin) {
            throw new UsageError('a robot token (--role) takes no --group or --cluster-admin');
          }
          await createRobotToken(ctx, subject, { ...options, role: options.role }, format);
          return;
        }
        if (options.expires !== undefined) {
          throw new UsageError('--expires is for robot tokens: give --role too');
        }
        const data = await ctx.client.request(CREATE_TOKEN, {
          input: {
            subject,
            groups: options.group ?? [],
            clusterAdmin: Boolean(options.clusterAdmin),
            description: options.description ?? '',
          },
        });
        const created = unwrap(data.createToken);
        io.out(format.kind === 'json' ? toJson(created) : `${created.token}\n`);
      },
    );
}
