import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { describeFailure, ImportFailure, logImportFailure } from '../../src/importer/failure.ts';

// What users and operators see of an import failure.
describe('import failures', () => {
  const sqlError = new Error(
    'Failed query: select "id", "token_hash" from "tags" where "name" = $1',
  );

  it('tells users an unexpected error happened, never its text (it may hold SQL)', () => {
    const failure = describeFailure(sqlError);
    expect(failure.reason).toBe('InternalError');
    expect(failure.message).not.toMatch(/select|tags|Failed query/);
    expect(failure.retryable).toBe(true);
  });

  it('keeps the message of failures written for users', () => {
    const failure = describeFailure(new ImportFailure('InvalidReference', 'bad reference'));
    expect(failure).toEqual({
      reason: 'InvalidReference',
      message: 'bad reference',
      retryable: false,
    });
  });

  it('logs the unexpected error whole for the operator', () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    logImportFailure(log, sqlError, { jobId: 7 });
    logImportFailure(log, new ImportFailure('InvalidReference', 'bad reference'), { jobId: 7 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Failed query/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, jobId: 7 });
  });
});
