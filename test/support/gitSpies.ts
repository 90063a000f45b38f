// Git seams for adopt-world tests (re-exported by gitWorld.ts): a clone whose pushes can be
// interleaved with a teammate's, and git runners that record or fail chosen commands.
import type { ConsumerRepoPort } from '../../src/core/workspaces.ts';
import { GitError, type GitRunner } from '../../src/infra/git/gitRunner.ts';

/**
 * Wraps a real clone so `beforePush(attempt)` runs just before each push the bot makes: the
 * moment to push a teammate's commit (`world.commitToRemote`) and make the remote move.
 */
export function interceptPush(repo: ConsumerRepoPort, beforePush: (attempt: number) => void): ConsumerRepoPort {
  let attempt = 0;
  return {
    resetToRemote: () => repo.resetToRemote(),
    readFile: (relPath) => repo.readFile(relPath),
    isIgnored: (relPath) => repo.isIgnored(relPath),
    commitFile: (relPath, text, commit) => repo.commitFile(relPath, text, commit),
    push: (target, opts) => {
      beforePush(++attempt);
      return repo.push(target, opts);
    },
    containsCommit: (target, commit) => repo.containsCommit(target, commit),
    readRemoteFiles: (relPaths) => repo.readRemoteFiles(relPaths),
  };
}

/** `args` without the leading `-c key=value` pairs: `['commit', '-q', …]`. */
export function withoutConfigArgs(args: readonly string[]): string[] {
  let i = 0;
  while (args[i] === '-c') i += 2;
  return args.slice(i);
}

/** A runner that records each command (less its `-c key=value` pairs) before running it. */
export function countCalls(runner: GitRunner, calls: string[][]): GitRunner {
  return {
    run(args, opts) {
      calls.push(withoutConfigArgs(args));
      return runner.run(args, opts);
    },
  };
}

/**
 * Makes the first `times` runs of one git subcommand fail as git reports a failure (exit 128),
 * without running it: a full disk, a killed process.
 */
export function failGitCommand(runner: GitRunner, subcommand: string, times = 1): GitRunner {
  let failures = 0;
  return {
    run(args, opts) {
      if (withoutConfigArgs(args)[0] === subcommand && failures < times) {
        failures++;
        return Promise.reject(new GitError(args, 128, `fatal: could not run ${subcommand} (simulated failure)`, false));
      }
      return runner.run(args, opts);
    },
  };
}
