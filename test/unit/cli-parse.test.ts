// The CLI's parsing of flags, configuration, resource names, JSONPath templates and secrets.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configPath, graphqlUrl, resolveConfig } from '../../src/cli/config.ts';
import { CliError, UsageError } from '../../src/cli/errors.ts';
import {
  normalizeBooleanFlags,
  parseDuration,
  parseImportMode,
  parseOutput,
  parseReferencePolicy,
  parseRollbackTarget,
  parseSourceKind,
} from '../../src/cli/flags.ts';
import { renderTemplate } from '../../src/cli/jsonpath.ts';
import { parseResourceArgs } from '../../src/cli/resources.ts';
import { documentFromFile, documentFromLogin, parseFromFile } from '../../src/cli/secrets.ts';

describe('boolean flags written as oc users write them', () => {
  it('turns --flag=true into --flag and --flag=false into --no-flag', () => {
    expect(
      normalizeBooleanFlags(['tag', '--alias=true', '--scheduled=false', 'a', 'b', '--insecure']),
    ).toEqual(['tag', '--alias', '--no-scheduled', 'a', 'b', '--insecure']);
    expect(normalizeBooleanFlags(['set', 'image-lookup', 'mysql', '--enabled=false'])).toEqual([
      'set',
      'image-lookup',
      'mysql',
      '--no-enabled',
    ]);
  });

  it('leaves other flags and everything after -- alone', () => {
    expect(normalizeBooleanFlags(['--import-mode=Legacy', '--', '--alias=true'])).toEqual([
      '--import-mode=Legacy',
      '--',
      '--alias=true',
    ]);
  });

  it('refuses other values as a usage error', () => {
    expect(() => normalizeBooleanFlags(['--confirm=yes'])).toThrow(UsageError);
    expect(() => normalizeBooleanFlags(['--confirm=yes'])).toThrow(
      'invalid argument "yes" for "--confirm": use true or false',
    );
  });
});

describe('flag values', () => {
  it('import mode: exactly Legacy or PreserveOriginal, with oc’s message otherwise', () => {
    expect(parseImportMode(undefined)).toBeUndefined();
    expect(parseImportMode('PreserveOriginal')).toBe('PreserveOriginal');
    expect(() => parseImportMode('preserveoriginal')).toThrow(
      new CliError('valid ImportMode values are Legacy or PreserveOriginal'),
    );
  });

  it('reference policy: source or local in any case', () => {
    expect(parseReferencePolicy('local')).toBe('Local');
    expect(parseReferencePolicy('Source')).toBe('Source');
    expect(() => parseReferencePolicy('remote')).toThrow(
      'valid reference policy values are source or local, not "remote"',
    );
  });

  it('source kind: docker, istag, isimage', () => {
    expect(parseSourceKind('docker')).toBe('DockerImage');
    expect(parseSourceKind('ImageStreamTag')).toBe('ImageStreamTag');
    expect(parseSourceKind('isimage')).toBe('ImageStreamImage');
    expect(() => parseSourceKind('git')).toThrow('invalid source "git"');
  });

  it('durations the Go way', () => {
    expect(parseDuration('60m')).toBe(3_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('60')).toThrow('invalid duration "60"');
    expect(() => parseDuration('1d')).toThrow(CliError);
  });

  it('rollback targets: index, generation, digest', () => {
    expect(parseRollbackTarget('1')).toEqual({ index: 1 });
    expect(parseRollbackTarget('index:0')).toEqual({ index: 0 });
    expect(parseRollbackTarget('generation:3')).toEqual({ generation: 3 });
    expect(parseRollbackTarget('gen:3')).toEqual({ generation: 3 });
    expect(parseRollbackTarget('sha256:abc')).toEqual({ digest: 'sha256:abc' });
    expect(parseRollbackTarget('3a335d7')).toEqual({ digest: '3a335d7' });
    expect(parseRollbackTarget('digest:1234567')).toEqual({ digest: '1234567' });
    expect(() => parseRollbackTarget('yesterday')).toThrow('invalid --to "yesterday"');
  });

  it('output formats', () => {
    expect(parseOutput(undefined, ['json'])).toEqual({ kind: 'table' });
    expect(parseOutput('yaml', ['json', 'yaml'])).toEqual({ kind: 'yaml' });
    expect(parseOutput('jsonpath={.a}', ['jsonpath'])).toEqual({
      kind: 'jsonpath',
      template: '{.a}',
    });
    expect(() => parseOutput('xml', ['json', 'yaml'])).toThrow(
      'unable to match a printer suitable for the output format "xml", allowed formats are: json,yaml',
    );
  });
});

