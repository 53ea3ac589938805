// The former name of the token-mode test app, for files not yet moved to test/support/app.ts.
import type { Logger } from 'pino';
import type { Config } from '../../src/config.ts';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './app.ts';

export type { GraphqlResponse, RoleName } from './app.ts';
export type TenantApp = TestApp;
export const TENANT_ADMIN_TOKEN = TEST_ADMIN_TOKEN;

/** `startTestApp`: token mode is its default. */
export function startTenantApp(
  overrides: Partial<Config> = {},
  options: { log?: Logger } = {},
): Promise<TestApp> {
  return startTestApp(overrides, options);
}
