// A spawned bot (see spawnBot.ts) as seen from outside: its /healthz, and the processes it left
// working in a directory (git in its clone, hooks in a remote) after a kill -9.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** `/healthz` once, or null when nothing answers (not listening yet, or gone). */
export async function healthOf(port: number): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** Processes whose working directory is `dir` or below it (Linux /proc), with their command lines. */
export function processesIn(dir: string): { pid: number; command: string }[] {
  const root = path.resolve(dir);
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== root && !cwd.startsWith(root + path.sep)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile, or not ours to look at
    }
  }
  return found;
}
