// Token-mode apps for tests, as production runs: a bootstrap admin sets up tenants, and each
// test speaks as the least-privileged caller that should succeed (or one that should not).
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { hashToken } from '../../src/auth/tokens.ts';
import type { Config } from '../../src/config.ts';
import { startTestApp, type TestApp } from './app.ts';

/** The bootstrap cluster-admin token of tenant apps. */
export const TENANT_ADMIN_TOKEN = 'tenant-test-admin-token-0123456789abcdef';

export type RoleName = 'IMAGE_PULLER' | 'EDITOR' | 'ADMIN';

export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export interface TenantApp extends TestApp {
  adminToken: string;
  /** Authorization header for a token. */
  as(token: string): Record<string, string>;
  /** Runs an operation as the caller of `token` (no assertion on errors). */
  call<T = Record<string, unknown>>(
    token: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphqlResponse<T>>;
  /** Runs an operation as the bootstrap admin and fails the test on any GraphQL error. */
  admin<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<T>;
  /** Issues an API token for `subject` (with `groups`); returns the token and its id. */
  user(subject: string, groups?: string[]): Promise<{ token: string; id: string }>;
  /** Binds `role` in `namespace` to a user (or a group, with `kind: 'Group'`). */
  grant(namespace: string, role: RoleName, name: string, kind?: 'User' | 'Group'): Promise<void>;
  /** Creates the stream `namespace/name` as the admin. */
  stream(namespace: string, name: string): Promise<void>;
  /** A user holding exactly `role` in `namespace`: its token. */
  member(namespace: string, role: RoleName, subject?: string): Promise<string>;
}

let users = 0;

/** Starts an app in token mode (introspection off, as production runs). */
export async function startTenantApp(
  overrides: Partial<Config> = {},
  options: { log?: Logger } = {},
): Promise<TenantApp> {
  const app = await startTestApp(
    {
      auth: { mode: 'token', adminTokenHash: hashToken(TENANT_ADMIN_TOKEN), jwt: null },
      introspection: false,
      ...overrides,
    },
    options,
  );
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const call = <T>(token: string, query: string, variables: Record<string, unknown> = {}) =>
    app.graphql<T>(query, variables, as(token)) as Promise<GraphqlResponse<T>>;
  const admin = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const result = await call<T>(TENANT_ADMIN_TOKEN, query, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data!;
  };
  const user = async (subject: string, groups: string[] = []) => {
    const data = await admin<{ createToken: { token: string; apiToken: { id: string } } }>(
      `mutation($input: CreateTokenInput!) { createToken(input: $input) {
        ... on CreateTokenPayload { token apiToken { id } } } }`,
      { input: { subject, groups } },
    );
    return { token: data.createToken.token, id: data.createToken.apiToken.id };
  };
  const grant = async (
    namespace: string,
    role: RoleName,
    name: string,
    kind: 'User' | 'Group' = 'User',
  ) => {
    const data = await admin<{ addRoleBinding: { __typename: string } }>(
      `mutation($input: RoleBindingInput!) { addRoleBinding(input: $input) { __typename } }`,
      { input: { namespace, role, subjectKind: kind, subjectName: name } },
    );
    expect(data.addRoleBinding.__typename).toBe('RoleBindingPayload');
  };
  const stream = async (namespace: string, name: string) => {
    const data = await admin<{ createImageStream: { __typename: string } }>(
      `mutation($ns: String!, $name: String!) {
        createImageStream(input: { namespace: $ns, name: $name }) { __typename } }`,
      { ns: namespace, name },
    );
    expect(data.createImageStream.__typename).toBe('ImageStreamPayload');
  };
  const member = async (namespace: string, role: RoleName, subject?: string) => {
    users += 1;
    const name = subject ?? `${role.toLowerCase().replace('_', '-')}-${namespace}-${users}`;
    const { token } = await user(name);
    await grant(namespace, role, name);
    return token;
  };
  return Object.assign(app, {
    adminToken: TENANT_ADMIN_TOKEN,
    as,
    call,
    admin,
    user,
    grant,
    stream,
    member,
  }) as TenantApp;
}
