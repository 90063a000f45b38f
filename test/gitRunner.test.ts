import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrlCredentials } from '../src/domain/redact.ts';
import { classifyGitFailure } from '../src/domain/gitFailure.ts';
import { createGitRunner, GitError, splitUrlCredentials, sshCommandFor } from '../src/infra/git/gitRunner.ts';

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
    const everything = JSON.stringify({ message: e.message, gist: e.failure.gist, args: e.args, stderr: e.stderr });
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
    ['https://ghp_token0123456789@host/x.git', 'https://***@host/x.git'],
    // A plain ssh user is no secret (the same answer names git@host elsewhere); a password is.
    ['ssh://git@host:22/x.git', 'ssh://git@host:22/x.git'],
    ['git+ssh://deploy.bot@host/x.git', 'git+ssh://deploy.bot@host/x.git'],
    ['ssh://git:hunter2@host/x.git', 'ssh://***@host/x.git'],
    ['ssh://git%3Ahunter2@host/x.git', 'ssh://***@host/x.git'],
    ['git@host:team/x.git', 'git@host:team/x.git'],
    ['/srv/git/x.git', '/srv/git/x.git'],
  ])('redacts %s as %s', (input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
  });

  it.each([
    [{}, 'ssh -o BatchMode=yes'],
    [{ GIT_SSH_COMMAND: 'ssh -i /keys/bot -o UserKnownHostsFile=/keys/known_hosts' }, 'ssh -o BatchMode=yes -i /keys/bot -o UserKnownHostsFile=/keys/known_hosts'],
    [{ GIT_SSH_COMMAND: '/usr/bin/ssh -i /keys/bot' }, '/usr/bin/ssh -o BatchMode=yes -i /keys/bot'],
    [{ GIT_SSH_COMMAND: 'env LD_LIBRARY_PATH=/x ssh -4' }, 'env LD_LIBRARY_PATH=/x ssh -4 -o BatchMode=yes'],
    [{ GIT_SSH: "/opt/my ssh's wrapper" }, "'/opt/my ssh'\\''s wrapper' -o BatchMode=yes"],
  ])('keeps ssh in batch mode whatever the operator set (%j)', (env, expected) => {
    expect(sshCommandFor(env)).toBe(expected);
  });

  it.each([
    ['https://bot:s3cr3t@git.example.com/team/x.git', 'https://git.example.com/team/x.git', { username: 'bot', password: 's3cr3t' }],
    ['http://bot%40corp:p%2Fss@127.0.0.1:8080/x.git', 'http://127.0.0.1:8080/x.git', { username: 'bot@corp', password: 'p/ss' }],
    ['https://bot@git.example.com/x.git', 'https://bot@git.example.com/x.git', undefined],
    ['ssh://git@git.example.com/x.git', 'ssh://git@git.example.com/x.git', undefined],
    ['git@git.example.com:team/x.git', 'git@git.example.com:team/x.git', undefined],
  ])('takes the login out of %s for the credential protocol', (input, url, credentials) => {
    expect(splitUrlCredentials(input)).toEqual(credentials ? { url, credentials } : { url });
  });

  it.each([
    ["! [remote rejected] HEAD -> main (cannot lock ref 'refs/heads/main': is at 1111 but expected 2222)", 'remote-moved'],
    ['! [remote rejected] HEAD -> main (failed to update ref)', 'remote-moved'],
    ['! [rejected]        HEAD -> main (fetch first)', 'remote-moved'],
    ['! [rejected]        HEAD -> main (non-fast-forward)', 'remote-moved'],
    ['remote: GH006: Protected branch update failed for refs/heads/main.', 'protected'],
    ['! [remote rejected] HEAD -> main (pre-receive hook declined)', 'rejected'],
    ['git@host: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'auth'],
    ["fatal: Authentication failed for 'https://host/x.git/'", 'auth'],
    ['Host key verification failed.\nfatal: Could not read from remote repository.', 'host-key'],
    ['ssh: connect to host 127.0.0.1 port 1: Connection refused', 'unreachable'],
    ["fatal: repository 'https://host/x.git/' not found", 'not-found'],
  ])('classifies %j as %s', (stderr, kind) => {
    expect(classifyGitFailure(stderr, false).kind).toBe(kind);
  });

  it("keeps ssh's own reason before git's generic line in the gist", () => {
    const gist = classifyGitFailure(
      'Host key verification failed.\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n',
      false,
    ).gist;
    expect(gist).toBe('Host key verification failed. / fatal: Could not read from remote repository.');
  });
});
