// Reads deploy/ as kustomize would list it: every manifest of the base and its components.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  /** The file, relative to deploy/. */
  file: string;
  kind: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are checked field by field
  body: any;
}

export interface Kustomization {
  file: string;
  kind: string;
  resources: string[];
  components: string[];
  /** configMapGenerator entries by name: their literal key/value pairs. */
  configMaps: Map<string, Record<string, string>>;
  images: { name: string; newName?: string; newTag?: string }[];
}

export interface DeployTree {
  kustomizations: Kustomization[];
  manifests: Manifest[];
  /** Every YAML file under deploy/, relative to it. */
  files: string[];
}

/** Parses a YAML file's documents, failing on any syntax error. */
export function readYaml(path: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((document) => {
    if (document.errors.length > 0) {
      throw new Error(`${path}: ${document.errors.map((e) => e.message).join('; ')}`);
    }
    return document.toJS();
  });
}

/** The kustomization in `dir` and, through `components`, every directory it names. */
export function readDeployTree(deployDir: string): DeployTree {
  const tree: DeployTree = { kustomizations: [], manifests: [], files: yamlFiles(deployDir) };
  const visited = new Set<string>();
  const visit = (dir: string) => {
    if (visited.has(dir)) return;
    visited.add(dir);
    const file = join(dir, 'kustomization.yaml');
    const [body] = readYaml(file) as [Record<string, unknown>];
    const configMaps = new Map<string, Record<string, string>>();
    for (const generator of (body.configMapGenerator ?? []) as {
      name: string;
      literals?: string[];
    }[]) {
      const pairs = (generator.literals ?? []).map((literal) => {
        const at = literal.indexOf('=');
        return [literal.slice(0, at), literal.slice(at + 1)] as const;
      });
      configMaps.set(generator.name, Object.fromEntries(pairs));
    }
    const kustomization: Kustomization = {
      file: relative(deployDir, file),
      kind: String(body.kind),
      resources: (body.resources ?? []) as string[],
      components: (body.components ?? []) as string[],
      configMaps,
      images: (body.images ?? []) as Kustomization['images'],
    };
    tree.kustomizations.push(kustomization);
    for (const resource of kustomization.resources) {
      const path = join(dir, resource);
      for (const document of readYaml(path) as Manifest['body'][]) {
        tree.manifests.push({
          file: relative(deployDir, path),
          kind: document.kind,
          name: document.metadata?.name,
          body: document,
        });
      }
    }
    for (const component of kustomization.components) visit(join(dir, component));
  };
  visit(deployDir);
  // Optional components are not named by the base; they live under components/.
  const components = join(deployDir, 'components');
  for (const entry of readdirSync(components)) visit(join(components, entry));
  return tree;
}

function yamlFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path, root);
    return /\.ya?ml$/.test(entry) ? [relative(root, path)] : [];
  });
}

export interface PodContainer {
  workload: Manifest;
  init: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: a Kubernetes container
  container: any;
}

/** The pod spec of a Deployment, StatefulSet, DaemonSet, Job or CronJob, else null. */
// biome-ignore lint/suspicious/noExplicitAny: a Kubernetes pod spec
export function podSpec(manifest: Manifest): any {
  const { kind, body } = manifest;
  if (kind === 'CronJob') return body.spec.jobTemplate.spec.template.spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(kind)) {
    return body.spec.template.spec;
  }
  return null;
}

/** Every container and init container of every workload. */
export function podContainers(manifests: Manifest[]): PodContainer[] {
  return manifests.flatMap((workload) => {
    const spec = podSpec(workload);
    if (!spec) return [];
    return [
      // biome-ignore lint/suspicious/noExplicitAny: Kubernetes containers
      ...(spec.initContainers ?? []).map((container: any) => ({ workload, init: true, container })),
      // biome-ignore lint/suspicious/noExplicitAny: Kubernetes containers
      ...(spec.containers ?? []).map((container: any) => ({ workload, init: false, container })),
    ];
  });
}
