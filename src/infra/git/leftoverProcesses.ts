// A bot killed with -9 leaves its git children running (they are not in a group the kernel ends
// with it): a push may land minutes later. Before the start-up reconciliation looks at the remote,
// such leftovers working in a clone are ended, so what it sees is final.
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Ends (SIGKILL) every process of this user whose working directory is `dir` or below it; Linux only. */
export async function endProcessesIn(dir: string, opts: { graceMs?: number } = {}): Promise<number[]> {
  const root = path.resolve(dir);
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    // No /proc (not Linux): nothing can be found, so nothing is ended.
    return [];
  }
  const ended: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    // Gone since the listing, or another user's: not one of ours.
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    if (cwd === null || (cwd !== root && !cwd.startsWith(root + path.sep))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      ended.push(pid);
    } catch {
      // already gone, or not ours
    }
  }
  // A remote that had the whole pack when its sender died still updates the ref: give it a moment.
  if (ended.length) await new Promise((resolve) => setTimeout(resolve, opts.graceMs ?? 1000));
  return ended;
}
