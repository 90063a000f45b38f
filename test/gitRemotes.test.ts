// Git against real hosts (issue 12): the bot's adopt and pin reads over real SSH (the suite's own ssh2 server), over
// `git http-backend` behind basic auth, against a server that never answers, a server down,
// pre-receive rejections and ref-lock races. Everything a user would see: the answer, the
// remote's branch, the processes left on the host, what the server was sent.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdoptOutcome } from '../src/core/adopt.ts';
import { PinsService } from '../src/core/pinsReport.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { ADOPTER, USER_CONF_PATH, createGitWorld, type GitWorld, type GitWorldOptions } from './support/gitWorld.ts';
import {
  freePort,
  processesMentioning,
  startBlackHole,
  startHttpGitServer,
  startGitSshServer,
  watchCommandLines,
  type BlackHole,
  type HttpGitServer,
  type GitSshServer,
} from './support/remotes.ts';

const PROBE = fileURLToPath(new URL('./support/gitProbe.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const worlds: GitWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

async function world(options: GitWorldOptions = {}): Promise<GitWorld> {
  const w = await createGitWorld(options);
  worlds.push(w);
  return w;
}

function adopt(w: GitWorld, stage = 'geo', version = 'TCD.20160802.geo'): Promise<AdoptOutcome> {
  return w.adoptAs({ stage, version, userId: ADOPTER.id });
}

function refusalOf(outcome: AdoptOutcome): { code: string; message: string; git?: { kind: string; gist: string } } {
  if (outcome.ok) throw new Error(`expected a refusal, got ${JSON.stringify({ status: outcome.status })}`);
  return { code: outcome.code, message: refusalText(outcome), ...('git' in outcome && outcome.git ? { git: outcome.git } : {}) };
}

function adopted(outcome: AdoptOutcome): Extract<AdoptOutcome, { status: 'adopted' }> {
  if (!outcome.ok || outcome.status !== 'adopted') throw new Error(`expected an adoption, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function pinsOf(w: GitWorld): PinsService {
  return new PinsService({ topology: w.topology, catalog: w.catalog, workspaces: w.workspaces, inspectVersion: w.inspectVersion });
}

/** Polls until `check` holds (processes take a moment to be gone after SIGKILL); false after `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const secret = () => `tok${randomBytes(12).toString('hex')}`;

describe('over SSH (the real ssh client against an SSH server the suite owns, on loopback)', () => {
  let root: string;
  let sshServer: GitSshServer;
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-sshServer-'));
    sshServer = await startGitSshServer(root);
  });
  afterAll(async () => {
    await sshServer?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('adopts and reads pins with the key and known_hosts given in GIT_SSH_COMMAND', async () => {
    const w = await world({ repoUrl: (p) => sshServer.url(p), gitEnv: { GIT_SSH_COMMAND: sshServer.sshCommand() } });

    const done = adopted(await adopt(w));

    expect(w.remoteHead()).toBe(done.commit);
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.geo.version = TCD.20160802.geo');
    const report = await pinsOf(w).report(w.consumer);
    expect(report.stages.find((s) => s.stage.displayName === 'geo')?.pin.version).toBe('TCD.20160802.geo');
    // Real SSH end to end: the key was checked by signature, git's services ran over exec requests.
    expect(sshServer.auths).toContain('publickey:git:accepted');
    expect(sshServer.execs.some((c) => c.startsWith('git-receive-pack '))).toBe(true);
    expect(sshServer.execs.some((c) => c.startsWith('git-upload-pack '))).toBe(true);
  });

  it('answers a key the server does not know as an auth failure with ssh\'s own "Permission denied (publickey)"', async () => {
    const strangerKey = path.join(root, 'stranger_key');
    if (!fs.existsSync(strangerKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', strangerKey]);
    const command = sshServer.sshCommand().replace(`-i ${sshServer.clientKey}`, `-i ${strangerKey}`);
    const w = await world({ repoUrl: (p) => sshServer.url(p), gitEnv: { GIT_SSH_COMMAND: command } });
    const before = w.remoteHead();

    const refusal = refusalOf(await adopt(w));

    expect(refusal.code).toBe('git-failed');
    expect(refusal.git?.kind).toBe('auth');
    expect(refusal.message).toContain('Permission denied (publickey)');
    expect(w.remoteHead()).toBe(before);
  });

  it('answers an unknown host key at once with ssh\'s own "Host key verification failed", leaving the remote alone', async () => {
    const w = await world({ repoUrl: (p) => sshServer.url(p), gitEnv: { GIT_SSH_COMMAND: sshServer.sshCommand({ knownHosts: sshServer.emptyKnownHosts }) } });
    const before = w.remoteHead();

    const refusal = refusalOf(await adopt(w));

    expect(refusal.code).toBe('git-failed');
    expect(refusal.git?.kind).toBe('host-key');
    expect(refusal.message).toContain('Host key verification failed');
    expect(refusal.message).toContain("The remote's SSH host key is not in the bot's known_hosts");
    expect(w.remoteHead()).toBe(before);
  });

  it('never prompts for a host key, even on a terminal and with batch mode left out of GIT_SSH_COMMAND', async () => {
    const home = path.join(root, 'probe-home');
    fs.mkdirSync(home, { recursive: true });
    const remote = path.join(root, 'probe.git');
    fs.mkdirSync(remote, { recursive: true });
    // `script` runs the probe on a new pseudo-terminal, as when the bot is started by hand in a shell.
    const child = spawn('script', ['-qec', `'${process.execPath}' --import '${TSX_LOADER}' '${PROBE}'`, '/dev/null'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        TERM: 'dumb',
        GIT_SSH_COMMAND: sshServer.sshCommand({ knownHosts: sshServer.emptyKnownHosts, batchMode: false }),
        PROBE_URL: sshServer.url(remote),
        PROBE_TIMEOUT_MS: '20000',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const probed = await eventually(() => /PROBE \{.*\}/.test(out), 45_000);
    child.kill('SIGKILL');
    await closed;

    expect(probed, out).toBe(true);
    const result = JSON.parse(/PROBE (\{.*\})/.exec(out)![1]!) as { ok: boolean; kind: string; gist: string; tty: boolean };
    expect(result.tty).toBe(true);
    // A prompt would have hung until the timeout (kind "timeout"); ssh refused instead.
    expect(result.kind).toBe('host-key');
    expect(result.gist).toContain('Host key verification failed');
    expect(out).not.toContain('Are you sure you want to continue connecting');
  });
});

describe('over HTTP with basic auth (git http-backend)', () => {
  let server: HttpGitServer;
  const account = { user: 'smvbot', password: secret() };
  beforeAll(async () => {
    // Serves every bare repo on the host by its absolute path: each world's remote.git.
    server = await startHttpGitServer('/', account);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('adopts with the token in the repo URL; the token is on no command line at any moment, nor in the clone', async () => {
    const w = await world({ repoUrl: (p) => server.url(p.slice(1)) });
    const watch = watchCommandLines(account.password);

    const done = adopted(await adopt(w));
    const report = await pinsOf(w).report(w.consumer);
    const leaked = watch.stop();

    expect(w.remoteHead()).toBe(done.commit);
    expect(report.stages.find((s) => s.stage.displayName === 'geo')?.pin.version).toBe('TCD.20160802.geo');
    expect(leaked).toEqual([]);
    expect(watch.scans()).toBeGreaterThan(3);
    // Only the one right login was sent (after the anonymous probe git always makes first).
    expect(new Set(server.logins)).toEqual(new Set(['(none)', `${account.user}:${account.password}`]));
    const cloneConfig = fs.readFileSync(path.join(w.cloneDir, '.git', 'config'), 'utf8');
    expect(cloneConfig).not.toContain(account.password);
  });

  it('answers a wrong password as an auth failure, sends that login only, and leaves the operator\'s credential store alone', async () => {
    const w = await world({ repoUrl: (p) => server.url(p.slice(1), { user: account.user, password: 'wrong-password' }) });
    // The operator's own git setup: a store helper holding another login for this very host.
    const home = path.join(w.root, 'home');
    fs.appendFileSync(path.join(home, '.gitconfig'), '[credential]\n\thelper = store\n');
    const stored = `http://${account.user}:operators-own-secret@127.0.0.1:${server.port}\n`;
    fs.writeFileSync(path.join(home, '.git-credentials'), stored);
    server.logins.length = 0;

    const refusal = refusalOf(await adopt(w));

    expect(refusal.git?.kind).toBe('auth');
    expect(refusal.message).toContain('Authentication failed');
    expect(refusal.message).toContain('README "Giving smvbot access to the consumer repo"');
    expect(refusal.message).not.toContain('wrong-password');
    expect(server.logins.filter((l) => l !== '(none)')).toEqual([`${account.user}:wrong-password`]);
    expect(fs.readFileSync(path.join(home, '.git-credentials'), 'utf8')).toBe(stored);
  });

  it('with no login in the URL fails at once and sends no login at all (no empty user, no stored one)', async () => {
    const w = await world({ repoUrl: (p) => server.url(p.slice(1), null) });
    const home = path.join(w.root, 'home');
    fs.appendFileSync(path.join(home, '.gitconfig'), '[credential]\n\thelper = store\n');
    fs.writeFileSync(path.join(home, '.git-credentials'), `http://${account.user}:operators-own-secret@127.0.0.1:${server.port}\n`);
    server.logins.length = 0;

    const refusal = refusalOf(await adopt(w));

    expect(refusal.git?.kind).toBe('auth');
    expect(refusal.message).toMatch(/could not read Username .*terminal prompts disabled/);
    expect(server.logins.every((l) => l === '(none)')).toBe(true);
  });

  it('answers a server that is down as unreachable, at once', async () => {
    const port = await freePort();
    const w = await world({ consumer: { repo: `http://${account.user}:${account.password}@127.0.0.1:${port}/team-b/client-model.git` } });

    const refusal = refusalOf(await adopt(w));

    expect(refusal.git?.kind).toBe('unreachable');
    expect(refusal.message).toContain(`Failed to connect to 127.0.0.1 port ${port}`);
    expect(refusal.message).toContain('The bot cannot reach the git server');
    expect(refusal.message).not.toContain(account.password);
  });
});

describe('a remote that accepts connections and never answers', () => {
  let hole: BlackHole;
  let root: string;
  let sshServer: GitSshServer;
  beforeAll(async () => {
    hole = await startBlackHole();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-hole-'));
    sshServer = await startGitSshServer(root);
  });
  afterAll(async () => {
    await hole?.stop();
    await sshServer?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('over HTTP: answered within the timeout + 5 s, no git process left, the token never in `ps`', async () => {
    const token = secret();
    const marker = `never-answers-${randomBytes(6).toString('hex')}`;
    const w = await world({ consumer: { repo: `http://smvbot:${token}@127.0.0.1:${hole.port}/${marker}.git` }, gitTimeoutMs: 3000 });
    const watch = watchCommandLines(token);
    const started = Date.now();

    const refusal = refusalOf(await adopt(w));
    const elapsed = Date.now() - started;

    expect(refusal.git?.kind).toBe('timeout');
    expect(refusal.message).toContain('git timed out');
    expect(elapsed).toBeLessThan(3000 + 5000);
    expect(hole.accepted).toBeGreaterThan(0);
    expect(await eventually(() => processesMentioning(marker).length === 0), JSON.stringify(processesMentioning(marker))).toBe(true);
    expect(watch.stop()).toEqual([]);
  });

  it('over SSH: ssh is ended with git when the server never sends its banner', async () => {
    const marker = `never-answers-${randomBytes(6).toString('hex')}`;
    const w = await world({
      consumer: { repo: `ssh://${sshServer.user}@127.0.0.1:${hole.port}/srv/${marker}.git` },
      gitEnv: { GIT_SSH_COMMAND: sshServer.sshCommand() },
      gitTimeoutMs: 3000,
    });
    const started = Date.now();

    const refusal = refusalOf(await adopt(w));

    expect(refusal.git?.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000 + 5000);
    expect(await eventually(() => processesMentioning(marker).length === 0), JSON.stringify(processesMentioning(marker))).toBe(true);
  });
});

describe('pushes the server refuses', () => {
  it('re-applies and lands an adopt whose push lost the ref lock to another pusher ("cannot lock ref")', async () => {
    const w = await world();
    // A teammate's commit, ready on a side branch; the hook moves main to it while the bot's
    // push is being received, the way a concurrent push wins the race for the ref.
    w.remoteGit(['branch', 'teammate', 'main']);
    const theirs = w.commitToRemote({ 'README.md': '# client-model\n\nEdited by a teammate.\n' }, 'Teammate edit\n', 'teammate');
    const once = path.join(w.root, 'raced-once');
    w.installRemoteHook(
      'pre-receive',
      [
        '#!/bin/sh',
        `if [ ! -e '${once}' ]; then`,
        `  touch '${once}'`,
        '  env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/main refs/heads/teammate',
        'fi',
        'exit 0',
        '',
      ].join('\n'),
    );

    const done = adopted(await adopt(w));

    expect(fs.existsSync(once)).toBe(true);
    expect(w.remoteHead()).toBe(done.commit);
    expect(w.remoteLog()[0]!.parents).toEqual([theirs]);
    expect(w.remoteFile('README.md')).toContain('Edited by a teammate.');
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.geo.version = TCD.20160802.geo');
    expect(w.botGitCalls.filter((c) => c[0] === 'push')).toHaveLength(2);
  });

  it('answers a protected-branch rejection with the server\'s reason and suggests `mode: branch`', async () => {
    const w = await world();
    w.installRemoteHook('pre-receive', '#!/bin/sh\necho "GH006: Protected branch update failed for refs/heads/main." >&2\nexit 1\n');
    const before = w.remoteHead();

    const refusal = refusalOf(await adopt(w));

    expect(refusal.git?.kind).toBe('protected');
    expect(refusal.message).toContain('remote: GH006: Protected branch update failed for refs/heads/main.');
    expect(refusal.message).toContain('`main` is protected: set `mode: branch` for this consumer in smvbot.yml');
    expect(w.remoteHead()).toBe(before);
  });
});

describe('reads never wait behind writes', () => {
  it('answers a pins read while an adopt holds the consumer (a hung push)', async () => {
    const w = await world();
    let release!: () => void;
    const held = w.workspaces.use(w.consumer, () => new Promise<void>((r) => (release = r)));

    const report = await pinsOf(w).report(w.consumer);
    release();
    await held;

    expect(report.stages.find((s) => s.stage.displayName === 'geo')?.pin.version).toBe('TCD.20160701.geo');
  });

  it('1,000 concurrent pins reads cost a handful of fetches; an adopt sent after them lands within 5 s of its own work', async () => {
    const w = await world();
    const pins = pinsOf(w);
    await pins.report(w.consumer);
    // Its own work: an adopt on a warm clone with nothing else going on.
    let started = Date.now();
    adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));
    const alone = Date.now() - started;
    w.botGitCalls.splice(0);

    const reads = Array.from({ length: 1000 }, () => pins.report(w.consumer));
    started = Date.now();
    const done = adopted(await adopt(w));
    const amid = Date.now() - started;
    const reports = await Promise.all(reads);

    expect(w.remoteHead()).toBe(done.commit);
    expect(amid).toBeLessThan(alone + 5000);
    const fetches = w.botGitCalls.filter((c) => c[0] === 'fetch');
    // One for the adopt, at most two for all 1,000 reads (one running, one joined by the rest).
    expect(fetches.length).toBeLessThanOrEqual(3);
    for (const r of reports) expect(r.stages.find((s) => s.stage.displayName === 'cms')?.pin.version).toBe('TCD.20160802.cms');
  });
});
