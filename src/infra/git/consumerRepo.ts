import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { RepoFileRefusedError } from '../../core/workspaces.ts';
import { GitError, splitUrlCredentials, type GitCredentials, type GitRunner } from './gitRunner.ts';
import { decodeProps, MAX_PROPS_BYTES, tooBig, type PropsEncoding } from './propsBytes.ts';

export { decodeProps, MAX_PROPS_BYTES, type PropsEncoding } from './propsBytes.ts';


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
// core.symlinks=true: a symlink committed in the repo is checked out as one, so lstat sees it.
const CLONE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgsign=false', '-c', 'gc.autoDetach=false', '-c', 'core.symlinks=true'] as const;

/** The first deepening when a commit is looked for below a shallow clone's boundary (then ×4 per round). */
export const CHECK_DEEPEN_FIRST = 64;

export type PushOutcome = { pushed: true } | { pushed: false; reason: 'remote-moved' };

export interface ConsumerRepoOptions {
  /** Told after every fetch from the remote: null when it worked, else the failure (for /healthz). */
  onFetchResult?: (error: GitError | null) => void;
  /**
   * How the consumer's SMV decodes props files: `java` (UTF-8, else every byte as ISO-8859-1, default) or
   * `utf8` (Python SMV reads them in the locale's encoding and stops on bytes that are not UTF-8).
   */
  propsEncoding?: PropsEncoding;
}


/**
 * The bot's working clone of one consumer repository. It never carries local state:
 * every change starts from `resetToRemote()`, so a crash mid-way cannot leak into the next adopt.
 *
 * Each git process costs the bot's event loop 10–20 ms, so a typical adopt runs four:
 * fetch, checkout, commit, push. What makes that safe is knowing when the work tree holds
 * exactly the files of HEAD (`leftoversPossible` false): then an existing file is a tracked
 * one (never ignored, committed without `add`), and the next reset needs no `clean`.
 */
export class ConsumerRepo {
  /** How each file was decoded when read, so commitFile writes its untouched bytes back identically. */
  private readonly encodings = new Map<string, BufferEncoding>();
  /**
   * Whether files that HEAD does not have may lie in the work tree: true on first use in this
   * process (a crash may have left anything) and from the moment a write or checkout starts
   * until it has finished.
   */
  private leftoversPossible = true;

  /** The URL git is given (credentials taken out) and the login handed over by the credential protocol. */
  private readonly url: string;
  private readonly credentials: GitCredentials | undefined;
  /** A bare repo beside the clone, used only by reads, so a read never waits for (or disturbs) a change. */
  private readonly readDir: string;

