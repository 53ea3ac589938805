// Before each test file: its own database from the template; after it, a check that no server
// the file started is still running.
import { afterAll, beforeAll, inject } from 'vitest';
import { assertNothingRunning } from '../support/app.ts';
import { createFileDatabase } from '../support/database.ts';

let dropDatabase: (() => Promise<void>) | undefined;

beforeAll(async () => {
  dropDatabase = await createFileDatabase(
    inject('dbKind'),
    inject('dbServerUrl'),
    inject('dbTemplate'),
  );
});

afterAll(async () => {
  try {
    await assertNothingRunning();
  } finally {
    await dropDatabase?.();
  }
});
