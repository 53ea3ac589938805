// JSON logs with pino; redacts anything that looks like a credential.
import { type Logger, pino } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
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
    },
    destination,
  );
}
