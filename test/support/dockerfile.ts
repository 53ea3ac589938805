// Reads the repository's Dockerfile into stages, so tests check the image the file really builds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DockerCopy {
  /** The stage copied from, or null for the build context. */
  from: string | null;
  sources: string[];
  destination: string;
}

export interface DockerStage {
  name: string | null;
  base: string;
  workdir: string;
  copies: DockerCopy[];
  env: Record<string, string>;
  user: string | null;
  expose: number[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  /** RUN commands (shell form), whitespace collapsed. */
  runs: string[];
}

/**
 * Instructions this reader understands. Any other one is an error rather than skipped, so a new
 * way of putting files into the image (ADD, a bind mount) cannot slip past the tests.
 */
const KNOWN = new Set([
  'ARG',
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ENV',
  'USER',
  'EXPOSE',
  'CMD',
  'ENTRYPOINT',
]);

/** The Dockerfile at `root`, parsed into its stages in order. */
export function readDockerfile(root: string): DockerStage[] {
  return parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
}

export function parseDockerfile(text: string): DockerStage[] {
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s+([\s\S]*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile: cannot read ${JSON.stringify(line)}`);
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!.trim();
    if (!KNOWN.has(instruction)) throw new Error(`Dockerfile: ${instruction} is not understood`);
    const stage = stages.at(-1);
    if (instruction === 'ARG') {
      const [name, value = ''] = rest.split('=', 2) as [string, string?];
      args[name] = value;
      continue;
    }
    if (instruction === 'FROM') {
      const [base, as, name] = rest.split(/\s+/);
      const known = stages.find((s) => s.name === base);
      stages.push({
        name: as?.toUpperCase() === 'AS' ? (name ?? null) : null,
        base: substitute(base!, args),
        workdir: known?.workdir ?? '/',
        copies: [],
        env: { ...known?.env },
        user: known?.user ?? null,
        expose: [],
        cmd: known?.cmd ?? null,
        entrypoint: known?.entrypoint ?? null,
        runs: [],
      });
      continue;
    }
    if (!stage) throw new Error(`Dockerfile: ${instruction} before FROM`);
    switch (instruction) {
      case 'WORKDIR':
        stage.workdir = rest.startsWith('/') ? rest : `${stage.workdir.replace(/\/$/, '')}/${rest}`;
        break;
      case 'COPY': {
        const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
        let from: string | null = null;
        const paths: string[] = [];
        for (const word of words) {
          if (word.startsWith('--from=')) from = word.slice('--from='.length);
          else if (word.startsWith('--'))
            throw new Error(`Dockerfile: COPY ${word} not understood`);
          else paths.push(word);
        }
        if (paths.length < 2) throw new Error(`Dockerfile: COPY ${rest} needs a destination`);
        stage.copies.push({ from, sources: paths.slice(0, -1), destination: paths.at(-1)! });
        break;
      }
      case 'ENV':
        for (const [, name, value] of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
          stage.env[name!] = value!.replace(/^"|"$/g, '');
        }
        break;
      case 'RUN':
        stage.runs.push(rest.replace(/\s+/g, ' '));
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/).map((port) => Number.parseInt(port, 10)));
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        // Only the exec form: the shell form would put a shell between the signals and node.
        if (!rest.startsWith('[')) throw new Error(`Dockerfile: ${instruction} must be exec form`);
        const words = JSON.parse(rest) as string[];
        if (instruction === 'CMD') stage.cmd = words;
        else stage.entrypoint = words;
        break;
      }
    }
  }
  return stages;
}

/** Lines with comments and blank lines dropped and `\` continuations joined. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed === '') continue;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + trimmed);
    pending = '';
  }
  if (pending) lines.push(pending.trim());
  return lines;
}

function substitute(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? '');
}
