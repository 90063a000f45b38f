import { isUtf8 } from 'node:buffer';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GitError, type GitRunner } from './gitRunner.ts';

/** Who a commit is written by (author) or for (committer). */
export interface GitIdentity {
  name: string;
  email: string;
}

/**
 * The clone is the bot's alone: the operator's global hooks (e.g. a pre-push secret scanner,
 * a prepare-commit-msg that edits messages) and commit signing must not act on it, and gc must
 * not keep running in the background where it could hold locks into the next task.
 */
const CLONE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'gc.autoDetach=false'] as const;

export type PushOutcome = { pushed: true } | { pushed: false; reason: 'remote-moved' };

/**
 * The bot's working clone of one consumer repository. It never carries local state:
 * every change starts from `resetToRemote()`, so a crash mid-way cannot leak into the next adopt.
 */
export class ConsumerRepo {
  /** How each file was decoded when read, so commitFile writes its untouched bytes back identically. */
  private readonly encodings = new Map<string, BufferEncoding>();

  constructor(
    private readonly git: GitRunner,
    readonly dir: string,
    readonly remote: string,
    readonly branch: string,
  ) {}

  /** Clone (first time) or fetch, then make the work tree exactly `origin/<branch>`. */
  async resetToRemote(): Promise<void> {
    try {
      await this.resetOnce();
    } catch (error) {
      // Each git run here ends before the next starts (one task per consumer, gc not detached),
      // so a lock file in the clone is a crash's leftover that would fail every later adopt:
      // start over from a fresh clone instead.
      if (!(error instanceof GitError && /\.lock'?: File exists/i.test(error.stderr))) throw error;
      await rm(this.dir, { recursive: true, force: true });
      await this.resetOnce();
    }
  }

  private async resetOnce(): Promise<void> {
    await this.ensureClone();
    await this.fetch();
    await this.run(['checkout', '-q', '-f', '-B', this.branch, this.remoteRef]);
    await this.run(['clean', '-q', '-f', '-d', '-x']);
  }

  async fetch(): Promise<void> {
    try {
      await this.run(['fetch', '-q', '--no-tags', 'origin', `+refs/heads/${this.branch}:${this.remoteRef}`]);
    } catch (error) {
      if (error instanceof GitError && /couldn't find remote ref/i.test(error.stderr)) {
        throw new GitError(error.args, error.exitCode, `fatal: branch '${this.branch}' does not exist on the remote`, false);
      }
      throw error;
    }
  }

  /**
   * Text of a work-tree file, or null when it does not exist. A file that is not valid UTF-8
   * is read as ISO-8859-1, as `java.util.Properties.load(InputStream)` does; either way every
   * byte survives the round trip through commitFile.
   */
  async readFile(relPath: string): Promise<string | null> {
    this.encodings.delete(relPath);
    try {
      const bytes = await readFile(this.abs(relPath));
      const encoding: BufferEncoding = isUtf8(bytes) ? 'utf8' : 'latin1';
      this.encodings.set(relPath, encoding);
      return bytes.toString(encoding);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** True when git would not pick the path up: ignored by .gitignore and not already tracked. */
  async isIgnored(relPath: string): Promise<boolean> {
    const tracked = await this.succeeds(['ls-files', '--error-unmatch', '--', relPath]);
    if (tracked) return false;
    return this.succeeds(['check-ignore', '-q', '--', relPath]);
  }

  /** Write the file and commit it; returns the new commit's full sha. */
  async commitFile(relPath: string, text: string, commit: { message: string; author: GitIdentity; committer: GitIdentity }): Promise<string> {
    const file = this.abs(relPath);
    await mkdir(path.dirname(file), { recursive: true });
    // Latin-1 cannot hold characters above U+00FF; such text can only be written as UTF-8.
    const read = this.encodings.get(relPath);
    const encoding: BufferEncoding = read === 'latin1' && !/[^\u0000-\u00ff]/.test(text) ? 'latin1' : 'utf8';
    await writeFile(file, text, encoding);
    await this.run(['add', '--', relPath]);
    await this.run(['commit', '-q', '--no-verify', '-F', '-'], {
      input: commit.message,
      env: {
        GIT_AUTHOR_NAME: commit.author.name,
        GIT_AUTHOR_EMAIL: commit.author.email,
        GIT_COMMITTER_NAME: commit.committer.name,
        GIT_COMMITTER_EMAIL: commit.committer.email,
      },
    });
    return this.headSha();
  }

  async headSha(): Promise<string> {
    return (await this.run(['rev-parse', 'HEAD'])).trim();
  }

  /**
   * Push HEAD to `refs/heads/<target>`. A rejection because the remote moved is an outcome
   * (the caller re-applies on the new tip); anything else is an error.
   */
  async push(target: string, opts: { force?: boolean } = {}): Promise<PushOutcome> {
    const refspec = `${opts.force ? '+' : ''}HEAD:refs/heads/${target}`;
    try {
      await this.run(['push', '-q', 'origin', refspec]);
      return { pushed: true };
    } catch (error) {
      if (error instanceof GitError && isRemoteMoved(error)) return { pushed: false, reason: 'remote-moved' };
      throw error;
    }
  }

  private get remoteRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  private async ensureClone(): Promise<void> {
    const hasGitDir = await stat(path.join(this.dir, '.git')).then(
      () => true,
      () => false,
    );
    if (!hasGitDir) {
      // A half-made clone from a crash is useless; start over.
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true });
      await this.run(['init', '-q']);
    }
    // Sets or creates the remote: the configured URL may have changed since the clone was made,
    // and a crash right after `init` leaves no remote at all. Fetch names its refspec itself.
    await this.run(['config', 'remote.origin.url', this.remote]);
  }

  private abs(relPath: string): string {
    const file = path.resolve(this.dir, relPath);
    if (!file.startsWith(this.dir + path.sep)) throw new Error(`path ${relPath} escapes the repository`);
    return file;
  }

  private async run(args: string[], extra: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    return (await this.git.run([...CLONE_CONFIG, ...args], { cwd: this.dir, ...extra })).stdout;
  }

  private async succeeds(args: string[]): Promise<boolean> {
    try {
      await this.run(args);
      return true;
    } catch (error) {
      if (error instanceof GitError && error.exitCode === 1) return false;
      throw error;
    }
  }
}

function isRemoteMoved(error: GitError): boolean {
  // `! [rejected] … (fetch first|non-fast-forward)`; `[remote rejected]` (hooks, protection) is final.
  return /!\s+\[rejected\]/.test(error.stderr);
}
