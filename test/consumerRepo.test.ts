// ConsumerRepo on real git: what it leaves in its clone, what it tells about ignored files and
// which git commands it needs for that. A typical adopt must stay at fetch, checkout, commit,
// push, so every shortcut here is checked against what git itself says.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerRepo } from '../src/infra/git/consumerRepo.ts';
import { createGitRunner, type GitRunner } from '../src/infra/git/gitRunner.ts';
import {
  APP_CONF_PATH,
  DEFAULT_APP_CONF,
  DEFAULT_USER_CONF,
  HUMAN_IDENTITY,
  TEST_COMMITTER,
  USER_CONF_PATH,
  countCalls,
  createGitWorld,
  failGitCommand,
  withoutConfigArgs,
  type GitWorld,
} from './support/gitWorld.ts';

const worlds: GitWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

const COMMIT = { message: 'Pin by test\n', author: HUMAN_IDENTITY, committer: TEST_COMMITTER };

/** A remote holding `files` on main, and a way to make ConsumerRepos of it (as bot processes would). */
async function remoteWith(files: Record<string, string> = { [USER_CONF_PATH]: DEFAULT_USER_CONF, [APP_CONF_PATH]: DEFAULT_APP_CONF }) {
  const w = await createGitWorld({ versions: [], repoFiles: files });
  worlds.push(w);
  const calls: string[][] = [];
  const realGit = createGitRunner({ ...process.env, HOME: path.join(w.root, 'home') });
  const clone = path.join(w.root, 'clone');
  return {
    w,
    clone,
    /** A new ConsumerRepo on the same clone dir, as after a restart of the bot. */
    repo: (wrap: (git: GitRunner) => GitRunner = (git) => git) => new ConsumerRepo(countCalls(wrap(realGit), calls), clone, w.remote, 'main'),
    /** Subcommands run since the last call. */
    commands: () => calls.splice(0).map((args) => args[0]!),
    headInClone: () => w.git(['-C', clone, 'rev-parse', 'HEAD']).trim(),
  };
}

describe('ConsumerRepo: cleaning only when something may have been left behind', () => {
  it('does not clean a clone it has just made, nor after a successful commit', async () => {
    const { repo, commands } = await remoteWith();
    const r = repo();

    await r.resetToRemote();
    expect(commands()).toEqual(['init', 'fetch', 'checkout']);
    await r.commitFile(USER_CONF_PATH, DEFAULT_USER_CONF + 'smv.stages.trial.version = T1\n', COMMIT);
    await r.push('main');
    commands();
    await r.resetToRemote();
    expect(commands()).toEqual(['fetch', 'checkout']);
    await r.resetToRemote();
    expect(commands()).toEqual(['fetch', 'checkout']);
  });

  it('removes a new file whose commit failed on the next reset, and cleans only that once', async () => {
    const { repo, clone, commands } = await remoteWith();
    const r = repo((git) => failGitCommand(git, 'commit'));
    await r.resetToRemote();

    await expect(r.commitFile('conf/team-pins.props', 'smv.stages.geo.version = T1\n', COMMIT)).rejects.toThrow(/simulated failure/);
    expect(fs.existsSync(path.join(clone, 'conf/team-pins.props'))).toBe(true);
    commands();

    await r.resetToRemote();
    expect(commands()).toEqual(['fetch', 'checkout', 'clean']);
    expect(fs.existsSync(path.join(clone, 'conf/team-pins.props'))).toBe(false);
    expect(await r.readFile('conf/team-pins.props')).toBeNull();

    await r.resetToRemote();
    expect(commands()).toEqual(['fetch', 'checkout']);
  });

  it('puts back the remote text of a tracked file whose commit failed', async () => {
    const { repo, commands } = await remoteWith();
    const r = repo((git) => failGitCommand(git, 'commit'));
    await r.resetToRemote();

    await expect(r.commitFile(USER_CONF_PATH, 'half an edit\n', COMMIT)).rejects.toThrow(/simulated failure/);
    commands();
    await r.resetToRemote();

    expect(await r.readFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF);
    expect(commands()).toEqual(['fetch', 'checkout', 'clean']);
  });

  it('cleans on first use after a restart: untracked and ignored files of the last process go', async () => {
    const { repo, clone, commands } = await remoteWith({ [USER_CONF_PATH]: DEFAULT_USER_CONF, '.gitignore': '*.log\n' });
    await repo().resetToRemote();
    fs.writeFileSync(path.join(clone, 'conf/stray.props'), 'smv.stages.geo.version = T9\n');
    fs.writeFileSync(path.join(clone, 'crash.log'), 'ignored leftover\n');
    commands();

    const restarted = repo();
    await restarted.resetToRemote();

    expect(commands()).toEqual(['fetch', 'checkout', 'clean']);
    expect(fs.existsSync(path.join(clone, 'conf/stray.props'))).toBe(false);
    expect(fs.existsSync(path.join(clone, 'crash.log'))).toBe(false);
    expect(await restarted.readFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF);
  });

  it('cleans after a checkout that failed half-way', async () => {
    let checkouts = 0;
    const failSecondCheckout = (git: GitRunner): GitRunner => ({
      run(args, opts) {
        if (withoutConfigArgs(args)[0] === 'checkout' && ++checkouts === 2) return failGitCommand(git, 'checkout').run(args, opts);
        return git.run(args, opts);
      },
    });
    const { repo, commands } = await remoteWith();
    const r = repo(failSecondCheckout);
    await r.resetToRemote();

    await expect(r.resetToRemote()).rejects.toThrow(/simulated failure/);
    commands();
    await r.resetToRemote();

    expect(commands()).toEqual(['fetch', 'checkout', 'clean']);
  });
});

