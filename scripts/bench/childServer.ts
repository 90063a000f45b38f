// Servers under test as child processes (`node [--import tsx] <entry>`), like `npm start` runs the
// bot: own event loop, own heap, so RSS and latency are the server's and not the bench's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { sleep } from './stats.ts';

export interface ChildServer {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>/slack/events` */
  readonly eventsUrl: string;
  /** Last lines the child wrote (stdout and stderr), for error reports. */
  output(): string;
  memory(): ProcessMemory;
  healthz(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** SIGTERM, then wait for exit (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash), then wait for exit. */
  kill9(): Promise<void>;
}

/** A port free right now on loopback (the child binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ProcessMemory {
  /** VmRSS: resident now (what the goal is about). */
  rssMb: number;
  /** VmHWM: the most ever resident. */
  hwmMb: number;
  /** RssAnon: the process's own pages; the rest (RssFile) is mostly the node binary, shared. */
  anonMb: number;
}

/** Resident memory of a live process, from /proc (Linux). */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  return { rssMb: mb('VmRSS'), hwmMb: mb('VmHWM'), anonMb: mb('RssAnon') };
}

/**
 * Starts `entry` (under tsx when it is TypeScript) with exactly `env`, and waits until GET
 * /healthz answers 200 (or, with `until: 'listening'`, answers at all: the first scan may still run).
 */
export async function startChildServer(opts: {
  entry: string;
  env: Record<string, string>;
  cwd: string;
  port: number;
  /** Extra node flags, e.g. `--cpu-prof` to see where time goes. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  until?: 'ready' | 'listening';
}): Promise<ChildServer> {
  // TypeScript entries run under tsx; compiled ones (the bot as `npm start` runs it) run plain.
  const loader = opts.entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...loader, opts.entry], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));

  const base = `http://127.0.0.1:${opts.port}`;
  const healthz = async () => {
    const res = await fetch(`${base}/healthz`);
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body };
  };
  const server: ChildServer = {
    pid: child.pid!,
    port: opts.port,
    eventsUrl: `${base}/slack/events`,
    output: () => lines.join('\n'),
    memory: () => processMemory(child.pid!),
    healthz,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
    async kill9() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${opts.entry} exited with code ${exitCode} before it was ready:\n${server.output()}`);
    try {
      const { status } = await healthz();
      if (status === 200 || opts.until === 'listening') return server;
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  await server.stop();
  throw new Error(`${opts.entry} was not ready (GET /healthz 200) within ${opts.readyTimeoutMs ?? 120_000} ms:\n${server.output()}`);
}
