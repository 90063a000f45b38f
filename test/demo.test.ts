import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SUBCOMMANDS } from '../src/slack/commands/index.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// What `npm run demo` runs: the tsx CLI on scripts/demo.ts (without npm's own start-up noise).
const TSX_CLI = path.join(PROJECT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX_CLI, 'scripts/demo.ts'], { cwd: PROJECT, timeout: 55_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('npm run demo', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runDemo();
  }, 60_000);

  it('runs the whole loop and exits 0', () => {
    expect(run.stderr, run.stderr).not.toContain('FAILED');
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  });

  it('shows the announcement of TCD.20160802.geo with its modules and Adopt button, and each other release once', () => {
    // Step 2 alone: the releases completing together come as one combined message, or (if a scan saw
    // them apart) one message each: either way each is named once, with its modules and its button.
    const step2 = /━━ 2\.[\s\S]*?(?=━━ 3\.)/.exec(run.stdout)?.[0] ?? '';
    expect(step2).toMatch(/New release: geo TCD\.20160802\.geo\n|geo TCD\.20160802\.geo from public-data — 4 modules, /);
    expect(step2).toContain('com.acme.geo.ZipMaster');
    for (const stage of ['geo', 'cms', 'trial']) expect(step2.split(`[ Adopt ${stage} ]`)).toHaveLength(2);
  });

  it('dates the 2016 releases as their files are dated, not today', () => {
    expect(run.stdout).toMatch(/TCD\.20160802\.geo from public-data — 4 modules, [^\n]*completed 2016-08-02 10:00 UTC/);
    expect(run.stdout).toMatch(/TCD\.20160701\.geo — 3 modules, completed 2016-07-01 10:00 UTC/);
    const today = new Date().toISOString().slice(0, 10);
    expect(run.stdout).not.toContain(`completed ${today}`);
  });

  it('shows the announcement updated in place with the "Adopted by" line the README promises', () => {
    expect(run.stdout).toContain('is updated in place (chat.update, same message)');
    expect(run.stdout).toMatch(/│ Adopted by client-model \(@Bea Lopez\)/);
  });

  it('shows the answer to /smv releases, marking the latest and the current pin', () => {
    expect(run.stdout).toContain('/smv releases');
    expect(run.stdout).toMatch(/TCD\.20160802\.geo — 4 modules, completed [^\n]* latest/);
    expect(run.stdout).toMatch(/TCD\.20160701\.geo — 3 modules, [^\n]*pinned by client-model/);
  });

  it('shows the in-channel adopt answer naming the commit', () => {
    const sha = /^\s+commit ([0-9a-f]{40})$/m.exec(run.stdout)?.[1];
    expect(sha).toBeDefined();
    expect(run.stdout).toContain(`@Bea Lopez adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit ${sha!.slice(0, 7)}`);
  });

  it('shows the sync check refusing a release TeamB has not synced', () => {
    expect(run.stdout).toMatch(/Version TCD\.20160802\.trial is not in the consumer's publish dir[^\n]*rsync -a/);
  });

  it('shows /smv pins with geo on the adopted version', () => {
    expect(run.stdout).toMatch(/• geo → TCD\.20160802\.geo \(smv\.stages\.geo\.version in the user conf\) — up to date/);
    expect(run.stdout).toMatch(/• cms → TCD\.20160701\.cms [^\n]*1 version behind latest TCD\.20160802\.cms/);
  });

  it('shows the commit authored by the Slack user and the one-line conf change', () => {
    expect(run.stdout).toContain('Author:     Bea Lopez <U0BEALOPEZ@users.slack.invalid>');
    expect(run.stdout).toContain('Commit:     smvbot <smvbot@demo.invalid>');
    expect(run.stdout).toContain('Adopt geo TCD.20160802.geo for client-model');
    expect(run.stdout).toContain('conf/smv-user-conf.props | 2 +-');
    const diffLines = run.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[+-]smv\.stages\./.test(l));
    expect(diffLines).toEqual(['-smv.stages.geo.version = TCD.20160701.geo', '+smv.stages.geo.version = TCD.20160802.geo']);
  });

  it('shows a connection-style consumer (SMV 2.4) next to the stage-pin one: adopt, pins and the one-line connections.props change', () => {
    expect(run.stdout).toMatch(/@Bea Lopez adopted geo TCD\.20160802\.geo for modern-model \(was TCD\.20160701\.geo\) — commit [0-9a-f]{7}/);
    expect(run.stdout).toMatch(/• geo → TCD\.20160802\.geo \(smv\.conn\.pdd_geo\.path in conf\/connections\.props\) — up to date/);
    expect(run.stdout).toContain('• trial → not pinned (smv.conn.pdd_trial.path is not set)');
    const connLines = run.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[+-]smv\.conn\./.test(l));
    expect(connLines).toEqual([
      '-smv.conn.pdd_geo.path = hdfs:///data/team-c/publish/TCD.20160701.geo',
      '+smv.conn.pdd_geo.path = hdfs:///data/team-c/publish/TCD.20160802.geo',
    ]);
  });

  it('removes its temp dir', () => {
    const root = /^Sample world: (.+)$/m.exec(run.stdout)?.[1];
    expect(root).toBeDefined();
    expect(fs.existsSync(root!)).toBe(false);
    expect(run.stdout).toContain(`${root} removed.`);
  });
});

describe('manifest.yml', () => {
  const manifest = parse(fs.readFileSync(path.join(PROJECT, 'manifest.yml'), 'utf8')) as {
    display_information: { name: string; long_description?: string };
    features: {
      bot_user: { display_name: string; always_online: boolean };
      app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean };
      slash_commands: { command: string; url: string; description: string; usage_hint: string }[];
    };
    oauth_config: { scopes: { bot: string[]; user?: string[] } };
    settings: {
      event_subscriptions: { request_url: string; bot_events: string[] };
      interactivity: { is_enabled: boolean; request_url: string };
      org_deploy_enabled: boolean;
      socket_mode_enabled: boolean;
      token_rotation_enabled: boolean;
    };
  };

  it('declares /smv, interactivity and events on /slack/events', () => {
    const [smv, ...others] = manifest.features.slash_commands;
    expect(others).toEqual([]);
    expect(smv?.command).toBe('/smv');
    expect(smv?.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(smv?.description).toBeTruthy();
    expect(smv?.usage_hint).toContain('adopt');
    // Every subcommand the bot takes, each at the start of one `|`-separated part; within the
    // manifest schema's 1,000 characters.
    const hinted = smv!.usage_hint.split('|').map((part) => part.trim().split(/\s+/)[0]);
    for (const sub of SUBCOMMANDS) expect(hinted, sub).toContain(sub);
    expect(smv!.usage_hint.length).toBeLessThanOrEqual(1000);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: expect.stringMatching(/^https:\/\/[^/]+\/slack\/events$/) });
    expect(manifest.settings.event_subscriptions.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
  });

  it('asks for exactly the bot scopes the code needs, and no user scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'commands', 'users:read']);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it('has an always-online bot user, the App Home tab, and HTTP delivery', () => {
    expect(manifest.display_information.name).toBe('smvbot');
    // Slack rejects a long_description under 174 characters.
    expect(manifest.display_information.long_description?.length ?? 174).toBeGreaterThanOrEqual(174);
    expect(manifest.features.bot_user).toMatchObject({ display_name: 'smvbot', always_online: true });
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: false });
    expect(manifest.settings).toMatchObject({ org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false });
  });
});
