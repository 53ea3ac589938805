// deploy/ and the Dockerfile against the code: variables config.ts reads, probe paths the server
// serves, entry points the build writes, secrets only by reference, a locked-down pod.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, isSecretVariable, loadConfig } from '../../src/config.ts';
import { METRICS_PATH } from '../../src/metrics.ts';
import { HEALTH_PATH, READY_PATH } from '../../src/server/routes.ts';
import { readDockerfile } from '../support/dockerfile.ts';
import { buildEntryPoints } from '../support/entryPoints.ts';
import { type Manifest, podContainers, podSpec, readDeployTree } from '../support/manifests.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tree = readDeployTree(`${root}/deploy`);
const runtime = readDockerfile(root).at(-1)!;
const containers = podContainers(tree.manifests);
const configMaps = new Map(tree.kustomizations.flatMap((k) => [...k.configMaps]));

/** A variable whose value must come from a Secret: config.ts's secrets, and the database URL. */
const mustBeSecret = (name: string) => isSecretVariable(name) || name === 'DATABASE_URL';

function workload(name: string): Manifest {
  const found = tree.manifests.find((m) => m.name === name);
  if (!found) throw new Error(`deploy/ has no ${name}`);
  return found;
}

// biome-ignore lint/suspicious/noExplicitAny: a Kubernetes container
function container(workloadName: string, containerName: string): any {
  const found = containers.find(
    (c) => c.workload.name === workloadName && c.container.name === containerName,
  );
  if (!found) throw new Error(`${workloadName} has no container ${containerName}`);
  return found.container;
}

/**
 * The environment a container gets: its ConfigMaps, its literal values, and a stand-in for each
 * Secret reference (a valid value of that variable, as the operator's Secret must hold).
 */
// biome-ignore lint/suspicious/noExplicitAny: a Kubernetes container
function environmentOf(c: any): Record<string, string> {
  const stand: Record<string, string> = {
    DATABASE_URL: 'postgres://tagraph:password@db:5432/tagraph',
    TAGRAPH_SECRET_KEY: 'ab'.repeat(32),
    TAGRAPH_ADMIN_TOKEN: 'a'.repeat(40),
    TAGRAPH_PUSH_REGISTRIES: '[{"host":"registry.example.com","token":"0123456789abcdef"}]',
    TAGRAPH_METRICS_TOKEN: 'm'.repeat(32),
  };
  const env: Record<string, string> = { ...runtime.env };
  for (const from of c.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef?.name));
  for (const variable of c.env ?? []) {
    if (variable.valueFrom?.secretKeyRef) {
      if (!(variable.name in stand)) throw new Error(`no stand-in value for ${variable.name}`);
      env[variable.name] = stand[variable.name]!;
    } else env[variable.name] = String(variable.value);
  }
  return env;
}

// biome-ignore lint/suspicious/noExplicitAny: a Kubernetes container
function portNumber(c: any, name: string): number {
  // biome-ignore lint/suspicious/noExplicitAny: a Kubernetes container port
  const port = (c.ports ?? []).find((p: any) => p.name === name);
  if (!port) throw new Error(`${c.name} has no port named ${name}`);
  return port.containerPort;
}

