// The one place that reads git's (and ssh's) stderr to say what went wrong.
import { redactUrlCredentials } from './redact.ts';

/**
 * What a failed git run means for the user:
 * - `auth`: the remote refused the bot's key, token or password (or it has none);
 * - `host-key`: ssh does not know (or no longer trusts) the server's host key;
 * - `unreachable`: no connection (DNS, refused, reset, no route);
 * - `timeout`: ended by SMVBOT_GIT_TIMEOUT_SECONDS;
 * - `protected`: a push refused by branch protection (`mode: branch` is the way round it);
 * - `rejected`: a push refused by a server hook or rule;
 * - `remote-moved`: the branch moved under the push (a race: re-apply and retry);
 * - `not-found`: repository or branch does not exist (or is hidden from the bot);
 * - `other`: anything else.
 */
export type GitFailureKind = 'auth' | 'host-key' | 'unreachable' | 'timeout' | 'protected' | 'rejected' | 'remote-moved' | 'not-found' | 'other';

export interface GitFailure {
  kind: GitFailureKind;
  /** User-safe: git's and ssh's own first reason lines, credentials in URLs masked. */
  gist: string;
}

// Order matters: the first kind whose pattern matches wins (a race shows as `[remote rejected]` too).
const PATTERNS: ReadonlyArray<[GitFailureKind, RegExp]> = [
  ['host-key', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed|No \S+ host key is known/i],
  ['remote-moved', /cannot lock ref|failed to update ref|\(fetch first\)|non-fast-forward|incorrect old value provided|stale info/i],
  ['protected', /protected branch|GH006|not allowed to (?:push|force push)[^\n]*protected|repository rule violations|branch is protected/i],
  [
    'auth',
    /Permission denied \(|Authentication failed|could not read (?:Username|Password)|terminal prompts disabled|HTTP (?:Basic: )?Access denied|The requested URL returned error: 40[13]|invalid credentials|access denied|Too many authentication failures/i,
  ],
  [
    'unreachable',
    /Could not resolve host|Connection refused|Connection timed out|No route to host|Network is unreachable|Failed to connect|Couldn't connect|Connection reset|Connection closed by|kex_exchange_identification|Empty reply from server|The remote end hung up unexpectedly|early EOF/i,
  ],
  ['rejected', /\[remote rejected\]|hook declined|\[rejected\]|pre-receive|denied/i],
  ['not-found', /not found|does not appear to be a git repository|couldn't find remote ref|does not exist|No such file or directory/i],
];

export function classifyGitFailure(stderr: string, timedOut: boolean): GitFailure {
  const text = redactUrlCredentials(stderr);
  if (timedOut) return { kind: 'timeout', gist: timeoutGist(text) };
  const kind = PATTERNS.find(([, pattern]) => pattern.test(text))?.[0] ?? 'other';
  return { kind, gist: gistOf(text) };
}

/** What the user should do about it, in a sentence; empty when the gist says it all. */
export function adviceFor(failure: GitFailure, where: { branch: string }): string {
  switch (failure.kind) {
    case 'auth':
      return 'The bot has no working credentials for this repo: see README "Giving smvbot access to the consumer repo".';
    case 'host-key':
      return "The remote's SSH host key is not in the bot's known_hosts (or changed): add it as README \"Giving smvbot access to the consumer repo\" shows.";
    case 'unreachable':
      return 'The bot cannot reach the git server: check the host name, port, proxy and firewall.';
    case 'timeout':
      return 'The git server did not answer within SMVBOT_GIT_TIMEOUT_SECONDS.';
    case 'protected':
      return `\`${where.branch}\` is protected: set \`mode: branch\` for this consumer in smvbot.yml so the bot pushes a review branch instead.`;
    case 'rejected':
      return 'The server refused the push (a hook or rule); ask its owners what it requires, or use `mode: branch`.';
    case 'not-found':
      return 'Check `repo` and `branch` for this consumer in smvbot.yml, and that the bot may read the repo.';
    default:
      return '';
  }
}

function timeoutGist(text: string): string {
  const said = reasonLines(text);
  return `git timed out (is the remote reachable?)${said.length ? `; git had said: ${said.slice(0, 2).join(' / ')}` : ''}`;
}

/**
 * The first reason lines, ssh's own (e.g. "Host key verification failed.") kept before git's
 * generic "fatal: Could not read from remote repository.".
 */
function gistOf(text: string): string {
  const lines = reasonLines(text);
  const generic = /^fatal: Could not read from remote repository\.?$|^Please make sure you have the correct access rights|^and the repository exists\.?$/i;
  const specific = lines.filter((l) => !generic.test(l));
  const picked = [...specific.slice(0, 3), ...lines.filter((l) => generic.test(l)).slice(0, 1)].slice(0, 3).join(' / ');
  return picked.length > 300 ? picked.slice(0, 297) + '...' : picked || 'unknown git error';
}

function reasonLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:') && !/^To\s/.test(l) && !/^Warning: Permanently added/i.test(l) && !/^(remote: )?$/.test(l));
}
