// Problem formatting for the configuration: each mistake becomes one line `<file>: <where>: <what>`,
// and all of them go out in one start-up message so a person can fix them all at once.
import type { z } from 'zod';
import { closest } from '../../domain/suggest.ts';

/** One message listing every problem, with where to look for the fix. */
export function formatConfigProblems(problems: readonly string[]): string {
  const count = problems.length === 1 ? '1 configuration problem' : `${problems.length} configuration problems`;
  return [
    `smvbot cannot start: ${count} to fix.`,
    ...problems.map((p) => `  - ${p}`),
    'Environment variables are explained in .env.example and the topology file in smvbot.example.yml. ' +
      'Fix the above and start smvbot again.',
  ].join('\n');
}

/** Files one problem at `where` (a key path like `publishers[0].publishDir`; empty for the whole file). */
export type Report = (where: string, what: string) => void;

/** A Report that puts the file, as the user knows it, before every problem. */
export function reporterFor(shownFile: string, problems: string[]): Report {
  return (where, what) => problems.push(`${shownFile}: ${where ? `${where}: ` : ''}${what}`);
}

/**
 * Turn a zod issue into problem lines `<path>: <what is wrong>`. `allowedKeys` maps a scope (`top`,
 * or the key holding the object) to its keys, for unknown-key problems.
 */
export function reportIssue(
  issue: z.core.$ZodIssue,
  prefix: string[],
  scope: string,
  allowedKeys: Readonly<Record<string, readonly string[]>>,
  report: Report,
): void {
  const where = formatPath(prefix, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowedScope = issue.path.length === 0 ? scope : String(issue.path[issue.path.length - 1]);
      const allowed = allowedKeys[allowedScope] ?? [];
      for (const key of issue.keys) {
        // Within 3 edits catches typos like `settleSecs`.
        const suggestion = closest(key, allowed, 3);
        report(
          joinPath(where, key),
          `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}; allowed keys here: ${allowed.join(', ')}`,
        );
      }
      return;
    }
    case 'invalid_type':
      report(where, issue.input === undefined ? 'is required but missing' : `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`);
      return;
    case 'invalid_value':
      report(where, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describeValue(issue.input)})`);
      return;
    case 'too_small':
      report(where, issue.origin === 'number' ? `must be at least ${issue.minimum} (got ${describeValue(issue.input)})` : issue.message);
      return;
    default:
      report(where, issue.message);
  }
}

function formatPath(prefix: string[], issuePath: readonly PropertyKey[]): string {
  let out = prefix.join('.');
  for (const part of issuePath) out = typeof part === 'number' ? `${out}[${part}]` : joinPath(out, String(part));
  return out;
}

function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

function article(expected: string): string {
  const words: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    array: 'a list',
    object: 'a mapping',
    boolean: 'true or false',
  };
  return words[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `text ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