describe('ConsumerRepo.isIgnored', () => {
  const files = {
    '.gitignore': 'conf/\n*.props\n',
    [USER_CONF_PATH]: DEFAULT_USER_CONF,
    'README.md': '# client-model\n',
  };

  it('counts a tracked file that .gitignore matches as not ignored, without running git', async () => {
    const { repo, commands } = await remoteWith(files);
    const r = repo();
    await r.resetToRemote();
    commands();

    expect(await r.isIgnored(USER_CONF_PATH)).toBe(false);
    expect(commands()).toEqual([]);
  });

  it('asks git about a path that does not exist: ignored when .gitignore matches it', async () => {
    const { repo, commands } = await remoteWith(files);
    const r = repo();
    await r.resetToRemote();
    commands();

    expect(await r.isIgnored(APP_CONF_PATH)).toBe(true);
    expect(await r.isIgnored('notes/todo.txt')).toBe(false);
    expect(commands()).toEqual(['check-ignore', 'check-ignore']);
  });

  it('agrees with `git check-ignore` alone when the tree may hold leftovers (tracked files are never ignored)', async () => {
    const { repo, clone, commands } = await remoteWith(files);
    await repo().resetToRemote();
    fs.writeFileSync(path.join(clone, 'conf', 'stray.props'), 'x\n');
    commands();

    const restarted = repo();
    expect(await restarted.isIgnored(USER_CONF_PATH)).toBe(false);
    expect(await restarted.isIgnored('conf/stray.props')).toBe(true);
    expect(await restarted.isIgnored('README.md')).toBe(false);
    expect(commands()).toEqual(['check-ignore', 'check-ignore', 'check-ignore']);
  });
});

