import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

/**
 * The logger every component receives by injection: structured JSON lines (pino).
 * Secrets never go into fields: the redact list removes the usual suspects.
 */
export type Logger = PinoLogger;

export const REDACTED_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
];

export interface LoggerConfig {
  level?: string;
  name?: string;
  /** Destination; defaults to stderr so stdout stays free for data (`-o json`). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? process.env['TETHER_LOG_LEVEL'] ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: config.name === undefined ? {} : { component: config.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, config.destination ?? process.stderr);
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