describe('configuration', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const home = (config?: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'tagraph-cli-config-'));
    dirs.push(dir);
    if (config) {
      mkdirSync(join(dir, '.config', 'tagraph'), { recursive: true });
      writeFileSync(join(dir, '.config', 'tagraph', 'config.json'), JSON.stringify(config));
    }
    return dir;
  };

  it('server addresses become the GraphQL endpoint', () => {
    expect(graphqlUrl('http://127.0.0.1:4000')).toBe('http://127.0.0.1:4000/graphql');
    expect(graphqlUrl('tagraph.example.com:8443')).toBe('http://tagraph.example.com:8443/graphql');
    expect(graphqlUrl('https://t.example.com/api/graphql')).toBe(
      'https://t.example.com/api/graphql',
    );
    expect(() => graphqlUrl('ftp://x')).toThrow('must be http:// or https://');
  });

  it('defaults without flags, environment or file', () => {
    expect(resolveConfig({}, { HOME: home() })).toEqual({
      url: 'http://127.0.0.1:4000/graphql',
      token: null,
      namespace: 'default',
      namespaceFromFlag: false,
    });
  });

  it('flags beat the environment, which beats the config file', () => {
    const HOME = home({ server: 'http://file:1', token: 'file-token', namespace: 'from-file' });
    expect(resolveConfig({}, { HOME })).toEqual({
      url: 'http://file:1/graphql',
      token: 'file-token',
      namespace: 'from-file',
      namespaceFromFlag: false,
    });
    const env = { HOME, TAGRAPH_SERVER: 'http://env:2', TAGRAPH_TOKEN: 'env-token' };
    expect(resolveConfig({}, env)).toMatchObject({
      url: 'http://env:2/graphql',
      token: 'env-token',
    });
    expect(
      resolveConfig({ server: 'http://flag:3', token: 'flag-token', namespace: 'ns' }, env),
    ).toEqual({
      url: 'http://flag:3/graphql',
      token: 'flag-token',
      namespace: 'ns',
      namespaceFromFlag: true,
    });
  });

  it('XDG_CONFIG_HOME moves the file; a broken file is a clear error', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/tagraph/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/tagraph/config.json');
    const HOME = home();
    mkdirSync(join(HOME, '.config', 'tagraph'), { recursive: true });
    writeFileSync(join(HOME, '.config', 'tagraph', 'config.json'), '{"server": 4000}');
    expect(() => resolveConfig({}, { HOME })).toThrow('"server" must be a string');
    writeFileSync(join(HOME, '.config', 'tagraph', 'config.json'), '{server');
    expect(() => resolveConfig({}, { HOME })).toThrow('is not valid JSON');
  });
});

describe('resource arguments', () => {
  it('takes type/name and type name, with oc’s long names', () => {
    expect(parseResourceArgs(['is/python'])).toEqual({ type: 'is', names: ['python'] });
    expect(parseResourceArgs(['istag', 'python:latest', 'ruby:2.0'])).toEqual({
      type: 'istag',
      names: ['python:latest', 'ruby:2.0'],
    });
    expect(parseResourceArgs(['imagestreamimage/ruby@3a335d7'])).toEqual({
      type: 'isimage',
      names: ['ruby@3a335d7'],
    });
    expect(parseResourceArgs(['imagestreams.image.openshift.io'])).toEqual({
      type: 'is',
      names: [],
    });
  });

  it('refuses what is not an image stream resource', () => {
    expect(() => parseResourceArgs(['deploy/mysql'])).toThrow(
      'tagraph knows image streams only: is, istag and isimage, not "deploy"',
    );
    expect(() => parseResourceArgs(['is/a', 'istag/b:c'])).toThrow(UsageError);
  });
});

