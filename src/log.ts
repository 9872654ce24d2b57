import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Builds the process logger. Paths that may carry personal data (emails, names, addresses,
 * signatures, secrets) are redacted so logs can be shipped anywhere.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'shipcast',
      level: opts.level ?? 'info',
      redact: {
        paths: [
          '*.email', '*.to', '*.to_address', '*.recipient', '*.name', '*.address',
          '*.authorization', '*.signature', '*.secret', '*.apiKey', '*.key',
          'req.headers.authorization', 'req.headers["webhook-signature"]',
        ],
        censor: '[redacted]',
      },
    },
    opts.destination as pino.DestinationStream | undefined,
  );
}

/** A logger that discards everything; for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
