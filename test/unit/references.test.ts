// Unit tests for image references: docker pull specs, stream tag/image refs, oc tag source kinds.
import { describe, expect, it } from 'vitest';
import {
  type DockerReference,
  familiarReference,
  formatReference,
  inferTagSourceKind,
  parseDockerReference,
  parseImageStreamImageRef,
  parseImageStreamTagRef,
  pinnedReference,
} from '../../src/domain/references.ts';

const HEX = '3a335d7d8a452970c5b4054ad7118ff134b3a6b50a2bb6d0c07c746e8986b28e';
const DIGEST = `sha256:${HEX}`;

function parsed(input: string): DockerReference {
  const result = parseDockerReference(input);
  if (!result.ok) throw new Error(`expected ${input} to parse: ${result.error.message}`);
  return result.value;
}

function reason(input: string): string {
  const result = parseDockerReference(input);
  if (result.ok) throw new Error(`expected ${input} to be rejected`);
  expect(result.error.code).toBe('VALIDATION');
  const prefix = `"${input}" is not a valid image reference: `;
  expect(result.error.message.startsWith(prefix)).toBe(true);
  return result.error.message.slice(prefix.length);
}

describe('parseDockerReference: normalisation (ParseNormalizedNamed + TagNameOnly)', () => {
  it.each<[string, DockerReference]>([
    ['ruby', { registry: 'docker.io', repository: 'library/ruby', tag: 'latest' }],
    ['ruby:2.0', { registry: 'docker.io', repository: 'library/ruby', tag: '2.0' }],
    ['openshift/origin', { registry: 'docker.io', repository: 'openshift/origin', tag: 'latest' }],
    ['docker.io/ruby', { registry: 'docker.io', repository: 'library/ruby', tag: 'latest' }],
    ['docker.io/library/ruby:3', { registry: 'docker.io', repository: 'library/ruby', tag: '3' }],
    ['index.docker.io/ruby', { registry: 'docker.io', repository: 'library/ruby', tag: 'latest' }],
    ['index.docker.io/a/b', { registry: 'docker.io', repository: 'a/b', tag: 'latest' }],
    ['quay.io/coreos/etcd:v3.5', { registry: 'quay.io', repository: 'coreos/etcd', tag: 'v3.5' }],
    ['quay.io/ruby', { registry: 'quay.io', repository: 'ruby', tag: 'latest' }],
    ['localhost/foo', { registry: 'localhost', repository: 'foo', tag: 'latest' }],
    ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't' }],
    ['registry:5000/x', { registry: 'registry:5000', repository: 'x', tag: 'latest' }],
    ['10.0.0.1:5000/x', { registry: '10.0.0.1:5000', repository: 'x', tag: 'latest' }],
    ['[::1]:5000/foo', { registry: '[::1]:5000', repository: 'foo', tag: 'latest' }],
    ['[2001:db8::1]/foo', { registry: '[2001:db8::1]', repository: 'foo', tag: 'latest' }],
    ['Registry/foo', { registry: 'Registry', repository: 'foo', tag: 'latest' }],
    ['a/b/c/d:e', { registry: 'docker.io', repository: 'a/b/c/d', tag: 'e' }],
    ['a__b/c-d--e.f_g', { registry: 'docker.io', repository: 'a__b/c-d--e.f_g', tag: 'latest' }],
    ['example.com', { registry: 'docker.io', repository: 'library/example.com', tag: 'latest' }],
    [`ruby@${DIGEST}`, { registry: 'docker.io', repository: 'library/ruby', digest: DIGEST }],
    [
      `quay.io/a/b:1@${DIGEST}`,
      { registry: 'quay.io', repository: 'a/b', tag: '1', digest: DIGEST },
    ],
    [`foo.com:8080/bar@${DIGEST}`, { registry: 'foo.com:8080', repository: 'bar', digest: DIGEST }],
    // A lone "sha256:<hex>" is the name "sha256" with a 64-character tag, as in docker.
    [DIGEST, { registry: 'docker.io', repository: 'library/sha256', tag: HEX }],
  ])('%s', (input, expected) => {
    expect(parseDockerReference(input)).toEqual({ ok: true, value: expected });
  });

  it('accepts other go-digest algorithms with their lengths', () => {
    expect(parsed(`x@sha512:${'a'.repeat(128)}`).digest).toBe(`sha512:${'a'.repeat(128)}`);
    expect(parsed(`x@sha384:${'a'.repeat(96)}`).digest).toBe(`sha384:${'a'.repeat(96)}`);
  });

  it('counts 255 characters on the normalised name', () => {
    // docker.io/library/ is 18 characters.
    expect(parsed('a'.repeat(237)).repository).toBe(`library/${'a'.repeat(237)}`);
    expect(reason('a'.repeat(238))).toBe('repository name must not be more than 255 characters');
    expect(parsed(`quay.io/${'a'.repeat(247)}`).registry).toBe('quay.io');
    expect(reason(`quay.io/${'a'.repeat(248)}`)).toBe(
      'repository name must not be more than 255 characters',
    );
  });
});

