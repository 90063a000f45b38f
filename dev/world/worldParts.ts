// What every world is built from — the test harnesses (botHarness, gitWorld), `npm run demo` and
// `npm run bench`: a consumer's bare git remote seeded with its files, a teammate's commit on it,
// and the environment and config a bot gets for a world. Publish trees come from publishFixtures.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../../src/infra/config/index.ts';

/** Runs git the way a world does (its environment, its error messages): stdin `input`, stdout back. */
export type RunGit = (args: readonly string[], input?: Buffer) => string;

export interface Person {
  name: string;
  email: string;
}

/** A branch exists in a bare repo (loose or packed ref), known without spawning git. */
function hasBranch(repo: string, branch: string): boolean {
  if (fs.existsSync(path.join(repo, 'refs', 'heads', ...branch.split('/')))) return true;
  const packed = path.join(repo, 'packed-refs');
  return fs.existsSync(packed) && fs.readFileSync(packed, 'utf8').split('\n').some((l) => l.endsWith(` refs/heads/${branch}`));
}

/**
 * Commits `files` (repo path → content; null deletes one) on top of `branch` of a bare repo: what a
 * teammate's clone-commit-push would leave, in one `git fast-import` instead of five processes (the
 * suites create many worlds). Returns the commit's sha.
 */
export function commitFiles(
  git: RunGit,
  repo: string,
  files: Readonly<Record<string, string | Buffer | null>>,
  opts: { branch: string; message: string; author: Person },
): string {
  const who = `${opts.author.name} <${opts.author.email}> ${Math.floor(Date.now() / 1000)} +0000`;
  const data = (content: string | Buffer): Buffer[] => {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return [Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n')];
  };
  const stream: Buffer[] = [Buffer.from(`commit refs/heads/${opts.branch}\nmark :1\nauthor ${who}\ncommitter ${who}\n`), ...data(opts.message)];
  if (hasBranch(repo, opts.branch)) stream.push(Buffer.from(`from refs/heads/${opts.branch}^0\n`));
  for (const [relPath, content] of Object.entries(files)) {
    if (content === null) stream.push(Buffer.from(`D ${relPath}\n`));
    else stream.push(Buffer.from(`M 100644 inline ${relPath}\n`), ...data(content));
  }
  // get-mark prints the new commit's sha on stdout.
  stream.push(Buffer.from('get-mark :1\n'));
  return git(['--git-dir', repo, 'fast-import', '--quiet'], Buffer.concat(stream)).trim();
}

/** A new bare repo at `repo` whose `branch` holds exactly `files`, in one commit; returns its sha. */
export function createBareRepo(
  git: RunGit,
  repo: string,
  files: Readonly<Record<string, string | Buffer>>,
  opts: { branch: string; message: string; author: Person },
): string {
  git(['init', '-q', '--bare', '-b', opts.branch, repo]);
  return commitFiles(git, repo, files, opts);
}

/** Where a world keeps what a bot reads, and the Slack secrets it was made with. */
export interface BotEnvWorld {
  /** HOME of the bot (git reads its global config there). */
  home: string;
  configPath: string;
  dataDir: string;
  botToken: string;
  signingSecret: string;
}

/** The environment `npm start` would see for a world (a spawned bot gets exactly this); `extra` wins. */
export function botEnv(world: BotEnvWorld, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: world.home,
    SLACK_BOT_TOKEN: world.botToken,
    SLACK_SIGNING_SECRET: world.signingSecret,
    SMVBOT_CONFIG: world.configPath,
    SMVBOT_DATA_DIR: world.dataDir,
    SMVBOT_GIT_NAME: 'smvbot',
    SMVBOT_GIT_EMAIL: 'smvbot@example.test',
    PORT: '0',
    LOG_LEVEL: 'error',
    ...extra,
  };
}

/** The config a bot started in-process gets from that environment; a world's own config must be valid. */
export function botConfig(cwd: string, env: Record<string, string>): AppConfig {
  const loaded = loadConfig({ cwd, env });
  if (!loaded.ok) throw new Error(`the world's config is invalid:\n${loaded.problems.join('\n')}`);
  return loaded.config;
}
