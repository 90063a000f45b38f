// One process per data dir: two bots sharing state would announce twice and race on clones.
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const LOCK_FILE_NAME = 'smvbot.lock';

interface LockContent {
  pid: number;
  startedAt: string;
}

/** What a lock file on disk says; startedAt is null when missing. */
interface LockHolder {
  pid: number;
  startedAt: string | null;
}

/** Another live process holds the data dir. */
export class DataDirLockedError extends Error {
  readonly code = 'data-dir-locked';
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holderPid: number,
    readonly holderStartedAt: string | null,
  ) {
    super(
      `Another smvbot (pid ${holderPid}${holderStartedAt ? `, started ${holderStartedAt}` : ''}) ` +
        `is using the data dir ${dataDir}. Stop that process first, or give this one its own ` +
        `data dir with SMVBOT_DATA_DIR. If no such smvbot is running, delete ${lockFile} and start again.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly lockFile: string;
  /** Set when a lock left behind by a dead process was taken over (worth logging). */
  readonly tookOverFrom: { pid: number; startedAt: string | null } | null;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Reports noteworthy events, e.g. taking over a stale lock. */
  onWarning?: (message: string) => void;
}

// Lock files this process holds: a second acquire in the same process is refused too.
const heldByThisProcess = new Set<string>();

/** Take `<dataDir>/smvbot.lock`, creating dataDir if missing; throws DataDirLockedError if held. */
export async function acquireDataDirLock(dataDir: string, options: AcquireOptions = {}): Promise<DataDirLock> {
  const resolvedDir = path.resolve(dataDir);
  await mkdir(resolvedDir, { recursive: true });
  const lockFile = path.join(resolvedDir, LOCK_FILE_NAME);
  const mine: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };
  if (heldByThisProcess.has(lockFile)) {
    throw new DataDirLockedError(resolvedDir, lockFile, process.pid, null);
  }
  let tookOverFrom: DataDirLock['tookOverFrom'] = null;

  // Two rounds: the second follows removal of a stale lock. If another process
  // wins that race, its fresh lock is alive and we report it as held.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await createExclusively(lockFile, mine)) {
      heldByThisProcess.add(lockFile);
      return makeLock(lockFile, mine, tookOverFrom);
    }
    const holder = await readHolder(lockFile);
    if (holder === 'gone') continue;
    // A holder with our own pid is a leftover of an earlier run (containers reuse pids).
    if (holder !== null && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new DataDirLockedError(resolvedDir, lockFile, holder.pid, holder.startedAt);
    }
    tookOverFrom = { pid: holder?.pid ?? 0, startedAt: holder?.startedAt ?? null };
    options.onWarning?.(
      holder === null
        ? `Taking over unreadable lock file ${lockFile}.`
        : `Taking over stale lock ${lockFile} left by pid ${holder.pid}, which is no longer running.`,
    );
    await removeIfUnchanged(lockFile, holder);
  }
  const holder = await readHolder(lockFile);
  const pid = holder !== null && holder !== 'gone' ? holder.pid : 0;
  throw new DataDirLockedError(resolvedDir, lockFile, pid, null);
}

/**
 * Write the content to a private temp file, then hard-link it into place: link()
 * fails if the lock exists, and a reader never sees a half-written lock.
 */
async function createExclusively(lockFile: string, content: LockContent): Promise<boolean> {
  const temp = `${lockFile}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, JSON.stringify(content) + '\n', { flag: 'wx' });
  try {
    await link(temp, lockFile);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Remove a stale lock, unless another process replaced it since we looked. */
async function removeIfUnchanged(lockFile: string, seen: LockHolder | null): Promise<void> {
  const now = await readHolder(lockFile);
  if (now === 'gone') return;
  const same = now === null ? seen === null : seen !== null && now.pid === seen.pid && now.startedAt === seen.startedAt;
  if (!same) return;
  await unlink(lockFile).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

function makeLock(lockFile: string, mine: LockContent, tookOverFrom: DataDirLock['tookOverFrom']): DataDirLock {
  let released = false;
  const mineText = JSON.stringify(mine) + '\n';
  // Last resort when the process exits without calling release() (e.g. process.exit on a fatal error).
  const releaseOnExit = () => {
    try {
      if (readFileSync(lockFile, 'utf8') === mineText) unlinkSync(lockFile);
    } catch {
      // already gone or unreadable: nothing to clean up
    }
  };
  process.once('exit', releaseOnExit);
  return {
    lockFile,
    tookOverFrom,
    async release() {
      if (released) return;
      released = true;
      heldByThisProcess.delete(lockFile);
      process.off('exit', releaseOnExit);
      // Only remove the lock if it is still ours (never delete a successor's lock).
      const holder = await readHolder(lockFile);
      if (holder !== null && holder !== 'gone' && holder.pid === mine.pid && holder.startedAt === mine.startedAt) {
        // Left behind, it names a dead process: the next start takes it over.
        await unlink(lockFile).catch(() => undefined);
      }
    },
  };
}

/** The lock's holder; null when the file can't be understood; 'gone' when it vanished. */
async function readHolder(lockFile: string): Promise<LockHolder | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      return { pid: parsed.pid, startedAt: typeof parsed.startedAt === 'string' ? parsed.startedAt : null };
    }
  } catch {
    // fall through: unreadable
  }
  return null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
