// `npm start` as an operator runs it, and `kill <npm pid>` as an operator (or a service manager
// that only knows npm's pid) stops it: SIGTERM must reach the bot itself (SPEC §7).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { BOT_TOKEN, USERS, World } from './support/botHarness.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Direct children of a process, from /proc (pid and command line). */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which sits in parentheses and may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push({ pid: Number(entry), cmdline: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    // A zombie still answers kill(0); its state in /proc says it is dead.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('npm start', () => {
  it('runs the bot as npm\'s direct child, so `kill <npm pid>` stops the bot cleanly and frees its data dir', async () => {
    const w = new World();
    cleanups.push(() => w.cleanup());
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    cleanups.push(() => slack.close());

    const npm = spawn('npm', ['start'], { cwd: PROJECT, env: w.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      if (npm.exitCode === null) npm.kill('SIGKILL');
    });
    let out = '';
    npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('close', (code) => resolve(code)));
    const until = Date.now() + 55_000;
    while (!/"msg":"smvbot ready"/.test(out)) {
      if (Date.now() > until || npm.exitCode !== null) throw new Error(`npm start did not get ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const children = childrenOf(npm.pid!);
    const bot = children.find((c) => c.cmdline.includes('dist/main.js'));
    expect(bot, JSON.stringify(children)).toBeDefined();
    expect(bot!.cmdline).toMatch(/^\S*node /);
    cleanups.push(() => {
      if (alive(bot!.pid)) process.kill(bot!.pid, 'SIGKILL');
    });

    process.kill(npm.pid!, 'SIGTERM');
    const code = await exited;

    expect(out).toContain('SIGTERM received');
    expect(out).toContain('"msg":"smvbot stopped"');
    expect(code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (alive(bot!.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(bot!.pid)).toBe(false);
    expect(fs.existsSync(path.join(w.dataDir, 'smvbot.lock'))).toBe(false);
  });
});