describe('parseDockerReference: rejections', () => {
  it.each([
    ['Ruby', 'repository name (library/Ruby) must be lowercase'],
    ['quay.io/Foo/bar', 'repository name (Foo/bar) must be lowercase'],
    ['openshift/Origin:1', 'repository name (openshift/Origin) must be lowercase'],
    ['', 'repository name must have at least one component'],
    [HEX, 'a 64-character hexadecimal string is an image id, not a name'],
    ['ruby:', 'invalid reference format'],
    [':tag', 'invalid reference format'],
    ['ruby:-x', 'invalid reference format'],
    [`ruby:${'a'.repeat(129)}`, 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    ['a/', 'invalid reference format'],
    ['-a', 'invalid reference format'],
    ['a___b', 'invalid reference format'],
    ['a.-b', 'invalid reference format'],
    ['foo_bar.com/x', '"foo_bar.com" is not a valid registry host'],
    ['localhost:abc/x', 'invalid reference format'],
    ['https://quay.io/x', 'invalid reference format'],
    ['ruby@sha256:abc', 'invalid reference format'],
    [`ruby@${DIGEST}:tag`, 'invalid reference format'],
    [`ruby@sha256:${HEX}0`, 'invalid checksum digest length (want 64 hex digits)'],
    [`ruby@sha256:${HEX.toUpperCase()}`, 'invalid checksum digest format (hex must be lowercase)'],
    [`ruby@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm "md5"'],
  ])('%s: %s', (input, why) => {
    expect(reason(input)).toBe(why);
  });

  it('aims the error at a given field', () => {
    expect(parseDockerReference('Bad', 'from.name')).toMatchObject({
      ok: false,
      error: { field: 'from.name' },
    });
  });
});

describe('formatReference / familiarReference / pinnedReference', () => {
  it.each([
    ['ruby', 'docker.io/library/ruby:latest', 'ruby:latest'],
    ['openshift/origin:v4', 'docker.io/openshift/origin:v4', 'openshift/origin:v4'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['quay.io/a/b:1', 'quay.io/a/b:1', 'quay.io/a/b:1'],
    [`ruby@${DIGEST}`, `docker.io/library/ruby@${DIGEST}`, `ruby@${DIGEST}`],
    [`ruby:2@${DIGEST}`, `docker.io/library/ruby:2@${DIGEST}`, `ruby:2@${DIGEST}`],
    ['localhost:5000/x:y', 'localhost:5000/x:y', 'localhost:5000/x:y'],
  ])('%s → %s / %s', (input, canonical, familiar) => {
    const ref = parsed(input);
    expect(formatReference(ref)).toBe(canonical);
    expect(familiarReference(ref)).toBe(familiar);
    // The canonical form parses back to the same reference.
    expect(parsed(canonical)).toEqual(ref);
  });

  it('pins a repository by digest, dropping the tag', () => {
    expect(pinnedReference(parsed('quay.io/a/b:1'), DIGEST)).toBe(`quay.io/a/b@${DIGEST}`);
  });
});

describe('parseImageStreamTagRef', () => {
  it('parses stream:tag in the default namespace', () => {
    expect(parseImageStreamTagRef('ruby:2.0', 'demo')).toEqual({
      ok: true,
      value: { namespace: 'demo', stream: 'ruby', tag: '2.0' },
    });
  });

  it('parses ns/stream:tag', () => {
    expect(parseImageStreamTagRef('openshift/ruby:latest', 'demo')).toEqual({
      ok: true,
      value: { namespace: 'openshift', stream: 'ruby', tag: 'latest' },
    });
  });

  it('reads a bare tag as a tag of the default stream when one is given', () => {
    expect(parseImageStreamTagRef('2.0', 'demo', 'ruby')).toEqual({
      ok: true,
      value: { namespace: 'demo', stream: 'ruby', tag: '2.0' },
    });
  });

  it('requires a tag when no default stream is given', () => {
    expect(parseImageStreamTagRef('ruby', 'demo')).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION',
        message: '"ruby" must be of the form [<namespace>/]<stream>:<tag>',
      },
    });
  });

  it.each([
    [
      'a/b/c:1',
      'name',
      `"a/b/c:1" has more than one '/': expected [<namespace>/]<stream>, without a registry`,
    ],
    ['/ruby:1', 'namespace', 'namespace "" must be a DNS-1123 label'],
    ['Demo/ruby:1', 'namespace', 'namespace "Demo" must be a DNS-1123 label'],
    ['Ruby:1', 'name', 'image stream name "Ruby" must be lowercase'],
    ['ruby:', 'tag', 'tag "" must start with'],
    ['ruby:a:b', 'tag', 'tag "a:b" must start with'],
    ['ruby:-1', 'tag', 'tag "-1" must start with'],
  ])('rejects %s', (input, field, message) => {
    const result = parseImageStreamTagRef(input, 'demo');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('VALIDATION');
      expect(result.error.message).toContain(message);
      if (!input.startsWith('a/b/c')) expect(result.error.field).toBe(field);
    }
  });

  it('aims every problem at a given field', () => {
    expect(parseImageStreamTagRef('X/ruby:1', 'demo', undefined, 'from')).toMatchObject({
      ok: false,
      error: { field: 'from' },
    });
    expect(parseImageStreamTagRef('ruby', 'demo', undefined, 'from')).toMatchObject({
      ok: false,
      error: { field: 'from' },
    });
  });
});

describe('parseImageStreamImageRef', () => {
  it('parses stream@shortid and ns/stream@digest, normalising the id', () => {
    expect(parseImageStreamImageRef('ruby@3a335d7', 'demo')).toEqual({
      ok: true,
      value: { namespace: 'demo', stream: 'ruby', id: '3a335d7' },
    });
    expect(parseImageStreamImageRef(`openshift/ruby@${DIGEST.toUpperCase()}`, 'demo')).toEqual({
      ok: true,
      value: { namespace: 'openshift', stream: 'ruby', id: HEX },
    });
  });

  it('reads a bare id as an image of the default stream when one is given', () => {
    expect(parseImageStreamImageRef('3a3', 'demo', 'ruby')).toEqual({
      ok: true,
      value: { namespace: 'demo', stream: 'ruby', id: '3a3' },
    });
  });

  it('requires exactly one @', () => {
    const message = '"ruby" must be of the form [<namespace>/]<stream>@<id>';
    expect(parseImageStreamImageRef('ruby', 'demo')).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message },
    });
    expect(parseImageStreamImageRef('ruby@a@b', 'demo')).toMatchObject({
      ok: false,
      error: { message: '"ruby@a@b" must be of the form [<namespace>/]<stream>@<id>' },
    });
  });

  it('rejects bad stream names and bad ids', () => {
    expect(parseImageStreamImageRef('Ruby@abc', 'demo')).toMatchObject({
      ok: false,
      error: { field: 'name' },
    });
    expect(parseImageStreamImageRef('ruby@xyz', 'demo')).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', field: 'id' },
    });
    expect(parseImageStreamImageRef('ruby@', 'demo')).toMatchObject({
      ok: false,
      error: { field: 'id', message: `image id "" is empty; give a prefix of the digest's hex` },
    });
  });
});

