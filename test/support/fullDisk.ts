// A real small filesystem to fill up: a tmpfs mounted for the test (mounting needs root, as CI runs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Mounts a tmpfs of `size` (e.g. '4m') at `dir`; returns the unmount. */
export function mountTmpfs(dir: string, size: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  return () => execFileSync('umount', ['-l', dir]);
}

/** Fills the filesystem holding `dir` to the last block; returns the filler file (delete it to free the space). */
export function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=16k'], { stdio: 'pipe' });
  } catch {
    // dd stops with "No space left on device": that is the point
  }
  return filler;
}
