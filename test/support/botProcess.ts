// The real entry point as a child process (`node --import tsx src/main.ts`), for tests that must
// kill -9 the bot and start it again on the same data dir. Nothing is inherited: the bot sees
// exactly `env` (use `World.env()`), and LOG_LEVEL must be at least `info` for `port()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Output kept per process (the tail): enough to explain a failure, bounded however long it runs. */
const KEEP_CHARS = 64 * 1024;

export interface BotProcess {
  child: ChildProcess;
  /** The tail of stdout and stderr, interleaved as they arrived. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** The HTTP port, from the bot's "smvbot starting" log line; rejects if it exits or times out first. */
  port(timeoutMs: number): Promise<number>;
  /** SIGKILL to the node process only (its git children live on, as after a real crash); resolves once it is gone. */
  kill9(): Promise<void>;
}

export function spawnBotProcess(env: Record<string, string>, cwd: string): BotProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (chunk: string) => {
    out += chunk;
    if (out.length > 2 * KEEP_CHARS) out = out.slice(-KEEP_CHARS);
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    output: () => out.slice(-KEEP_CHARS),
    exited,
    running: () => !done,
    async port(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/.exec(out);
        if (match) return Number(match[1]);
        if (done) throw new Error(`The bot exited before it started listening.\n${out.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`The bot did not start listening within ${timeoutMs} ms.\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async kill9() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

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
