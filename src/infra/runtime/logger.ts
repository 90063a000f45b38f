// Structured logging (pino) that never writes secrets.
import { pino } from 'pino';
import { redactCredentialSettings, redactUrlCredentials } from '../../domain/redact.ts';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

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
  /** Values no log line may contain (tokens, signing secret): every line is scrubbed of them. */
  secrets?: readonly (string | undefined)[];
}

/** Root logger; components take `logger.child({ component: 'scanner' })`. */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination(1);
  const scrub = createScrubber(options.secrets ?? []);
  // Field redaction misses secrets inside messages and error texts: the whole line is scrubbed.
  const scrubbed: DestinationStream = { write: (line: string) => destination.write(scrub(line)) };
  return pino({ level: options.level, redact: { paths: REDACT_PATHS, censor: REDACTED } }, scrubbed);
}

export type Scrubber = (text: string) => string;

/**
 * A secret shorter than this cannot be told apart from ordinary text (a database password `geo` is
 * also the stage `com.acme.geo`): its value is not replaced wherever it occurs, only where text
 * shows it as a secret (credentials in URLs, Authorization headers, `password=` settings).
 */
export const MIN_REDACTABLE_SECRET_LENGTH = 8;

/**
 * The one scrubber for outgoing text: credentials in URLs, Authorization headers and `password=`
 * settings, Slack token shapes, and every occurrence of the given secrets long enough to be told
 * apart from ordinary text (see `tooShortToRedact`; start-up warns about the others).
 */
export function createScrubber(secrets: readonly (string | undefined)[]): Scrubber {
  const values = longestFirst(secrets);
  return (text) => redactCredentialSettings(redactUrlCredentials(replaceSecrets(text, values)), REDACTED);
}

/**
 * The settings (by name, never by value) whose secret is too short to be redacted wherever it
 * occurs: one start-up warning each, saying what to do.
 */
export function tooShortToRedact(settings: readonly { setting: string; value: string | undefined }[]): string[] {
  return settings
    .filter((s) => s.value !== undefined && s.value.length > 0 && s.value.length < MIN_REDACTABLE_SECRET_LENGTH)
    .map(
      (s) =>
        `${s.setting} is too short (${s.value!.length} characters) to be redacted safely: the same letters occur in ordinary text (stage names, versions), ` +
        `so it is removed from logs and replies only where it appears as a secret (URLs, Authorization headers, password settings). ` +
        `Use a secret of at least ${MIN_REDACTABLE_SECRET_LENGTH} characters.`,
    );
}

/**
 * A reply, view or message with the scrubber applied to every string in it. Parts with nothing
 * to scrub are returned as they are (not copied): a 20 KB answer sent again costs a walk, not a copy.
 */
export function scrubDeep<T>(value: T, scrub: Scrubber): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = scrubDeep(value[i] as unknown, scrub);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const scrubbed = scrubDeep(v, scrub);
      if (scrubbed !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = scrubbed;
    }
    return (out ?? value) as T;
  }
  return value;
}

// Slack token shapes: bot/user/app/refresh/config tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-…) and app-level tokens (xapp-).
const SLACK_TOKEN_PATTERN = /\b(?:xox[abeprs](?:\.[A-Za-z0-9]+)?|xapp)-[A-Za-z0-9-]+/g;

/**
 * The scrubber of `createScrubber(secrets)` applied once: use on error texts before logging or replying.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  return createScrubber(secrets)(text);
}

/** The secrets replaced wherever they occur (long enough, see MIN_REDACTABLE_SECRET_LENGTH), longest first so one containing another is replaced whole. */
function longestFirst(secrets: readonly (string | undefined)[]): string[] {
  return secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_REDACTABLE_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

function replaceSecrets(text: string, values: readonly string[]): string {
  let scrubbed = text;
  for (const value of values) if (scrubbed.includes(value)) scrubbed = scrubbed.split(value).join(REDACTED);
  // Every token shape starts with one of these: most text is spared the regex.
  if (!scrubbed.includes('xox') && !scrubbed.includes('xapp-')) return scrubbed;
  return scrubbed.replace(SLACK_TOKEN_PATTERN, REDACTED);
}
