// A spawned bot (see spawnBot.ts) as seen from outside: its /healthz, and the processes it left
// working in a directory (git in its clone, hooks in a remote) after a kill -9.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { spawnBot, type Spawned } from './spawnBot.ts';

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

/**
 * The local TCP ports of a live process's sockets (Linux /proc: its socket inodes, looked up in
 * the net tables): tells which process holds a connection a server saw coming from a port.
 */
export function tcpPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** A spawned bot as the replica tests drive it: its port from the log, its output, kill -9. */
export interface BotProcess {
  child: Spawned['child'];
  /** stdout then stderr, the tail. */
  output(): string;
  exited: Spawned['exited'];
  running(): boolean;
  /** The HTTP port, from the bot's "smvbot starting" log line (LOG_LEVEL info or lower). */
  port(timeoutMs: number): Promise<number>;
  /** SIGKILL to the node process only (its git children live on, as after a real crash). */
  kill9(): Promise<void>;
}

export function spawnBotProcess(env: Record<string, string>, cwd: string): BotProcess {
  const spawned = spawnBot(env, cwd);
  let done = false;
  void spawned.exited.then(() => (done = true));
  return {
    child: spawned.child,
    output: () => `${spawned.stdout()}${spawned.stderr()}`.slice(-64 * 1024),
    exited: spawned.exited,
    running: () => !done,
    async port(timeoutMs) {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`The bot did not start listening within ${timeoutMs} ms.\n${spawned.stderr().slice(-4000)}`)), timeoutMs).unref(),
      );
      const match = await Promise.race([spawned.waitFor('stdout', /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/), timeout]);
      return Number(match[1]);
    },
    async kill9() {
      if (!done) spawned.child.kill('SIGKILL');
      await spawned.exited;
    },
  };
}

/** Polls `probe` every 50 ms until it gives a value (not undefined or false); fails naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls /healthz until it answers `status` (the bot gets there by itself); a timeout says what it answered last. */
export async function healthBecomes(port: number, status: number, timeoutMs = 30_000): Promise<{ status: number; body: Record<string, unknown> }> {
  let last: Awaited<ReturnType<typeof healthOf>> = null;
  try {
    return await waitUntil(`/healthz to answer ${status}`, async () => {
      last = await healthOf(port);
      return last?.status === status ? last : undefined;
    }, timeoutMs);
  } catch (error) {
    const seen = last as Awaited<ReturnType<typeof healthOf>>;
    throw new Error(`${(error as Error).message}; last answer: ${seen ? `${seen.status} ${JSON.stringify(seen.body)}` : 'none'}`);
  }
}

/**
 * Publisher and version of each release a message the bot posted announces, from its metadata:
 * one, or several for a combined announcement (`versions`); none for any other message.
 */
export function announcementsOf(metadata: unknown): { publisher: string; version: string }[] {
  const m = metadata as { event_type?: unknown; event_payload?: { publisher?: unknown; version?: unknown; versions?: unknown } } | null | undefined;
  if (m?.event_type !== 'smv_version_published') return [];
  const { publisher, version, versions } = m.event_payload ?? {};
  if (typeof publisher !== 'string' || typeof version !== 'string') return [];
  if (!Array.isArray(versions)) return [{ publisher, version }];
  return (versions as { publisher?: unknown; version?: unknown }[]).flatMap((v) =>
    typeof v.publisher === 'string' && typeof v.version === 'string' ? [{ publisher: v.publisher, version: v.version }] : [],
  );
}

/** A spawned bot once its /healthz answers 200 (else the reason it is not); `onSpawn` registers its cleanup first. */
export async function readyBotProcess(env: Record<string, string>, cwd: string, onSpawn: (bot: BotProcess) => void): Promise<{ bot: BotProcess; port: number }> {
  const bot = spawnBotProcess(env, cwd);
  onSpawn(bot);
  const port = await bot.port(60_000);
  await waitUntil('/healthz 200', async () => {
    if (!bot.running()) throw new Error(`the bot exited:\n${bot.output()}`);
    return (await healthOf(port))?.status === 200;
  }, 60_000);
  return { bot, port };
}
