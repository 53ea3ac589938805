// Logs: JSON lines with pino (pretty in a terminal); redacts anything that looks like a credential.
import type { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

const OPTIONS: pino.LoggerOptions = {
  base: { service: 'tagraph' },
  redact: {
    paths: [
      'req.headers.authorization',
      'headers.authorization',
      '*.password',
      '*.token',
      '*.auth',
    ],
    censor: '[redacted]',
  },
};

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ ...OPTIONS, level }, destination);
}

/**
 * The process's logger: JSON lines on stdout, the format log collectors and tests read; when
 * stdout is a terminal, and TAGRAPH_LOG_FORMAT does not say `json`, the same records through
 * pino-pretty (colour, local time, one line per record plus the fields), loaded only then.
 */
export async function createProcessLogger(
  level: string,
  format: 'auto' | 'json' | 'pretty',
): Promise<Logger> {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return createLogger(level);
  const { default: pinoPretty } = await import('pino-pretty');
  const stream = pinoPretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    sync: true,
    destination: process.stdout as unknown as Writable & { fd?: number },
  });
  return createLogger(level, stream);
}

/** First repeat of a failure is logged this long after the first, then twice as long each time. */
const FIRST_REPEAT_MS = 5_000;
const MAX_REPEAT_MS = 5 * 60_000;

/**
 * Logs a background loop's failures without flooding the log while they repeat (a database that
 * is down fails every poll): the first failure in full, then a reminder with the count after
 * 5 s, 10 s, 20 s … at most every 5 minutes, and one line when the loop succeeds again.
 */
export class RepeatedFailureLog {
  private failures = 0;
  private since = 0;
  private nextAt = 0;
  private gapMs = FIRST_REPEAT_MS;

  constructor(
    private readonly log: Logger,
    /** What the loop does, as in "reading events": the lines say it failed, still fails, works. */
    private readonly what: string,
    private readonly now: () => number = Date.now,
    /** `warn` for a loop whose failure costs a retry, not a function. */
    private readonly level: 'error' | 'warn' = 'error',
  ) {}

  failed(error: unknown): void {
    const now = this.now();
    this.failures += 1;
    if (this.failures === 1) {
      this.since = now;
      this.nextAt = now + this.gapMs;
      this.log[this.level]({ err: error }, `${this.what} failed`);
      return;
    }
    if (now < this.nextAt) return;
    this.log[this.level](
      {
        failures: this.failures,
        failingForSeconds: Math.round((now - this.since) / 1000),
        error: error instanceof Error ? error.message : String(error),
      },
      `${this.what} still failing (repeats are logged with backoff)`,
    );
    this.gapMs = Math.min(this.gapMs * 2, MAX_REPEAT_MS);
    this.nextAt = now + this.gapMs;
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.log.info(
      {
        failures: this.failures,
        failingForSeconds: Math.round((this.now() - this.since) / 1000),
      },
      `${this.what} works again`,
    );
    this.failures = 0;
    this.gapMs = FIRST_REPEAT_MS;
  }
}
