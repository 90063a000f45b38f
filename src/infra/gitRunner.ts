import { execFile } from 'node:child_process';
import { redactUrlCredentials } from '../domain/redact.ts';

/** Runs git as a subprocess: argument arrays only, never a shell, never a prompt. */
export interface GitRunner {
  run(args: readonly string[], opts: GitRunOptions): Promise<GitOutput>;
}

export interface GitRunOptions {
  cwd: string;
  /** Extra variables for this call only (author identity, …). */
  env?: Record<string, string>;
  /** Written to git's stdin (e.g. a commit message for `commit -F -`). */
  input?: string;
  timeoutMs?: number;
}

export interface GitOutput {
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  /** Arguments and stderr are kept with URL credentials masked: errors end up in logs. */
  readonly args: readonly string[];
  readonly stderr: string;

  constructor(
    args: readonly string[],
    readonly exitCode: number | null,
    stderr: string,
    readonly timedOut: boolean,
  ) {
    super(`git ${subcommandOf(args)} failed: ${gistOf(stderr, timedOut)}`);
    this.name = 'GitError';
    this.args = args.map(redactUrlCredentials);
    this.stderr = redactUrlCredentials(stderr);
  }

  /** One or two lines a user can act on, without credentials embedded in URLs. */
  get gist(): string {
    return gistOf(this.stderr, this.timedOut);
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Variables git may need from the parent environment (ssh keys, agent, proxies).
 * Everything else is left out so stray GIT_DIR/GIT_WORK_TREE values cannot redirect us.
 */
export const GIT_PASSTHROUGH_ENV = [
  'PATH',
  'HOME',
  'SSH_AUTH_SOCK',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'TMPDIR',
] as const;

export function createGitRunner(baseEnv: Record<string, string | undefined>, defaults: { timeoutMs?: number } = {}): GitRunner {
  const env: Record<string, string> = {};
  for (const name of GIT_PASSTHROUGH_ENV) {
    const value = baseEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    // No credential prompts through GUI helpers either.
    GIT_ASKPASS: 'echo',
    SSH_ASKPASS: 'echo',
    GIT_SSH_COMMAND: env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // Stable, parseable messages whatever the host locale.
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
  });

  return {
    run(args, opts) {
      const timeout = opts.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      return new Promise((resolve, reject) => {
        const child = execFile(
          'git',
          args as string[],
          { cwd: opts.cwd, env: { ...env, ...opts.env }, timeout, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024 },
          (error, stdout, stderr) => {
            if (!error) return resolve({ stdout, stderr });
            const code = typeof error.code === 'number' ? error.code : null;
            const timedOut = error.killed === true || error.signal === 'SIGKILL';
            // error.message is "Command failed: git <every argument>": never shown to anyone.
            const said = stderr || (code !== null ? `git ${subcommandOf(args)} exited with code ${code}` : `git ${subcommandOf(args)} could not run`);
            reject(new GitError(args, code, said, timedOut));
          },
        );
        // git may exit before reading stdin (e.g. a failing command): that is not our error.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(opts.input ?? '');
      });
    },
  };
}

/** `fetch` in `git -c a=b fetch …`: the word a log reader looks for. */
function subcommandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '-C' || arg === '--git-dir') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return args[0] ?? '';
}

function gistOf(stderr: string, timedOut: boolean): string {
  if (timedOut) return 'git timed out (is the remote reachable?)';
  const lines = redactUrlCredentials(stderr)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:') && !/^To\s/.test(l));
  const important = lines.filter((l) => /^(fatal|error|remote|!)/.test(l) || /rejected|denied|not found/i.test(l));
  const picked = (important.length ? important : lines).slice(0, 3).join(' / ');
  return picked.length > 300 ? picked.slice(0, 297) + '...' : picked || 'unknown git error';
}
