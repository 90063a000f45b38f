// Runs the real bot the way `npm start` does (`tsx src/main.ts`) as a child process, and stops
// it with SIGTERM like an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(PROJECT_DIR, 'src', 'main.ts');
const OUTPUT_LIMIT = 64 * 1024;

export interface BotProcessOptions {
  /** Working directory: not the project, so a developer's own `.env` cannot leak into the demo. */
  cwd: string;
  /** The bot's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  port: number;
}

export class BotProcess {
  private output = '';
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        resolve(this.exitCode);
      });
      child.once('error', (error) => {
        this.output += `\ncould not start the bot: ${error.message}`;
        this.exitCode = null;
        resolve(null);
      });
    });
  }

  /**
   * Spawns `node --import tsx src/main.ts`. Returns at once, so the caller can stop it even
   * while it starts; then await `ready()`.
   */
  static spawn(opts: BotProcessOptions): BotProcess {
    const tsxLoader = import.meta.resolve('tsx');
    const child = spawn(process.execPath, ['--import', tsxLoader, MAIN], {
      cwd: opts.cwd,
      env: { ...opts.env, PORT: String(opts.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BotProcess(child, opts.port);
  }

  /** Resolves when GET /healthz answers 200; rejects if the bot exits or takes too long. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await this.waitUntilHealthy(timeoutMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  get healthUrl(): string {
    return `http://127.0.0.1:${this.port}/healthz`;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** What the bot wrote to stdout/stderr (its log), for reporting failures. */
  log(): string {
    return this.output.trim();
  }

  async health(): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.healthUrl);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: res.status, body };
  }

  /** SIGTERM, then the exit code once it has shut down (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<{ code: number | null; killed: boolean }> {
    if (!this.running) return { code: this.exitCode ?? null, killed: false };
    this.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout') {
      this.child.kill('SIGKILL');
      return { code: await this.exited, killed: true };
    }
    return { code: await this.exited, killed: false };
  }

  /** Last resort from a synchronous `exit` handler. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private async waitUntilHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`the bot exited with code ${this.exitCode} before it was ready. Its output:\n${this.log() || '(nothing)'}`);
      }
      try {
        const { status, body } = await this.health();
        if (status === 200) return;
        last = `${status} ${JSON.stringify(body)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.killNow();
    throw new Error(`the bot did not become healthy within ${timeoutMs} ms (last GET /healthz: ${last}). Its output:\n${this.log() || '(nothing)'}`);
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the bot binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
