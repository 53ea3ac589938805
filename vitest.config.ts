import { defineConfig } from 'vitest/config';

// Four projects: pure unit tests (no database); the integration suite run twice — once on the
// Postgres server (TAGRAPH_TEST_DATABASE_URL, default the local server) with the Postgres-only
// tests of test/postgres, and once on PGlite with the embedded-only tests of test/pglite; and
// the release tests, which run the built package as it ships (on Postgres, once).
//
// Files of all projects run two at a time, each in its own process with its own database (made
// from its project's template by test/setup/per-file.ts), its own temp directories and ports
// chosen by the kernel; they share only their project's registry, in which each file pushes to
// repositories named after its process. Most files wait on child processes, the registry,
// Postgres or chromium, so a second file fills that time; vitest's default (cores - 1) would run
// one at a time on CI's two cores. `--maxWorkers` on the command line overrides it.
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node, and so Pothos and yoga, load the CJS
    // one; vite would hand our files the ESM one, and graphql refuses types from "another realm".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/integration/**/*.test.ts', 'test/postgres/**/*.test.ts'],
          globalSetup: ['test/setup/global.ts'],
          setupFiles: ['test/setup/per-file.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/integration/**/*.test.ts', 'test/pglite/**/*.test.ts'],
          globalSetup: ['test/setup/global.ts'],
          setupFiles: ['test/setup/per-file.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'release',
          include: ['test/release/**/*.test.ts'],
          globalSetup: ['test/setup/global.ts'],
          setupFiles: ['test/setup/per-file.ts'],
        },
      },
    ],
  },
});