describe('deploy/', () => {
  it('every YAML file is part of the base or a component, and every document has a kind', () => {
    const listed = new Set([
      ...tree.kustomizations.map((k) => k.file),
      ...tree.manifests.map((m) => m.file),
    ]);
    expect(tree.files.filter((file) => !listed.has(file))).toEqual([]);
    for (const manifest of tree.manifests) {
      expect(manifest.kind, manifest.file).toMatch(/^[A-Z]\w+$/);
      expect(manifest.name, manifest.file).toMatch(/^[a-z0-9-]+$/);
    }
    expect(tree.kustomizations.map((k) => k.kind).sort()).toEqual(['Component', 'Kustomization']);
  });

  it('sets only variables config.ts reads, and its settings load as a configuration', () => {
    expect(containers.length).toBeGreaterThanOrEqual(3);
    const known = new Set(CONFIG_VARIABLES);
    for (const literals of configMaps.values()) {
      expect(Object.keys(literals).filter((name) => !known.has(name))).toEqual([]);
    }
    for (const { workload: w, container: c } of containers) {
      // biome-ignore lint/suspicious/noExplicitAny: Kubernetes env entries
      const names = (c.env ?? []).map((variable: any) => variable.name as string);
      expect(
        names.filter((name: string) => !known.has(name)),
        `${w.name}/${c.name}`,
      ).toEqual([]);
      expect(new Set(names).size, `${w.name}/${c.name} sets a variable twice`).toBe(names.length);
      for (const from of c.envFrom ?? []) {
        expect(configMaps.has(from.configMapRef?.name), JSON.stringify(from)).toBe(true);
      }
      expect(() => loadConfig(environmentOf(c)), `${w.name}/${c.name}`).not.toThrow();
    }
  });

  it('takes every secret from a Secret, never inline', () => {
    for (const literals of configMaps.values()) {
      expect(Object.keys(literals).filter(mustBeSecret)).toEqual([]);
    }
    let referenced = 0;
    for (const { workload: w, container: c } of containers) {
      for (const variable of c.env ?? []) {
        if (!mustBeSecret(variable.name)) continue;
        expect(variable.value, `${w.name}/${c.name} ${variable.name}`).toBeUndefined();
        expect(variable.valueFrom?.secretKeyRef, `${w.name}/${c.name} ${variable.name}`).toEqual(
          expect.objectContaining({ name: 'tagraph', key: expect.any(String) }),
        );
        referenced++;
      }
    }
    // The database URL and the secret key in each of migrate, gateway and worker at least.
    expect(referenced).toBeGreaterThanOrEqual(6);
    expect(tree.manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
  });

  it('runs the entry points the build writes, as the npm scripts run them, on the image', async () => {
    const entryPoints = await buildEntryPoints(root);
    const manifest = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    /** `npm start`, `npm run worker`, `npm run migrate` as argv, without the shell's `exec`. */
    const script = (name: string) => manifest.scripts[name].replace(/^exec /, '').split(/\s+/);
    for (const { workload: w, container: c } of containers) {
      const where = `${w.name}/${c.name}`;
      expect(c.image, where).toBe('tagraph');
      expect(c.command?.[0], where).toBe('node');
      expect(entryPoints, where).toContain(c.command.at(-1));
    }
    const [image] = tree.kustomizations.find((k) => k.kind === 'Kustomization')!.images;
    expect(image?.name).toBe('tagraph');
    expect(container('tagraph-gateway', 'migrate').command).toEqual(script('migrate'));
    expect(container('tagraph-gateway', 'gateway').command).toEqual(script('start'));
    expect(container('tagraph-worker', 'worker').command).toEqual(script('worker'));
    // The gateway runs what the image runs by default.
    expect(runtime.cmd).toEqual(script('start'));
    expect(runtime.entrypoint).toBeNull();
  });

  it('runs the gateway as two replicas without the worker, probed on the paths it serves', () => {
    const gateway = workload('tagraph-gateway');
    expect(gateway.body.spec.replicas).toBe(2);
    const c = container('tagraph-gateway', 'gateway');
    const config = loadConfig(environmentOf(c));
    expect(config.importWorker).toBe(false);
    expect(config.host).toBe('0.0.0.0');
    expect(config.auth.mode).toBe('token');
    expect(config.port).toBe(portNumber(c, 'http'));
    expect(config.metrics.port).toBe(portNumber(c, 'metrics'));
    expect(runtime.expose).toContain(config.port);

    expect(c.readinessProbe.httpGet).toEqual({ path: READY_PATH, port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });
    if (c.startupProbe) expect(c.startupProbe.httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });

    const worker = loadConfig(environmentOf(container('tagraph-worker', 'worker')));
    expect(worker.database.kind).toBe('postgres');
  });

  it('locks every pod down: non-root as the image user, read-only root, no capabilities', () => {
    const imageUid = Number.parseInt(runtime.user!.split(':')[0]!, 10);
    expect(imageUid).toBeGreaterThan(0);
    const workloads = tree.manifests.filter((m) => podSpec(m));
    expect(workloads.map((m) => m.name).sort()).toEqual(['tagraph-gateway', 'tagraph-worker']);
    for (const w of workloads) {
      const spec = podSpec(w);
      expect(spec.securityContext, w.name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: imageUid,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken, w.name).toBe(false);
      expect(spec.hostNetwork ?? false, w.name).toBe(false);
    }
    for (const { workload: w, container: c } of containers) {
      const where = `${w.name}/${c.name}`;
      expect(c.securityContext, where).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      for (const kind of ['requests', 'limits']) {
        expect(Object.keys(c.resources?.[kind] ?? {}).sort(), `${where} ${kind}`).toEqual([
          'cpu',
          'memory',
        ]);
      }
      // The one writable place is /tmp, an emptyDir with a size limit.
      for (const mount of c.volumeMounts ?? []) {
        // biome-ignore lint/suspicious/noExplicitAny: Kubernetes volumes
        const volume = podSpec(w).volumes.find((v: any) => v.name === mount.name);
        expect(volume?.emptyDir?.sizeLimit, `${where} ${mount.mountPath}`).toBeDefined();
      }
    }
  });

  it('routes the Service, the disruption budget and the ServiceMonitor to the gateway', () => {
    const gateway = workload('tagraph-gateway');
    const podLabels = gateway.body.spec.template.metadata.labels;
    const c = container('tagraph-gateway', 'gateway');
    const service = workload('tagraph');
    expect(service.kind).toBe('Service');
    expect(podLabels).toMatchObject(service.body.spec.selector);
    expect(podLabels).toMatchObject(gateway.body.spec.selector.matchLabels);
    for (const port of service.body.spec.ports) portNumber(c, port.targetPort);

    const budget = tree.manifests.find((m) => m.kind === 'PodDisruptionBudget')!;
    expect(podLabels).toMatchObject(budget.body.spec.selector.matchLabels);
    expect(budget.body.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(budget.body.spec.minAvailable).toBeLessThan(gateway.body.spec.replicas);

    const monitor = tree.manifests.find((m) => m.kind === 'ServiceMonitor')!;
    expect(monitor.file).toMatch(/^components\//);
    expect(service.body.metadata.labels).toMatchObject(monitor.body.spec.selector.matchLabels);
    const [endpoint] = monitor.body.spec.endpoints;
    expect(endpoint.path).toBe(METRICS_PATH);
    // biome-ignore lint/suspicious/noExplicitAny: Kubernetes service ports
    const port = service.body.spec.ports.find((p: any) => p.name === endpoint.port);
    expect(port.targetPort).toBe('metrics');
    expect(endpoint.authorization.credentials).toEqual({ name: 'tagraph', key: 'metrics-token' });
    // The token the ServiceMonitor sends is the one the gateway checks.
    // biome-ignore lint/suspicious/noExplicitAny: Kubernetes env entries
    const token = c.env.find((v: any) => v.name === 'TAGRAPH_METRICS_TOKEN');
    expect(token.valueFrom.secretKeyRef).toMatchObject(endpoint.authorization.credentials);
  });
});
