import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrlCredentials } from '../src/domain/redact.ts';
import { createGitRunner, GitError } from '../src/infra/gitRunner.ts';

describe('git runner', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('masks credentials in URLs everywhere an error can travel (message, gist, args, stderr)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-git-'));
    dirs.push(dir);
    const git = createGitRunner({ PATH: process.env.PATH, HOME: dir });
    await git.run(['init', '-q'], { cwd: dir });
    const url = 'https://smvbot:s3cr3t-token@127.0.0.1:9/team-b/client-model.git';
    const error = await git.run(['ls-remote', url], { cwd: dir, timeoutMs: 20_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    const e = error as GitError;
    const everything = JSON.stringify({ message: e.message, gist: e.gist, args: e.args, stderr: e.stderr });
    expect(everything).not.toContain('s3cr3t-token');
    expect(e.args).toContain('https://***@127.0.0.1:9/team-b/client-model.git');
  });

  it('passes only what git needs: a stray GIT_DIR in the environment cannot redirect it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-git-'));
    dirs.push(dir);
    const git = createGitRunner({ PATH: process.env.PATH, HOME: dir, GIT_DIR: '/nonexistent/elsewhere.git' });
    await git.run(['init', '-q'], { cwd: dir });
    const { stdout } = await git.run(['rev-parse', '--git-dir'], { cwd: dir });
    expect(stdout.trim()).toBe('.git');
  });

  it.each([
    ['https://user:pw@host/x.git', 'https://***@host/x.git'],
    ['ssh://git@host:22/x.git', 'ssh://***@host:22/x.git'],
    ['git@host:team/x.git', 'git@host:team/x.git'],
    ['/srv/git/x.git', '/srv/git/x.git'],
  ])('redacts %s as %s', (input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
  });
});
