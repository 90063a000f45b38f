// What an operator sees when the consumer repo cannot be reached: the user's answer, a warn
// line in the log with git's gist, and /healthz `problems` naming the repo (issue 12, SPEC §4).
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { BotUnderTest, World } from './support/botHarness.ts';
import { freePort } from './support/remotes.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a consumer repo the bot cannot fetch', () => {
  it('answers with the gist, logs the failed adopt at warn, and lists the repo in /healthz problems, never the token', async () => {
    const token = 'tok-healthz-7f3a9c1e';
    const port = await freePort();
    const w = new World({ consumerRepo: `http://smvbot:${token}@127.0.0.1:${port}/team-b/client-model.git` });
    cleanups.push(() => w.cleanup());
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const bot = await BotUnderTest.start(w, undefined, { logger });
    cleanups.push(() => bot.stop());

    expect((await bot.healthz()).body.problems).toEqual([]);

    const { reply } = await bot.command('adopt geo TCD.20160701.geo');

    expect(reply).toContain(`Failed to connect to 127.0.0.1 port ${port}`);
    expect(reply).toContain('The bot cannot reach the git server');
    const health = await bot.healthz();
    expect(health.status).toBe(200);
    expect(health.body.problems).toEqual([
      {
        kind: 'consumer-repo-unreachable',
        detail: expect.stringMatching(
          new RegExp(`^client-model \\(http://\\*\\*\\*@127\\.0\\.0\\.1:${port}/team-b/client-model\\.git, branch main\\): last fetch failed \\(unreachable\\): .*Failed to connect`),
        ),
      },
    ]);
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40 && l.msg === 'adopt failed');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ action: 'adopt', consumer: 'client-model', stage: 'com.acme.geo', code: 'git-failed', git: 'unreachable' });
    expect(String(warned[0]!.gist)).toContain('Failed to connect');
    for (const text of [reply, JSON.stringify(health.body), ...lines]) expect(text).not.toContain(token);
  });
});
