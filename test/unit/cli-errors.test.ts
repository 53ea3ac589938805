// Unit tests for the CLI's oc-form error lines: NotFound, AlreadyExists, Forbidden, BadRequest.
import { describe, expect, it } from 'vitest';
import { alreadyExists, forbidden, notFound } from '../../src/cli/errors.ts';
import { istagName } from '../../src/cli/resources.ts';

describe('oc error lines', () => {
  it('NotFound and AlreadyExists name the resource as the API does', () => {
    expect(notFound('is', 'x').message).toBe(
      'Error from server (NotFound): imagestreams.image.openshift.io "x" not found',
    );
    expect(notFound('istag', 's:t').message).toBe(
      'Error from server (NotFound): imagestreamtags.image.openshift.io "s:t" not found',
    );
    expect(alreadyExists('is', 'x').message).toBe(
      'Error from server (AlreadyExists): imagestreams.image.openshift.io "x" already exists',
    );
    expect(notFound('is', 'x').prefix).toBe('');
  });

  it("Forbidden: the server's message with the resource in front", () => {
    expect(
      forbidden(
        'forbidden: User "bob" cannot update resource "imagestreamtags" in the namespace "ns" (it needs the role EDITOR there)',
      ).message,
    ).toBe(
      'Error from server (Forbidden): imagestreamtags.image.openshift.io is forbidden: User "bob" cannot update resource "imagestreamtags" in the namespace "ns" (it needs the role EDITOR there)',
    );
    expect(forbidden('forbidden: User "bob" cannot list resource "namespaces"').message).toBe(
      'Error from server (Forbidden): namespaces is forbidden: User "bob" cannot list resource "namespaces"',
    );
  });

  it('istag names need <stream>:<tag>', () => {
    expect(istagName('s:t')).toBe('s:t');
    for (const bad of ['s', 's:', ':t', 's:t:u', 's@sha256:abc']) {
      expect(() => istagName(bad), bad).toThrow(
        'Error from server (BadRequest): ImageStreamTags must be retrieved with <name>:<tag>',
      );
    }
  });
});
