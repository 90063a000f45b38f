// The one way the bot reads a publish dir (a publisher's, or a consumer's synced copy): other
// people's files, so nothing here trusts what it finds (SPEC §6a).
//
// - A symlink is followed only when its real target lies inside the publish dir's real path.
// - Directories are identified by (device, inode): a link back to one already walked is a loop.
// - FIFOs, sockets and devices are never opened; depth and entries per version are capped.
// - File text is read through a descriptor opened with O_NOFOLLOW|O_NONBLOCK and checked with
//   fstat (regular file, same inode the walk saw, under the size cap) before a byte is read.
// - Reading is synchronous per call (each fs.promises call is a thread-pool round trip; that
//   made a scan several times slower than `find`), but the walk yields to the event loop every
//   few milliseconds, inside a version as well as between versions: Slack acks never wait long.
// - A directory is read in one call only when its size bounds its entry count (a small
//   directory on a file system known to size directories by their entries); any other is
//   read as a capped stream, so a hostile directory of millions of names is never read whole.
// Whatever is skipped is returned with the reason, never thrown.
import fs from 'node:fs';
import type { Dir, Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export interface WalkLimits {
  /** Directory levels below a version's module output (Spark writes 0, partitioned output 1–3). */
  maxDepth: number;
  /** Names read per version, in all its directories together. */
  maxEntries: number;
  /** `.meta`/`.schema` text read for columns (part files together). */
  maxTextBytes: number;
  /** Longest stretch of synchronous reading before other work (Slack requests) may run. */
  sliceMs: number;
  /** Directories up to this size are read in one call where the size bounds the entries (0: always streamed). */
  wholeDirBytes: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxDepth: 8,
  maxEntries: 20_000,
  maxTextBytes: 4 * 1024 * 1024,
  sliceMs: 2,
  wholeDirBytes: 64 * 1024,
};

/** Something the walk refused to follow or read, relative to the publish dir. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/** Lets the event loop run when the current slice of synchronous work is used up. */
export class Slicer {
  private start = performance.now();

  constructor(private readonly sliceMs: number) {}

  /** True when the caller should `await yield()` before its next synchronous step. */
  due(): boolean {
    return performance.now() - this.start > this.sliceMs;
  }

  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.start = performance.now();
  }
}

/** A publish dir as configured and as it really is (its own path may hold symlinks: that is the operator's choice). */
export interface PublishRoot {
  dir: string;
  real: string;
}

export async function resolveRoot(dir: string): Promise<PublishRoot> {
  return { dir, real: await fs.promises.realpath(dir) };
}

export function isInside(root: PublishRoot, realPath: string): boolean {
  const prefix = root.real.endsWith(path.sep) ? root.real : root.real + path.sep;
  return realPath.startsWith(prefix);
}

/**
 * `dir`/`name` for a name a listing returned (never `.`, `..` or holding a `/`) under a normalised
 * absolute dir: what path.join gives, without its normalising (a fifth of a 10k-version walk).
 */
export function childPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** What a directory entry is, after (contained) symlinks: where to read it and its stat. */
export type Resolved =
  | { kind: 'dir' | 'file'; abs: string; stat: Stats }
  /** Not usable but harmless (a dangling link, gone since listing): the layout rules say why. */
  | { kind: 'other' }
  /** Refused for safety: reported as skipped. */
  | { kind: 'unsafe'; reason: string };

function specialKind(stat: Stats | Dirent): string | null {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return null;
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Classifies `abs` (listed as `dirent`, if known) without following anything out of the root. */
export function resolveEntry(root: PublishRoot, abs: string, dirent?: Dirent): Resolved {
  const special = dirent ? specialKind(dirent) : null;
  if (special) return { kind: 'unsafe', reason: `is ${special}; not read` };
  const lstat = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (lstat === undefined) return { kind: 'other' };
  if (lstat.isDirectory()) return { kind: 'dir', abs, stat: lstat };
  if (lstat.isFile()) return { kind: 'file', abs, stat: lstat };
  if (!lstat.isSymbolicLink()) return { kind: 'unsafe', reason: `is ${specialKind(lstat) ?? 'not a file or directory'}; not read` };
  let real: string;
  try {
    real = fs.realpathSync.native(abs);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'other' };
    if (code === 'ELOOP') return { kind: 'unsafe', reason: 'is a symbolic link loop; not followed' };
    return { kind: 'unsafe', reason: `is a symbolic link that cannot be resolved (${code}); not followed` };
  }
  if (!isInside(root, real)) return { kind: 'unsafe', reason: 'is a symbolic link leading outside the publish dir; not followed' };
  const stat = fs.statSync(real, { throwIfNoEntry: false });
  if (stat === undefined) return { kind: 'other' };
  if (stat.isDirectory()) return { kind: 'dir', abs: real, stat };
  if (stat.isFile()) return { kind: 'file', abs: real, stat };
  return { kind: 'unsafe', reason: `is a symbolic link to ${specialKind(stat) ?? 'something that is not a file or directory'}; not read` };
}

/**
 * File systems whose directory `st_size` grows with the entries (ext2/3/4, XFS, btrfs, tmpfs):
 * there a directory of N bytes holds at most N / 2 names (64 KiB: 32k names, a few ms to read).
 * FUSE, NFS, overlayfs and the rest may report any size, so their directories are streamed.
 */
const SIZE_BOUNDED_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994]);

