// Structured logging (pino) that never writes secrets.
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export const REDACTED = '[redacted]';

// Field names that hold credentials, at the top level and one level down
// (pino's redaction wildcards match exactly one level).
const SECRET_FIELDS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'secret',
  'password',
  'authorization',
];
const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  level: LogLevel;
  /** Where log lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/** Root logger; components take `logger.child({ component: 'scanner' })`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    options.destination ?? pino.destination(1),
  );
}

// Slack token shapes: bot/user/app/refresh/config tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-…) and app-level tokens (xapp-).
const SLACK_TOKEN_PATTERN = /\b(?:xox[abeprs](?:\.[A-Za-z0-9]+)?|xapp)-[A-Za-z0-9-]+/g;

/**
 * Replace every occurrence of the given secret values, and anything shaped like
 * a Slack token, with `[redacted]`. Use on error texts before logging or replying.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let scrubbed = text;
  // Longest first, so a secret that contains another is replaced whole.
  const values = secrets
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .sort((a, b) => b.length - a.length);
  for (const value of values) scrubbed = scrubbed.split(value).join(REDACTED);
  return scrubbed.replace(SLACK_TOKEN_PATTERN, REDACTED);
}