  constructor(
    private readonly git: GitRunner,
    readonly dir: string,
    readonly remote: string,
    readonly branch: string,
    private readonly opts: ConsumerRepoOptions = {},
  ) {
    const split = splitUrlCredentials(remote);
    this.url = split.url;
    this.credentials = split.credentials;
    this.readDir = `${dir}.read.git`;
  }

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
    const created = await this.ensureClone();
    await this.fetch();
    // A fresh clone's work tree is empty, so there is nothing to clean.
    const clean = this.leftoversPossible && !created;
    // A checkout cut off half-way (timeout, full disk) can leave anything behind.
    this.leftoversPossible = true;
    // -f restores every tracked file and overwrites untracked ones in the way.
    await this.run(['checkout', '-q', '-f', '-B', this.branch, this.remoteRef]);
    if (clean) await this.run(['clean', '-q', '-f', '-d', '-x']);
    this.leftoversPossible = false;
  }

  /**
   * Fetches by URL rather than through a configured `origin`: the configured URL is always the
   * one used (even if it changed since the clone was made), a crash right after `git init`
   * leaves nothing to repair, and a token in the URL is not stored in `.git/config`.
   */
  async fetch(): Promise<void> {
    await this.fetchInto(this.dir, this.remoteRef);
  }

  /**
   * Only the branch tip (`--depth=1`): a change needs the config file on the tip, never history,
   * so the first fetch of a big repo costs what its tip costs. A commit made on that tip pushes
   * fine, since the server has its parent.
   */
  private async fetchInto(cwd: string, ref: string): Promise<void> {
    try {
      await this.run(['fetch', '-q', '--no-tags', '--depth=1', '--', this.url, `+refs/heads/${this.branch}:${ref}`], { cwd, remote: true });
      this.opts.onFetchResult?.(null);
    } catch (error) {
      let failure = error;
      if (error instanceof GitError && /couldn't find remote ref/i.test(error.stderr)) {
        failure = new GitError(error.args, error.exitCode, `fatal: branch '${this.branch}' does not exist on the remote`, false);
      }
      if (failure instanceof GitError) this.opts.onFetchResult?.(failure);
      throw failure;
    }
  }

  /**
   * Files as they are on the remote branch right now (null for an absent one), read through the
   * bare read repo: one fetch, one `ls-tree`, one `cat-file`. Never touches the work clone.
   */
  async readRemoteFiles(relPaths: readonly string[]): Promise<(string | null)[]> {
    try {
      return await this.readRemoteOnce(relPaths);
    } catch (error) {
      // A lock left by a crash (or a kill at the timeout) would fail every later read: start over.
      if (!(error instanceof GitError && /\.lock'?: File exists|shallow file has changed/i.test(error.stderr))) throw error;
      await rm(this.readDir, { recursive: true, force: true });
      return this.readRemoteOnce(relPaths);
    }
  }

  private async readRemoteOnce(relPaths: readonly string[]): Promise<(string | null)[]> {
    if (!(await exists(path.join(this.readDir, 'HEAD')))) {
      await rm(this.readDir, { recursive: true, force: true });
      await mkdir(this.readDir, { recursive: true });
      await this.run(['init', '-q', '--bare'], { cwd: this.readDir });
    }
    const ref = 'refs/smvbot/read';
    await this.fetchInto(this.readDir, ref);
    // -l: each blob's size, so an oversized file is refused before it is read.
    const listed = await this.run(['ls-tree', '-l', '-z', '--full-tree', ref, '--', ...relPaths], { cwd: this.readDir });
    const blobs = new Map<string, string>();
    for (const entry of listed.split('\0')) {
      const m = /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(entry);
      if (!m) continue;
      const [, mode, type, sha, size, file] = m as unknown as [string, string, string, string, string, string];
      if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) {
        const what = mode === '120000' ? 'a symbolic link' : mode === '160000' ? 'a submodule' : type === 'tree' ? 'a directory' : 'not a regular file';
        throw new RepoFileRefusedError(
          `\`${file}\` in the consumer repo is ${what} (git mode ${mode}); make it a regular file so its pins can be read. Nothing was changed.`,
        );
      }
      if (Number(size) > MAX_PROPS_BYTES) throw tooBig(file, Number(size));
      blobs.set(file, sha);
    }
    const wanted = relPaths.map((p) => blobs.get(p));
    const shas = wanted.filter((sha): sha is string => sha !== undefined);
    if (shas.length === 0) return relPaths.map(() => null);
    const out = await this.git.run([...CLONE_CONFIG, 'cat-file', '--batch'], { cwd: this.readDir, input: shas.map((s) => `${s}\n`).join('') });
    const bytes = out.stdoutBytes ?? Buffer.from(out.stdout, 'utf8');
    const contents = new Map<string, Buffer>();
    let at = 0;
    while (at < bytes.length) {
      const nl = bytes.indexOf(0x0a, at);
      const header = bytes.subarray(at, nl).toString('latin1').split(' ');
      const size = Number(header[2]);
      contents.set(header[0]!, bytes.subarray(nl + 1, nl + 1 + size));
      at = nl + 1 + size + 1;
    }
    return wanted.map((sha, i) => {
      const content = sha === undefined ? undefined : contents.get(sha);
      return content === undefined ? null : decodeProps(content, relPaths[i]!, this.opts.propsEncoding).text;
    });
  }

  /**
   * Text of a work-tree file, or null when it does not exist. A file that is not valid UTF-8
   * is read as ISO-8859-1, as `java.util.Properties.load(InputStream)` does; either way every
   * byte survives the round trip through commitFile.
   */
  async readFile(relPath: string): Promise<string | null> {
    this.encodings.delete(relPath);
    if (!(await this.checkRegularFile(relPath))) return null;
    let handle;
    try {
      // O_NOFOLLOW: a file swapped for a symlink since the check is refused by the kernel.
      handle = await open(this.abs(relPath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw this.refused(relPath, 'is a symbolic link');
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw this.refused(relPath, 'is not a regular file');
      if (info.size > MAX_PROPS_BYTES) throw tooBig(relPath, info.size);
      const { text, encoding } = decodeProps(await handle.readFile(), relPath, this.opts.propsEncoding);
      this.encodings.set(relPath, encoding);
      return text;
    } finally {
      await handle.close();
    }
  }

  /**
   * The path must be a regular file inside the work tree (or not exist yet): no component may be a
   * symlink (a committed `conf -> ../..` or `smv-user-conf.props -> ../../smvbot.journal` would make
   * the bot read or write outside the clone). False when it does not exist; refuses otherwise.
   */
  private async checkRegularFile(relPath: string): Promise<boolean> {
    const parts = path.relative(this.dir, this.abs(relPath)).split(path.sep);
    let current = this.dir;
    for (let i = 0; i < parts.length; i++) {
      current = path.join(current, parts[i]!);
      const info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (info === null) return false;
      const last = i === parts.length - 1;
      const shown = parts.slice(0, i + 1).join('/');
      if (info.isSymbolicLink()) throw this.refused(relPath, last ? 'is a symbolic link' : `lies under \`${shown}\`, which is a symbolic link`);
      if (!last && !info.isDirectory()) throw this.refused(relPath, `lies under \`${shown}\`, which is not a directory`);
      if (last && !info.isFile()) throw this.refused(relPath, 'is not a regular file');
    }
    return true;
  }

  private refused(relPath: string, why: string): RepoFileRefusedError {
    return new RepoFileRefusedError(
      `\`${relPath}\` in the consumer repo ${why}; the bot only reads and writes regular files inside the repository. ` +
        'Replace it with a regular file (commit the change), then try again. Nothing was changed.',
    );
  }

  /** True when git would not pick the path up: ignored by .gitignore and not already tracked. */
  async isIgnored(relPath: string): Promise<boolean> {
    // Tracked files are never ignored, and in a tree without leftovers an existing file is tracked.
    if (await this.isTrackedFile(relPath)) return false;
    // check-ignore itself also answers "not ignored" (exit 1) for a tracked path.
    return this.succeeds(['check-ignore', '-q', '--', relPath]);
  }

  /** Write the file and commit it on the remote tip; returns the new commit's full sha and that tip. */
  async commitFile(
    relPath: string,
    text: string,
    commit: { message: string; author: GitIdentity; committer: GitIdentity },
  ): Promise<{ commit: string; parent: string }> {
    const file = this.abs(relPath);
    const parent = (await this.branchTipFromDisk()) ?? (await this.headSha());
    // Checked again right before writing: nothing on the way may be a symlink.
    await this.checkRegularFile(relPath);
    const tracked = await this.isTrackedFile(relPath);
    // Until the commit has succeeded the written file (and its new folders) may be left behind.
    this.leftoversPossible = true;
    await mkdir(path.dirname(file), { recursive: true });
    // Latin-1 cannot hold characters above U+00FF; such text can only be written as UTF-8.
    const read = this.encodings.get(relPath);
    const encoding: BufferEncoding = read === 'latin1' && !/[^\u0000-\u00ff]/.test(text) ? 'latin1' : 'utf8';
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(text, encoding);
    } finally {
      await handle.close();
    }
    // A tracked file is committed straight from the work tree; a new one must be added first.
    if (!tracked) await this.run(['add', '--', relPath]);
    await this.run(['commit', '-q', '--no-verify', '-F', '-', '--only', '--', relPath], {
      input: commit.message,
      env: {
        GIT_AUTHOR_NAME: commit.author.name,
        GIT_AUTHOR_EMAIL: commit.author.email,
        GIT_COMMITTER_NAME: commit.committer.name,
        GIT_COMMITTER_EMAIL: commit.committer.email,
      },
    });
    // The commit took the file's work-tree content, so the tree is HEAD's again.
    this.leftoversPossible = false;
    return { commit: (await this.branchTipFromDisk()) ?? (await this.headSha()), parent };
  }

  /**
   * Whether `refs/heads/<target>` on the remote holds the commit, decided from the branch's real
   * history whatever this clone's depth: the branch is fetched into a ref of its own (the work tree
   * is not touched), then deepened from its shallow boundary, 64 commits first and four times more
   * each round, until git finds the commit below the tip or the branch's history has ended. The
   * clone is shallow (`--depth=1`), so without deepening a commit below its boundary — one another
   * replica pushed before this clone's last fetch — would look absent and a landed adoption would be
   * recorded as abandoned. A commit pushed recently lies near the tip, so that costs a round or two;
   * proving a commit absent fetches the branch's history once (later checks only fetch what is new).
   * A branch that does not exist holds nothing.
   */
  async containsCommit(target: string, commit: string): Promise<boolean> {
    const ref = `refs/smvbot/check/${target}`;
    await this.ensureClone();
    const fetchBranch = (extra: string[]) =>
      this.run(['fetch', '-q', '--no-tags', ...extra, '--', this.url, `+refs/heads/${target}:${ref}`], { remote: true });
    try {
      // No --depth: fetches what is new down to what this clone already has.
      await fetchBranch([]);
    } catch (error) {
      if (error instanceof GitError && /couldn't find remote ref/i.test(error.stderr)) return false;
      throw error;
    }
    let commits = await this.countCommits(ref);
    for (let deepen = CHECK_DEEPEN_FIRST; ; deepen *= 4) {
      // In a shallow clone is-ancestor sees only the history fetched so far: true is final, false is not yet.
      if ((await this.succeeds(['cat-file', '-e', commit])) && (await this.succeeds(['merge-base', '--is-ancestor', commit, ref]))) return true;
      if ((await this.run(['rev-parse', '--is-shallow-repository'])).trim() !== 'true') return false;
      await fetchBranch([`--deepen=${deepen}`]);
      const deeper = await this.countCommits(ref);
      // Deepening found nothing more below the branch: its whole history is here and the commit is not in it.
      if (deeper <= commits) {
        return (await this.succeeds(['cat-file', '-e', commit])) && this.succeeds(['merge-base', '--is-ancestor', commit, ref]);
      }
      commits = deeper;
    }
  }

  /** How many commits of `ref`'s history this clone holds (a shallow clone's stop at its boundary). */
  private async countCommits(ref: string): Promise<number> {
    return Number((await this.run(['rev-list', '--count', ref])).trim());
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
      await this.run(['push', '-q', '--', this.url, refspec], { remote: true });
      return { pushed: true };
    } catch (error) {
      if (error instanceof GitError && isRemoteMoved(error)) return { pushed: false, reason: 'remote-moved' };
      throw error;
    }
  }

  private get remoteRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /** Makes the clone when there is none (or only a half-made one); true when it was just made. */
  private async ensureClone(): Promise<boolean> {
    if (await exists(path.join(this.dir, '.git'))) return false;
    // A half-made clone from a crash is useless; start over.
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    await this.run(['init', '-q']);
    return true;
  }

  /** Whether the path is a file HEAD tracks, known without git: only when no leftovers can exist. */
  private async isTrackedFile(relPath: string): Promise<boolean> {
    if (this.leftoversPossible) return false;
    return stat(this.abs(relPath)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /**
   * The sha `commit` just wrote to `refs/heads/<branch>`, read from the repository layout
   * (gitrepository-layout(5)): the loose ref file, or `packed-refs` when an automatic gc packed
   * it. Null when anything is unexpected (another ref backend, HEAD elsewhere): ask git then.
   */
  private async branchTipFromDisk(): Promise<string | null> {
    const gitDir = path.join(this.dir, '.git');
    const ref = `refs/heads/${this.branch}`;
    const isSha = (text: string) => /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(text);
    try {
      if ((await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim() !== `ref: ${ref}`) return null;
      const loose = await readFile(path.join(gitDir, ...ref.split('/')), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (loose !== null) return isSha(loose.trim()) ? loose.trim() : null;
      const packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      const sha = line?.slice(0, line.indexOf(' ')) ?? '';
      return isSha(sha) ? sha : null;
    } catch {
      return null;
    }
  }

  private abs(relPath: string): string {
    const file = path.resolve(this.dir, relPath);
    if (!file.startsWith(this.dir + path.sep)) throw new Error(`path ${relPath} escapes the repository`);
    return file;
  }

  private async run(args: string[], extra: { input?: string; env?: Record<string, string>; cwd?: string; remote?: boolean } = {}): Promise<string> {
    const { remote, cwd, ...rest } = extra;
    const credentials = remote && this.credentials ? { credentials: this.credentials } : {};
    return (await this.git.run([...CLONE_CONFIG, ...args], { cwd: cwd ?? this.dir, ...rest, ...credentials })).stdout;
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

function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * The branch moved between our fetch and our push: `! [rejected] (fetch first | non-fast-forward)`
 * from the client, or the server losing a race for the ref (`cannot lock ref`, `failed to update
 * ref`). Other `[remote rejected]` reasons (hooks, protection) are final.
 */
function isRemoteMoved(error: GitError): boolean {
  return error.failure.kind === 'remote-moved';
}
