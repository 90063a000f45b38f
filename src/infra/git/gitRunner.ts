import { spawn } from 'node:child_process';
import { redactUrlCredentials } from '../../domain/redact.ts';
import { classifyGitFailure } from '../../domain/gitFailure.ts';
import { RepoAccessError } from '../../core/workspaces.ts';

/** Runs git as a subprocess: argument arrays only, never a shell, never a prompt. */
export interface GitRunner {
  run(args: readonly string[], opts: GitRunOptions): Promise<GitOutput>;
}

/** A login for an http(s) remote, handed to git through its credential protocol (never argv). */
export interface GitCredentials {
  username: string;
  password: string;
}

export interface GitRunOptions {
  cwd: string;
  /** Extra variables for this call only (author identity, …). */
  env?: Record<string, string>;
  /** Written to git's stdin (e.g. a commit message for `commit -F -`). */
  input?: string;
  timeoutMs?: number;
  /** Login for the remote this call talks to; git asks for it only when the server wants one. */
  credentials?: GitCredentials;
}

export interface GitOutput {
  stdout: string;
  stderr: string;
  /** stdout as git wrote it (file contents need not be UTF-8). */
  stdoutBytes?: Buffer;
}

/** A git command that failed; `failure` (kind and gist) is what the user is told. */
export class GitError extends RepoAccessError {
  /** Arguments and stderr are kept with URL credentials masked: errors end up in logs. */
  readonly args: readonly string[];
  readonly stderr: string;

  constructor(
    args: readonly string[],
    readonly exitCode: number | null,
    stderr: string,
    readonly timedOut: boolean,
  ) {
    const failure = classifyGitFailure(stderr, timedOut);
    super(`git ${subcommandOf(args)} failed: ${failure.gist}`, failure);
    this.name = 'GitError';
    this.args = args.map(redactUrlCredentials);
    this.stderr = redactUrlCredentials(stderr);
  }
}

export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

/**
 * Variables git may need from the parent environment (ssh command and agent, proxies).
 * Everything else is left out so stray GIT_DIR/GIT_WORK_TREE values cannot redirect us, and
 * GIT_ASKPASS/SSH_ASKPASS from a desktop session cannot pop up or answer a prompt.
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

/**
 * An inline credential helper: answers `get` from two variables of its own environment, so the
 * secret is in no command line (`ps` shows only this text); `store` and `erase` do nothing.
 */
const CREDENTIAL_HELPER =
  '!f() { test "$1" = get || exit 0; printf "username=%s\\npassword=%s\\n" "$SMVBOT_GIT_USERNAME" "$SMVBOT_GIT_PASSWORD"; }; f';

/**
 * The ssh command git runs. ssh takes the first value it gets for an option, and the operator's
 * command (GIT_SSH_COMMAND, or the program in GIT_SSH) may carry options of its own, so batch mode
 * is added right after the program word when the command starts with a plain word, else appended.
 */
export function sshCommandFor(env: { GIT_SSH_COMMAND?: string | undefined; GIT_SSH?: string | undefined }): string {
  const batch = '-o BatchMode=yes';
  const user = env.GIT_SSH_COMMAND?.trim();
  if (user) {
    const m = /^((?:[A-Za-z0-9_./-]*\/)?ssh)(\s|$)/.exec(user);
    return m ? `${m[1]} ${batch}${user.slice(m[1]!.length)}` : `${user} ${batch}`;
  }
  if (env.GIT_SSH) return `'${env.GIT_SSH.replace(/'/g, `'\\''`)}' ${batch}`;
  return `ssh ${batch}`;
}

export interface GitRunnerDefaults {
  /** Limit for one git run (SMVBOT_GIT_TIMEOUT_SECONDS); git and everything it started are ended then. */
  timeoutMs?: number;
}

export function createGitRunner(baseEnv: Record<string, string | undefined>, defaults: GitRunnerDefaults = {}): GitRunner {
  const env: Record<string, string> = {};
  for (const name of GIT_PASSTHROUGH_ENV) {
    const value = baseEnv[name];
    if (value !== undefined) env[name] = value;
  }
  delete env.GIT_SSH;
  Object.assign(env, {
    // No prompt of any kind: with no askpass program and terminal prompts off, git fails at once
    // when it needs a login it was not given, instead of sending an empty one.
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS_REQUIRE: 'never',
    GIT_SSH_COMMAND: sshCommandFor(baseEnv),
    // Stable, parseable messages whatever the host locale.
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    // Forget every credential helper the user configured: a 401 must never make git erase (or a
    // success store) entries in the operator's own credential stores.
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: 'core.askPass',
    GIT_CONFIG_VALUE_1: '',
  });

  return {
    run(args, opts) {
      const timeout = opts.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
      const callEnv: Record<string, string> = { ...env, ...opts.env };
      if (opts.credentials) {
        Object.assign(callEnv, {
          GIT_CONFIG_COUNT: '3',
          GIT_CONFIG_KEY_2: 'credential.helper',
          GIT_CONFIG_VALUE_2: CREDENTIAL_HELPER,
          SMVBOT_GIT_USERNAME: opts.credentials.username,
          SMVBOT_GIT_PASSWORD: opts.credentials.password,
        });
      }
      return runGit(args, opts, callEnv, timeout);
    },
  };
}

const MAX_OUTPUT = 32 * 1024 * 1024;

function runGit(args: readonly string[], opts: GitRunOptions, env: Record<string, string>, timeoutMs: number): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    // detached: git leads a new session and process group, so on timeout the whole group (remote
    // helpers, ssh) can be ended, and no terminal is attached for ssh to prompt on.
    const child = spawn('git', args as string[], { cwd: opts.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let overflow = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        overflow = true;
        killGroup();
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new GitError(args, null, `fatal: cannot run git: ${error.message}`, false));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // A helper left running by git (it should not happen) goes too: nothing outlives the run.
      if (code !== 0 || timedOut) killGroup();
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0 && !timedOut && !overflow) return resolve({ stdout, stderr, stdoutBytes });
      // Never the command line itself: a failure git said nothing about is named by its subcommand.
      const said = stderr || (timedOut || code === null ? '' : `git ${subcommandOf(args)} exited with code ${code}`);
      reject(new GitError(args, code, overflow ? 'fatal: git printed more than the bot reads' : said, timedOut));
    });
    // git may exit before reading stdin (e.g. a failing command): that is not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
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

/**
 * Splits `https://user:token@host/x.git` into the URL git is given and the login it gets through
 * the credential protocol. Other URLs (ssh, paths) pass unchanged: an ssh user name is no secret.
 */
export function splitUrlCredentials(url: string): { url: string; credentials?: GitCredentials } {
  const m = /^(https?:\/\/)([^/@\s]*)@(.*)$/i.exec(url);
  if (!m) return { url };
  const [, scheme, userinfo, rest] = m as unknown as [string, string, string, string];
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1));
  // A user name alone stays in the URL (git then asks for the password, and fails at once).
  if (colon < 0 || password === '') return { url };
  return { url: `${scheme}${rest}`, credentials: { username, password } };
}

/** Reports each git run by subcommand, outcome and time (GET /metrics). */
export function measuredGitRunner(inner: GitRunner, observe: (kind: string, outcome: 'ok' | 'failed' | 'timeout', seconds: number) => void): GitRunner {
  return {
    async run(args, opts) {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const output = await inner.run(args, opts);
        observe(subcommandOf(args), 'ok', seconds());
        return output;
      } catch (error) {
        observe(subcommandOf(args), error instanceof GitError && error.timedOut ? 'timeout' : 'failed', seconds());
        throw error;
      }
    },
  };
}