describe('ConsumerRepo.commitFile', () => {
  it('commits a tracked file with one `commit --only` and returns the sha the branch points at', async () => {
    const { w, repo, commands, headInClone } = await remoteWith();
    const r = repo();
    await r.resetToRemote();
    commands();

    const before = w.remoteHead();
    const { commit: sha, parent } = await r.commitFile(USER_CONF_PATH, DEFAULT_USER_CONF + 'smv.stages.trial.version = T1\n', COMMIT);
    expect(parent).toBe(before);

    expect(commands()).toEqual(['commit']);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(sha).toBe(headInClone());
    expect(await r.push('main')).toEqual({ pushed: true });
    expect(w.remoteHead()).toBe(sha);
    expect(w.remoteGit(['diff', '--name-only', `${sha}^`, sha]).trim()).toBe(USER_CONF_PATH);
  });

  it('adds a new file before committing it, and commits nothing else', async () => {
    const { w, repo, commands, headInClone } = await remoteWith();
    const r = repo();
    await r.resetToRemote();
    commands();

    const { commit: sha } = await r.commitFile('conf/new/team.props', 'smv.stages.geo.version = T1\n', COMMIT);

    expect(commands()).toEqual(['add', 'commit']);
    expect(sha).toBe(headInClone());
    await r.push('main');
    expect(w.remoteFile('conf/new/team.props')).toBe('smv.stages.geo.version = T1\n');
    expect(w.remoteGit(['diff', '--name-only', `${sha}^`, sha]).trim()).toBe('conf/new/team.props');
  });

  it('returns the new sha when git packs the refs during the commit (automatic gc)', async () => {
    let clone = '';
    let w!: GitWorld;
    const packRefsAfterCommit = (git: GitRunner): GitRunner => ({
      async run(args, opts) {
        const out = await git.run(args, opts);
        if (withoutConfigArgs(args)[0] === 'commit') w.git(['-C', clone, 'pack-refs', '--all', '--prune']);
        return out;
      },
    });
    const env = await remoteWith();
    ({ w, clone } = env);
    const r = env.repo(packRefsAfterCommit);
    await r.resetToRemote();
    env.commands();

    const { commit: sha } = await r.commitFile(USER_CONF_PATH, 'smv.stages.geo.version = T2\n', COMMIT);

    expect(fs.existsSync(path.join(clone, '.git/refs/heads/main'))).toBe(false);
    expect(sha).toBe(env.headInClone());
    expect(env.commands()).toEqual(['commit']);
  });

  it('asks git for the sha when HEAD is not the branch it expects', async () => {
    let clone = '';
    let w!: GitWorld;
    const detachAfterCommit = (git: GitRunner): GitRunner => ({
      async run(args, opts) {
        const out = await git.run(args, opts);
        if (withoutConfigArgs(args)[0] === 'commit') w.git(['-C', clone, 'checkout', '-q', '--detach']);
        return out;
      },
    });
    const env = await remoteWith();
    ({ w, clone } = env);
    const r = env.repo(detachAfterCommit);
    await r.resetToRemote();
    env.commands();

    const { commit: sha } = await r.commitFile(USER_CONF_PATH, 'smv.stages.geo.version = T3\n', COMMIT);

    expect(env.commands()).toEqual(['commit', 'rev-parse']);
    expect(sha).toBe(env.headInClone());
  });

  it('keeps the bytes of a Latin-1 file it did not change', async () => {
    const latin1 = Buffer.from('# r\xE9glages \xB7 \xC9quipe B\nsmv.stages.geo.version = T1\n', 'latin1');
    const env = await remoteWith();
    env.w.commitToRemote({ [USER_CONF_PATH]: latin1 }, 'Latin-1 conf\n');
    const r = env.repo();
    await r.resetToRemote();

    const text = (await r.readFile(USER_CONF_PATH))!;
    await r.commitFile(USER_CONF_PATH, text.replace('T1', 'T2'), COMMIT);
    await r.push('main');

    expect(env.w.remoteFileBytes(USER_CONF_PATH)!.equals(Buffer.from(latin1.toString('latin1').replace('T1', 'T2'), 'latin1'))).toBe(true);
  });
});

describe('ConsumerRepo.push', () => {
  it('reports a remote that moved since the fetch as an outcome, and lands after the next reset', async () => {
    const { w, repo, commands } = await remoteWith();
    const r = repo();
    await r.resetToRemote();
    await r.commitFile(USER_CONF_PATH, DEFAULT_USER_CONF + 'smv.stages.trial.version = T1\n', COMMIT);
    const foreign = w.commitToRemote({ 'README.md': 'moved\n' }, 'Teammate\n');

    expect(await r.push('main')).toEqual({ pushed: false, reason: 'remote-moved' });
    expect(w.remoteHead()).toBe(foreign);

    commands();
    await r.resetToRemote();
    const before = w.remoteHead();
    const { commit: sha, parent } = await r.commitFile(USER_CONF_PATH, DEFAULT_USER_CONF + 'smv.stages.trial.version = T1\n', COMMIT);
    expect(parent).toBe(before);
    expect(await r.push('main')).toEqual({ pushed: true });
    expect(commands()).toEqual(['fetch', 'checkout', 'commit', 'push']);
    expect(w.remoteLog().map((c) => c.sha).slice(0, 2)).toEqual([sha, foreign]);
  });

  it('fetches and pushes the configured URL, whatever the clone itself remembers as origin', async () => {
    const { w, repo, clone } = await remoteWith();
    await repo().resetToRemote();
    w.git(['-C', clone, 'remote', 'add', 'origin', path.join(w.root, 'elsewhere.git')]);

    const r = repo();
    await r.resetToRemote();
    const { commit: sha } = await r.commitFile(USER_CONF_PATH, 'smv.stages.geo.version = T4\n', COMMIT);

    expect(await r.push('main')).toEqual({ pushed: true });
    expect(w.remoteHead()).toBe(sha);
  });
});
