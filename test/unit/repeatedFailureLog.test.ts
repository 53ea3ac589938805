// A background loop's repeating failure is logged with backoff, and its recovery once.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, RepeatedFailureLog } from '../../src/log.ts';

function capture() {
  const records: { level: number; msg: string; failures?: number }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      records.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { records, log: createLogger('info', stream) };
}

describe('RepeatedFailureLog', () => {
  it('logs the first failure, then repeats after 5 s, 10 s, 20 s …, and the recovery', () => {
    const { records, log } = capture();
    let now = 0;
    const failures = new RepeatedFailureLog(log, 'reading events', () => now);
    // Failing every second for a minute, as a poll against a database that is down does.
    for (now = 0; now <= 60_000; now += 1000) failures.failed(new Error('connect ECONNREFUSED'));
    const errors = records.filter((r) => r.level === 50);
    expect(errors.map((r) => r.msg)).toEqual([
      'reading events failed',
      'reading events still failing (repeats are logged with backoff)',
      'reading events still failing (repeats are logged with backoff)',
      'reading events still failing (repeats are logged with backoff)',
    ]);
    expect(errors.slice(1).map((r) => r.failures)).toEqual([6, 16, 36]);
    failures.succeeded();
    failures.succeeded();
    expect(records.filter((r) => r.msg === 'reading events works again')).toHaveLength(1);
    // A new outage starts over with the full error.
    failures.failed(new Error('again'));
    expect(records.at(-1)?.msg).toBe('reading events failed');
  });

  it('logs at warn when asked to, first failures and repeats alike', () => {
    const { records, log } = capture();
    let now = 0;
    const failures = new RepeatedFailureLog(log, 'renewing a lease', () => now, 'warn');
    failures.failed(new Error('refused'));
    now = 6000;
    failures.failed(new Error('refused'));
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [40, 'renewing a lease failed'],
      [40, 'renewing a lease still failing (repeats are logged with backoff)'],
    ]);
  });
});