describe('jsonpath templates', () => {
  const istag = {
    metadata: { name: 'busybox:latest' },
    image: {
      dockerImageManifests: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    },
  };

  it('runs the seed example', () => {
    expect(
      renderTemplate(
        "{range .image.dockerImageManifests[*]}{.os}/{.architecture}{'\\n'}{end}",
        istag,
      ),
    ).toBe('linux/amd64\nlinux/arm64\n');
  });

  it('fields, indexes, wildcards, quoted keys and missing keys', () => {
    expect(renderTemplate('{.metadata.name}', istag)).toBe('busybox:latest');
    expect(renderTemplate('{.image.dockerImageManifests[*].architecture}', istag)).toBe(
      'amd64 arm64',
    );
    expect(renderTemplate('{.image.dockerImageManifests[-1].architecture}', istag)).toBe('arm64');
    expect(renderTemplate("{.metadata['name']}", istag)).toBe('busybox:latest');
    expect(renderTemplate('name={.metadata.name} missing={.nope}', istag)).toBe(
      'name=busybox:latest missing=',
    );
    expect(renderTemplate('{.image.dockerImageManifests[0]}', istag)).toBe(
      '{"os":"linux","architecture":"amd64"}',
    );
    expect(
      renderTemplate('{range .items[*]}{.name}{"\\t"}{end}', {
        items: [{ name: 'a' }, { name: 'b' }],
      }),
    ).toBe('a\tb\t');
  });

  it('refuses what it does not implement', () => {
    expect(() => renderTemplate('{.items[?(@.name=="a")]}', {})).toThrow('unsupported expression');
    expect(() => renderTemplate('{range .items[*]}{.name}', {})).toThrow('{range} without {end}');
  });
});

describe('pull secret documents', () => {
  it('reads --from-file as [key=]path', () => {
    expect(parseFromFile('.dockerconfigjson=/tmp/config.json')).toEqual({
      key: '.dockerconfigjson',
      path: '/tmp/config.json',
    });
    expect(parseFromFile('/home/me/.config/containers/auth.json')).toEqual({
      key: null,
      path: '/home/me/.config/containers/auth.json',
    });
  });

  it('keeps auths, wraps a legacy .dockercfg, refuses anything else', () => {
    const auths = { 'quay.io': { auth: 'b3Blbg==', email: 'you@example.com' } };
    expect(
      JSON.parse(documentFromFile(JSON.stringify({ auths, credsStore: 'x' }), 'f', null)),
    ).toEqual({
      auths,
    });
    expect(JSON.parse(documentFromFile(JSON.stringify(auths), 'f', '.dockercfg'))).toEqual({
      auths,
    });
    expect(() => documentFromFile('{"credsStore": "desktop"}', 'f', null)).toThrow(
      'f has no "auths"',
    );
    expect(() => documentFromFile('not json', 'f', null)).toThrow('f is not a docker config.json');
  });

  it('builds one registry’s entry for docker-registry', () => {
    expect(
      JSON.parse(
        documentFromLogin({
          server: 'sso.redhat.com',
          username: 'developer@example.com',
          password: 'secret',
          email: 'unused',
        }),
      ),
    ).toEqual({
      auths: {
        'sso.redhat.com': {
          username: 'developer@example.com',
          password: 'secret',
          auth: Buffer.from('developer@example.com:secret').toString('base64'),
          email: 'unused',
        },
      },
    });
  });
});
