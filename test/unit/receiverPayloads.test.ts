// Reading each vendor's push payload: normalised repositories, ignored events, and what is refused.
import { describe, expect, it } from 'vitest';
import { readReceiverPayload, sourceRepository } from '../../src/domain/receivers.ts';
import {
  dockerHubPayload,
  githubPayload,
  harborPayload,
  quayPayload,
} from '../support/receiverPayloads.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('receiver payloads', () => {
  it('reads Docker Hub on docker.io, an official image under library/', () => {
    expect(readReceiverPayload('DOCKER_HUB', dockerHubPayload('acme/web', '1.2'), null)).toEqual({
      ok: true,
      push: { repository: 'docker.io/acme/web', tags: ['1.2'] },
    });
    const official = { ...dockerHubPayload('x/y', 'latest'), repository: { repo_name: 'nginx' } };
    expect(readReceiverPayload('DOCKER_HUB', official, null)).toMatchObject({
      push: { repository: 'docker.io/library/nginx' },
    });
  });

  it("reads Quay's list and its early map of updated tags, on docker_url's host", () => {
    expect(
      readReceiverPayload('QUAY', quayPayload('quay.io', 'org/app', ['a', 'b']), null),
    ).toEqual({ ok: true, push: { repository: 'quay.io/org/app', tags: ['a', 'b'] } });
    const early = {
      ...quayPayload('quay.example.com', 'org/app', []),
      updated_tags: { v1: 'abc' },
    };
    expect(readReceiverPayload('QUAY', early, null)).toEqual({
      ok: true,
      push: { repository: 'quay.example.com/org/app', tags: ['v1'] },
    });
  });

  it("reads Harbor's PUSH_ARTIFACT and ignores its other events", () => {
    const push = harborPayload('harbor.example.com', 'library/app', 'v2', DIGEST);
    expect(readReceiverPayload('HARBOR', push, null)).toEqual({
      ok: true,
      push: { repository: 'harbor.example.com/library/app', tags: ['v2'] },
    });
    expect(readReceiverPayload('HARBOR', { ...push, type: 'PULL_ARTIFACT' }, null)).toEqual({
      ok: true,
      push: null,
      ignored: 'PULL_ARTIFACT events',
    });
  });

  it('reads a GitHub container package on ghcr.io, lower-cased, and ignores other packages', () => {
    expect(
      readReceiverPayload('GITHUB', githubPayload('Octo-Org/App', 'v3', DIGEST), null),
    ).toEqual({ ok: true, push: { repository: 'ghcr.io/octo-org/app', tags: ['v3'] } });
    const npm = githubPayload('octo/lib', 'v1', DIGEST);
    npm.package.package_type = 'npm';
    expect(readReceiverPayload('GITHUB', npm, null)).toMatchObject({ push: null });
  });

  it("reads GENERIC's repository as a pull spec's name, or as a path on the receiver's registry", () => {
    const body = { repository: 'registry.example.com:5000/team/app', tag: 'v1' };
    expect(readReceiverPayload('GENERIC', body, null)).toEqual({
      ok: true,
      push: { repository: 'registry.example.com:5000/team/app', tags: ['v1'] },
    });
    expect(
      readReceiverPayload('GENERIC', { repository: 'team/app', tag: 'v1' }, 'mirror.local:5000'),
    ).toMatchObject({ push: { repository: 'mirror.local:5000/team/app' } });
  });

  it('refuses what is no push payload, naming the fields it expected', () => {
    expect(readReceiverPayload('DOCKER_HUB', [], null)).toEqual({
      ok: false,
      error: 'the body is not a JSON object',
    });
    expect(readReceiverPayload('QUAY', { repository: 'a/b' }, null)).toMatchObject({
      ok: false,
      error: 'expected repository and updated_tags',
    });
    expect(
      readReceiverPayload('GENERIC', { repository: 'Not A Repo!', tag: 'v1' }, null),
    ).toMatchObject({ ok: false });
    expect(readReceiverPayload('GENERIC', { repository: 'a/b', tag: '-bad' }, null)).toEqual({
      ok: false,
      error: 'the payload names no valid tag',
    });
  });

  it('matches tag sources however they were spelled', () => {
    expect(sourceRepository('nginx')).toEqual({
      repository: 'docker.io/library/nginx',
      tag: 'latest',
    });
    expect(sourceRepository('index.docker.io/library/nginx:1.25')).toEqual({
      repository: 'docker.io/library/nginx',
      tag: '1.25',
    });
    expect(sourceRepository(`quay.io/org/app@${DIGEST}`)).toEqual({
      repository: 'quay.io/org/app',
      tag: null,
    });
  });
});
