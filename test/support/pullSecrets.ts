// Pull secrets for import tests: the docker config.json of a registry user, and creating one.
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

/** A docker config.json that gives `user` and `password` for `key` (a registry host, or host/path). */
export const authDocument = (key: string, user: string, password: string): string =>
  JSON.stringify({
    auths: { [key]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
  });

/** Creates pull secret `name` in `namespace` as `caller`'s view; fails the test unless it was made. */
export async function createPullSecret(
  caller: TestApp,
  namespace: string,
  name: string,
  document: string,
): Promise<void> {
  const result = await caller.graphql<{ createPullSecret: { __typename: string } }>(
    `mutation($input: PullSecretInput!) { createPullSecret(input: $input) { __typename } }`,
    { input: { namespace, name, document } },
  );
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  expect(result.data?.createPullSecret.__typename).toBe('PullSecretPayload');
}