describe('inferTagSourceKind (oc tag without --source)', () => {
  it.each([
    // A registry in the first of several components: a docker image.
    ['docker.io/ruby', 'DockerImage'],
    ['docker.io/library/ruby:2.0', 'DockerImage'],
    ['quay.io/a/b:1', 'DockerImage'],
    [`quay.io/a/b@${DIGEST}`, 'DockerImage'],
    ['localhost/x:1', 'DockerImage'],
    ['registry:5000/x', 'DockerImage'],
    ['[::1]:5000/x', 'DockerImage'],
    ['10.0.0.1/x@abc', 'DockerImage'],
    // No registry, an id: an image of a stream.
    [`ruby@${DIGEST}`, 'ImageStreamImage'],
    ['ruby@3a335d7', 'ImageStreamImage'],
    ['openshift/ruby@3a3', 'ImageStreamImage'],
    // No registry, a tag: a tag of a stream.
    ['ruby:2.0', 'ImageStreamTag'],
    ['openshift/ruby:2.0', 'ImageStreamTag'],
    // Neither: a docker image on Docker Hub, as oc decides.
    ['ruby', 'DockerImage'],
    ['openshift/ruby', 'DockerImage'],
    // "localhost" alone is a stream name, not a registry, when nothing follows it.
    ['localhost:1', 'ImageStreamTag'],
  ])('%s → %s', (source, kind) => {
    expect(inferTagSourceKind(source)).toBe(kind);
  });
});