/** Per device: does a directory's size bound its entry count? Asked once per device. */
export class DirSizeTrust {
  private readonly byDevice = new Map<number, boolean>();

  constructor(private readonly wholeDirBytes: number) {}

  readsWhole(abs: string, stat: Stats): boolean {
    if (stat.size > this.wholeDirBytes) return false;
    let bounded = this.byDevice.get(stat.dev);
    if (bounded === undefined) {
      try {
        bounded = SIZE_BOUNDED_FS.has(fs.statfsSync(abs).type);
      } catch {
        bounded = false;
      }
      this.byDevice.set(stat.dev, bounded);
    }
    return bounded;
  }
}

/** What every version of one scan shares: where, the caps, the time slices, what is known of the devices. */
export interface ScanContext {
  root: PublishRoot;
  limits: WalkLimits;
  slicer: Slicer;
  sizeTrust: DirSizeTrust;
}

export function scanContext(root: PublishRoot, limits: WalkLimits): ScanContext {
  return { root, limits, slicer: new Slicer(limits.sliceMs), sizeTrust: new DirSizeTrust(limits.wholeDirBytes) };
}

/** One version's walk: the budget and what was seen, shared by every directory in it. */
export class VersionWalk {
  private readonly visited = new Set<string>();
  private entries = 0;
  private capped = false;
  readonly skipped: SkippedEntry[] = [];

  readonly root: PublishRoot;
  readonly limits: WalkLimits;
  readonly slicer: Slicer;
  private readonly sizeTrust: DirSizeTrust;

  constructor(scan: ScanContext) {
    ({ root: this.root, limits: this.limits, slicer: this.slicer, sizeTrust: this.sizeTrust } = scan);
  }

  skip(relPath: string, reason: string): void {
    this.skipped.push({ path: relPath, reason });
  }

  /** Marks a directory as walked; false when it already was (a loop through symlinks). */
  enter(stat: Stats, relPath: string): boolean {
    const id = `${stat.dev}:${stat.ino}`;
    if (this.visited.has(id)) {
      this.skip(relPath, 'leads back to a directory already read (a symlink loop); not followed');
      return false;
    }
    this.visited.add(id);
    return true;
  }

  /**
   * Names in a directory (`stat` is its stat), at most what is left of the version's entry
   * budget; an error code when it cannot be listed. Yields to the event loop while listing.
   */
  async list(abs: string, stat: Stats, relPath: string): Promise<{ dirents: Dirent[] } | { error: string }> {
    if (this.sizeTrust.readsWhole(abs, stat)) {
      let dirents: Dirent[];
      try {
        dirents = fs.readdirSync(abs, { withFileTypes: true });
      } catch (err) {
        return { error: errorCode(err) };
      }
      const left = Math.max(0, this.limits.maxEntries - this.entries);
      this.entries += dirents.length;
      if (dirents.length > left) {
        this.overCap(relPath);
        dirents.length = left;
      }
      return { dirents };
    }
    let dir: Dir;
    try {
      dir = fs.opendirSync(abs, { bufferSize: 128 });
    } catch (err) {
      return { error: errorCode(err) };
    }
    const dirents: Dirent[] = [];
    try {
      for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
        if (++this.entries > this.limits.maxEntries) {
          this.overCap(relPath);
          break;
        }
        dirents.push(d);
        if (this.slicer.due()) await this.slicer.yield();
      }
    } catch (err) {
      return { error: errorCode(err) };
    } finally {
      dir.closeSync();
    }
    return { dirents };
  }

  private overCap(relPath: string): void {
    if (!this.capped) this.skip(relPath, `more than ${this.limits.maxEntries} entries in this version; the rest was not read`);
    this.capped = true;
  }
}

/** A regular file the walk saw: where, and which inode (the read checks it is still that one). */
export interface SeenFile {
  abs: string;
  dev: number;
  ino: number;
  size: number;
}

const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * Concatenated text of files the walk saw, if together they stay within `maxBytes`.
 * Each file is opened without following a final symlink and must still be the regular file
 * (same device and inode) that was listed: a swap since the walk is refused, not read.
 */
/** `4 MB` for whole mebibytes, else `4096-byte`. */
function sizeLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes}-byte`;
}

export function readSeenFiles(files: readonly SeenFile[], maxBytes: number): { text: string } | { error: string } {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > maxBytes) return { error: `over the ${sizeLimit(maxBytes)} limit for reading (${total} bytes); not read` };
  const chunks: Buffer[] = [];
  let budget = maxBytes;
  for (const file of files) {
    let fd: number;
    try {
      fd = fs.openSync(file.abs, READ_FLAGS);
    } catch (err) {
      return { error: errorCode(err) };
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.dev !== file.dev || stat.ino !== file.ino) return { error: 'changed while being read; not read' };
      if (stat.size > budget) return { error: `grew over the ${sizeLimit(maxBytes)} limit for reading while being read; not read` };
      const buffer = Buffer.allocUnsafe(stat.size);
      let filled = 0;
      while (filled < buffer.length) {
        const n = fs.readSync(fd, buffer, filled, buffer.length - filled, filled);
        if (n === 0) break;
        filled += n;
      }
      budget -= filled;
      chunks.push(buffer.subarray(0, filled));
    } catch (err) {
      return { error: errorCode(err) };
    } finally {
      fs.closeSync(fd);
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}
