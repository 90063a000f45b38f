// Runs one `git ls-remote` through the bot's git runner and prints its outcome as JSON.
// Spawned under a pseudo-terminal (`script`) to prove ssh cannot prompt on it.
//   PROBE_URL, PROBE_TIMEOUT_MS, and GIT_SSH_COMMAND/HOME/PATH from the environment.
import { createGitRunner, GitError } from '../../src/infra/git/gitRunner.ts';

const started = Date.now();
const git = createGitRunner(process.env, { timeoutMs: Number(process.env.PROBE_TIMEOUT_MS ?? 20_000) });
const outcome = await git.run(['ls-remote', '--', process.env.PROBE_URL!], { cwd: process.cwd() }).then(
  () => ({ ok: true as const }),
  (error: unknown) => (error instanceof GitError ? { ok: false as const, kind: error.failure.kind, gist: error.failure.gist } : { ok: false as const, kind: 'crash', gist: String(error) }),
);
process.stdout.write(`PROBE ${JSON.stringify({ ...outcome, tty: process.stdin.isTTY === true, ms: Date.now() - started })}\n`);
