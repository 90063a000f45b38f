// A watchdog for the demo's leftovers. `npm run demo` runs under the tsx CLI, which SIGKILLs its
// child when a Ctrl-C finds it busy in synchronous work (a git call, writing files), so the
// demo's own signal handler cannot be the only cleanup. This detached helper notices the demo's
// end through its IPC channel and then stops the bot and removes the temp dir.
import { spawn, type ChildProcess } from 'node:child_process';

// Plain JS for `node -e`: no loader needed, nothing to import from the project.
const GUARD_SOURCE = `
const fs = require('node:fs');
const [dir] = process.argv.slice(1);
let botPid = null;
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function cleanUp() {
  if (botPid !== null && alive(botPid)) {
    try { process.kill(botPid, 'SIGTERM'); } catch {}
    for (let i = 0; i < 100 && alive(botPid); i++) await sleep(100);
    if (alive(botPid)) try { process.kill(botPid, 'SIGKILL'); } catch {}
  }
  try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch {}
  process.exit(0);
}
process.on('SIGINT', () => {});
process.on('message', (m) => {
  if (m && m.type === 'bot') botPid = m.pid;
  if (m && m.type === 'bot-exited') botPid = null;
  if (m && m.type === 'done') process.exit(0);
});
process.on('disconnect', () => void cleanUp());
`;

export class CleanupGuard {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts the watchdog for `dir`; it must already exist. */
  static start(dir: string): CleanupGuard {
    const child = spawn(process.execPath, ['-e', GUARD_SOURCE, dir], {
      detached: true, // its own process group: a terminal Ctrl-C does not reach it
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    // Neither the process nor its channel may keep the demo alive.
    child.unref();
    child.channel?.unref();
    return new CleanupGuard(child);
  }

  /** The bot to stop if the demo disappears. */
  watchBot(pid: number | undefined): Promise<void> {
    return pid === undefined ? Promise.resolve() : this.send({ type: 'bot', pid });
  }

  /** The bot is gone: forget its pid (it could be reused by an unrelated process). */
  botExited(): Promise<void> {
    return this.send({ type: 'bot-exited' });
  }

  /** Everything is cleaned up: the watchdog can go. */
  done(): Promise<void> {
    return this.send({ type: 'done' });
  }

  /** Resolves once the message is handed to the OS, so a following exit cannot drop it. */
  private send(message: object): Promise<void> {
    if (!this.child.connected) return Promise.resolve();
    return new Promise((resolve) => this.child.send(message, () => resolve()));
  }
}
