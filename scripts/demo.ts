// `npm run demo`: the whole release → announce → adopt loop on this machine, no Slack account.
// A sample world in a temp dir, the real bot started like `npm start`, and the built-in Slack
// stand-in in Slack's place. Prints what people would see in Slack, then the commit it made.
// Exit 0 when every step worked; 1 (with what failed) otherwise. The temp dir is always removed.
import { randomBytes } from 'node:crypto';
import { SlackStandIn, sendToBot, type ApiCall, type BotAnswer } from '../dev/slack/slackStandIn.ts';
import { BotProcess, freePort } from './demoBotProcess.ts';
import { CleanupGuard } from './demoCleanupGuard.ts';
import { botEnv } from '../dev/world/worldParts.ts';
import { messageBox, renderMessage, type Directory } from './demoTranscript.ts';
import {
  ADMIN,
  ADOPTER,
  ANNOUNCE_CHANNEL,
  BRANCH,
  CHANNEL_NAMES,
  CONNECTIONS_PATH,
  CONSUMER,
  MODERN,
  DemoWorld,
  GitCommandError,
  STAGES,
  TEAM_B_CHANNEL,
  TEAM_C_CHANNEL,
  TEAM_C_SMV_PUBLISH_DIR,
  USER_CONF_PATH,
  versionName,
} from './demoWorld.ts';

const RELEASE = 'TCD.20160802';
const BOT_TOKEN = 'xoxb-demo-0000-loopback-stand-in';
const ANNOUNCE_TIMEOUT_MS = 20_000;
const ANSWER_TIMEOUT_MS = 20_000;

const print = (text = '') => process.stdout.write(`${text}\n`);
const step = (n: number, title: string) => print(`\n━━ ${n}. ${title}`);
const note = (text: string) => print(`   ${text}`);

/** A failed expectation: its message says what went wrong in the demo's own words. */
class DemoFailure extends Error {}

function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new DemoFailure(what);
}

let world: DemoWorld | undefined;
let slack: SlackStandIn | undefined;
let bot: BotProcess | undefined;
let guard: CleanupGuard | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops the bot (SIGTERM), closes the stand-in, removes the temp dir. Safe to call twice. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    try {
      if (bot?.running) await bot.stop();
      await guard?.botExited();
    } finally {
      await slack?.close();
      world?.remove();
      await guard?.done();
    }
  })();
  return cleaning;
}

// Ctrl-C: stop everything we started and leave nothing behind. A terminal's Ctrl-C reaches us
// more than once (directly, and relayed by npm/tsx), so repeats must not cut the cleanup short.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (cleaning) return;
    interrupted = true;
    process.stderr.write(`\nsmvbot demo: ${signal} received, cleaning up…\n`);
    cleanup().finally(() => process.exit(130));
  });
}
// If we die some other way, at least don't leave a bot running or files behind.
process.on('exit', () => {
  bot?.killNow();
  try {
    world?.remove();
  } catch {
    // The cleanup guard retries once we are gone.
  }
});

async function main(): Promise<void> {
  const startedAt = Date.now();
  world = new DemoWorld();
  guard = CleanupGuard.start(world.root);
  world.build();
  const w = world;
  print('smvbot demo: TeamA publishes SMV stages, smvbot announces them, TeamB adopts one by a git commit.');
  print('Slack is played by a local stand-in; the bot is the real server, started like `npm start`.');
  print(`Sample world: ${w.root}`);
  note(`TeamA publish dir  ${w.relative(w.teamAPublishDir)}/   stages from ${w.relative(w.teamAAppConf)}: ${STAGES.join(', ')}`);
  note(`                   already there: ${STAGES.map((s) => versionName('TCD.20160701', s)).join(', ')}`);
  note(`TeamB repo         ${w.relative(w.remote)} (branch ${BRANCH}), pins in ${USER_CONF_PATH}`);
  note(`TeamB synced copy  ${w.relative(w.teamBPublishDir)}/   (TeamB rsyncs TeamA's releases here)`);
  note(`TeamC repo         ${w.relative(w.remoteC)} (SMV 2.4: input modules read TeamA's data through connections), pins in ${CONNECTIONS_PATH}`);

  slack = new SlackStandIn({
    botToken: BOT_TOKEN,
    users: { [ADOPTER.id]: ADOPTER.name, [ADMIN.id]: ADMIN.name },
    channels: CHANNEL_NAMES,
  });
  await slack.start();
  const standIn = slack;
  const dir: Directory = { userName: (id) => standIn.realNameOf(id), channelName: (id) => standIn.channelName(id) };
  const signingSecret = randomBytes(16).toString('hex');

  const port = await freePort();
  bot = BotProcess.spawn({
    cwd: w.root,
    port,
    env: botEnv(
      { home: w.home, configPath: w.configPath, dataDir: w.dataDir, botToken: BOT_TOKEN, signingSecret },
      { SLACK_API_URL: standIn.url, SMVBOT_GIT_EMAIL: 'smvbot@demo.invalid', LOG_LEVEL: 'warn' },
    ),
  });
  const running = bot;
  await guard.watchBot(running.pid);
  await running.ready();
  const health = await running.health();
  note(`Slack stand-in     ${standIn.baseUrl}   bot ${running.eventsUrl.replace('/slack/events', '')} (GET /healthz → ${health.status})`);
  expect(standIn.calls('chat.postMessage').length === 0, 'the bot announced old versions on its very first start; it should record them silently.');
  note('First start: the July versions were recorded silently (no flood of old releases).');

  // ---- 1. TeamA publishes
  step(1, `TeamA publishes ${RELEASE}  (smv-run --publish ${versionName(RELEASE, 'geo')} -s com.acme.geo, and cms, trial)`);
  for (const stage of STAGES) w.startPublish(RELEASE, stage);
  note(`Spark is writing: ${STAGES.map((s) => `${versionName(RELEASE, s)}/…/_temporary`).join(', ')}`);
  await sleep(1200);
  expect(
    !standIn.calls('chat.postMessage').some((c) => payloadVersions(c).some((v) => v.startsWith(RELEASE))),
    'the bot announced a version while Spark was still writing it (a _temporary dir was present).',
  );
  note('…while the write is in progress smvbot announces nothing.');
  for (const stage of STAGES) w.finishPublish(RELEASE, stage);
  note('Spark commits: part files moved into place, _SUCCESS written last in every output dir.');

  // ---- 2. Announcements
  step(2, `smvbot announces each complete version in #${dir.channelName(ANNOUNCE_CHANNEL)}`);
  const versions = STAGES.map((s) => versionName(RELEASE, s));
  const announcements = await Promise.all(
    versions.map((v) =>
      standIn.waitForCall('chat.postMessage', (c) => c.ok && payloadVersions(c).includes(v), ANNOUNCE_TIMEOUT_MS).catch((error: unknown) => {
        throw new DemoFailure(`no announcement of ${v} arrived within ${ANNOUNCE_TIMEOUT_MS / 1000} s: ${(error as Error).message}`);
      }),
    ),
  );
  // In the order Slack received them; versions completing in one scan share one message.
  for (const call of [...new Set(announcements)].sort((a, b) => a.seq - b.seq)) {
    expect(call.args.channel === ANNOUNCE_CHANNEL, `an announcement went to ${String(call.args.channel)} instead of ${ANNOUNCE_CHANNEL}.`);
    print(messageBox(`#${dir.channelName(ANNOUNCE_CHANNEL)} · smvbot (app)`, renderMessage(call.args, dir)));
  }

  // ---- 3. TeamB syncs
  step(3, `TeamB syncs the geo and cms releases into its publish dir (trial not yet)`);
  for (const stage of ['com.acme.geo', 'com.acme.cms']) {
    const v = versionName(RELEASE, stage);
    w.sync(v);
    note(`rsync -a ${w.relative(w.teamAPublishDir)}/${v}/ ${w.relative(w.teamBPublishDir)}/${v}/`);
  }

  const command = async (text: string, userId = ADOPTER.id, channelId = TEAM_B_CHANNEL) => {
    print(`\n   @${dir.userName(userId)} in #${dir.channelName(channelId)}:  /smv ${text}`);
    const answer = await ask(standIn, running, signingSecret, text, userId, channelId);
    const where = answer.inChannel ? `#${dir.channelName(channelId)} · smvbot (app) — posted in the channel` : 'smvbot (app) — only visible to you';
    print(messageBox(where, renderMessage(answer.body, dir)));
    return answer;
  };

  // ---- 4–7. Commands
  step(4, 'Which versions exist, and what does TeamB pin now?');
  const releases = await command('releases');
  expect(releases.text.includes(versionName(RELEASE, 'geo')), '/smv releases did not list TCD.20160802.geo.');

  step(5, `Bea adopts the new geo release for ${CONSUMER}`);
  const before = w.remoteLog()[0]!;
  const adopt = await command(`adopt geo ${versionName(RELEASE, 'geo')}`);
  const after = w.remoteLog()[0]!;
  expect(after !== before, `/smv adopt made no commit on ${BRANCH}; the bot answered: ${adopt.text}`);
  expect(adopt.inChannel && adopt.text.includes(after.slice(0, 7)), `the adopt answer does not name the new commit ${after.slice(0, 7)}: ${adopt.text}`);
  // The announcement gains its "Adopted by" line in place (chat.update of the same message).
  const updated = await standIn
    .waitForCall('chat.update', (c) => c.ok && c.args.channel === ANNOUNCE_CHANNEL && JSON.stringify(c.args.blocks ?? []).includes('Adopted by'), ANNOUNCE_TIMEOUT_MS)
    .catch((error: unknown) => {
      throw new DemoFailure(`the announcement was not updated with "Adopted by" within ${ANNOUNCE_TIMEOUT_MS / 1000} s: ${(error as Error).message}`);
    });
  const adoptedBy = renderMessage(updated.args, dir).filter((l) => l.includes('Adopted by'));
  print(`\n   The announcement in #${dir.channelName(ANNOUNCE_CHANNEL)} is updated in place (chat.update, same message):`);
  print(messageBox(`#${dir.channelName(ANNOUNCE_CHANNEL)} · smvbot (app) — edited`, ['…', ...adoptedBy, '…']));

  step(6, 'The sync check: adopting a release TeamB has not synced yet is refused');
  const refused = await command(`adopt trial ${versionName(RELEASE, 'trial')}`);
  expect(w.remoteLog()[0] === after, 'the bot committed a version that is not in TeamB\'s publish dir.');
  expect(!refused.inChannel, 'the refusal was posted in the channel; refusals are only for the person who asked.');

  step(7, 'TeamB\'s pins after the adoption');
  const pins = await command('pins');
  expect(/geo[^\n]*TCD\.20160802\.geo/.test(pins.text), `/smv pins does not show geo → ${versionName(RELEASE, 'geo')}: ${pins.text}`);

  // ---- 8. TeamC (SMV 2.4) adopts through a connection
  step(8, `TeamC runs SMV 2.4: its input modules read geo through the connection pdd_geo, so the pin is a path`);
  const beforeC = w.remoteLog(w.remoteC)[0]!;
  const adoptC = await command(`adopt geo ${versionName(RELEASE, 'geo')}`, ADOPTER.id, TEAM_C_CHANNEL);
  const afterC = w.remoteLog(w.remoteC)[0]!;
  expect(afterC !== beforeC && adoptC.text.includes(afterC.slice(0, 7)), `/smv adopt in #team-c made no commit on ${MODERN}: ${adoptC.text}`);
  const pinsC = await command('pins', ADOPTER.id, TEAM_C_CHANNEL);
  expect(pinsC.text.includes(`smv.conn.pdd_geo.path in ${CONNECTIONS_PATH}`), `/smv pins in #team-c does not show the connection pin: ${pinsC.text}`);
  const diffC = w
    .git(['--git-dir', w.remoteC, 'diff', `${BRANCH}~1`, BRANCH, '--', CONNECTIONS_PATH])
    .split('\n')
    .filter((l) => /^[+-](?![+-]{2} )/.test(l));
  print(indent(diffC.join('\n'), `   $ git --git-dir ${w.relative(w.remoteC)} diff main~1 main -- ${CONNECTIONS_PATH}   (changed lines only)`));
  expect(
    diffC.includes(`+smv.conn.pdd_geo.path = ${TEAM_C_SMV_PUBLISH_DIR}/${versionName(RELEASE, 'geo')}`) && diffC.length === 2,
    `the ${CONNECTIONS_PATH} diff is not the one path line: ${diffC.join(' | ')}`,
  );

  // ---- 8. The commit
  step(9, `TeamB's commit on ${w.relative(w.remote)}`);
  print(indent(w.git(['--git-dir', w.remote, 'show', '--stat', '--format=fuller', BRANCH]).trimEnd(), '   $ git show --stat --format=fuller main'));
  const diff = w
    .git(['--git-dir', w.remote, 'diff', `${BRANCH}~1`, BRANCH, '--', USER_CONF_PATH])
    .split('\n')
    .filter((l) => /^[+-](?![+-]{2} )/.test(l));
  print(indent(diff.join('\n'), `   $ git diff main~1 main -- ${USER_CONF_PATH}   (changed lines only)`));
  expect(diff.includes(`+smv.stages.geo.version = ${versionName(RELEASE, 'geo')}`), `the conf diff does not pin geo: ${diff.join(' | ')}`);
  expect(diff.length === 2, `the adoption changed more than the one pin line:\n${diff.join('\n')}`);

  step(10, "TeamA's cleanup: which versions no consumer pins (safe to delete), and who pins the others");
  const retention = await command('retention public-data');
  expect(retention.text.includes('safe to delete'), `/smv retention did not answer: ${retention.text}`);

  step(11, 'What an operator scrapes: GET /metrics (an excerpt)');
  const metrics = await (await fetch(running.eventsUrl.replace('/slack/events', '/metrics'))).text();
  const excerpt = metrics
    .split('\n')
    .filter((l) => /^smvbot_(scans_total|versions_known|announcement_lag_seconds_count|slack_api_calls_total\{method="chat|git_operation_seconds_count\{kind="push|command_seconds_count|leader|commands_pending)/.test(l));
  print(indent(excerpt.join('\n'), '   $ curl -s localhost:<port>/metrics | grep …'));
  expect(excerpt.some((l) => l.startsWith('smvbot_scans_total')), `GET /metrics has no scan counter:\n${metrics.slice(0, 500)}`);

  // ---- Done
  const stopped = await running.stop();
  expect(stopped.code === 0 && !stopped.killed, `the bot did not shut down cleanly on SIGTERM (exit code ${stopped.code}${stopped.killed ? ', had to be killed' : ''}).`);
  // The bot's own shutdown notice is expected; anything else it logged at warn level is shown.
  const warnings = running
    .log()
    .split('\n')
    .filter((l) => l.trim() && !/^smvbot: SIG\w+ received, stopping$/.test(l.trim()));
  if (warnings.length) print(indent(warnings.join('\n'), '\n   Bot log (warnings and errors):'));
  await cleanup();
  print(`\n━━ Done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: bot stopped with SIGTERM (exit 0), stand-in closed, ${w.root} removed.`);
  print('   Next: install the Slack app from manifest.yml, copy .env.example to .env and smvbot.example.yml to smvbot.yml, then `npm start`.');
}

interface Answer {
  text: string;
  body: { text?: unknown; blocks?: unknown };
  inChannel: boolean;
}

/** Sends `/smv <text>` signed like Slack; the answer is the ack body, or what comes to response_url. */
async function ask(standIn: SlackStandIn, running: BotProcess, secret: string, text: string, userId: string, channelId: string): Promise<Answer> {
  const request = standIn.slashCommand({ text, userId, channelId });
  const ack: BotAnswer = await sendToBot(running.eventsUrl, secret, request);
  if (ack.status !== 200) throw new DemoFailure(`/smv ${text}: the bot answered HTTP ${ack.status} ${ack.text}`);
  let body: unknown = ack.body;
  if (!isMessage(body)) {
    const post = await standIn.waitForResponse(request.responseUrl, ANSWER_TIMEOUT_MS).catch((error: unknown) => {
      throw new DemoFailure(`/smv ${text}: no answer within ${ANSWER_TIMEOUT_MS / 1000} s: ${(error as Error).message}`);
    });
    body = post.body;
  }
  const message = (isMessage(body) ? body : { text: String(body) }) as Answer['body'] & { response_type?: string };
  return { body: message, text: plainText(message), inChannel: message.response_type === 'in_channel' };
}

function isMessage(body: unknown): body is { text?: string; blocks?: unknown[] } {
  return typeof body === 'object' && body !== null && ('text' in body || 'blocks' in body);
}

/** Top-level text plus every block's text, for checks. */
function plainText(message: { text?: unknown; blocks?: unknown }): string {
  const parts = [typeof message.text === 'string' ? message.text : ''];
  for (const block of Array.isArray(message.blocks) ? message.blocks : []) {
    const b = block as { text?: { text?: string }; fields?: { text?: string }[] };
    if (b.text?.text) parts.push(b.text.text);
    for (const f of b.fields ?? []) if (f.text) parts.push(f.text);
  }
  return parts.join('\n');
}

/** The versions an announcement names in its metadata: one, or every one of a combined announcement. */
function payloadVersions(call: ApiCall): string[] {
  const payload = (call.args.metadata as { event_payload?: { version?: unknown; versions?: unknown } } | undefined)?.event_payload;
  if (Array.isArray(payload?.versions)) return (payload.versions as { version?: unknown }[]).flatMap((v) => (typeof v.version === 'string' ? [v.version] : []));
  return typeof payload?.version === 'string' ? [payload.version] : [];
}

/** A Ctrl-C can reach a git subprocess before our handler runs: that is an interruption, not a failure. */
function killedBySignal(error: unknown): boolean {
  const signal = (error as { signal?: unknown } | null)?.signal;
  return signal === 'SIGINT' || signal === 'SIGTERM';
}

function indent(text: string, heading: string): string {
  return [heading, ...text.split('\n').map((l) => `     ${l}`)].join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    // After Ctrl-C, steps fail because their stand-in or files went away: not worth reporting.
    if (interrupted || killedBySignal(error)) return cleanup().finally(() => process.exit(130));
    // Expected failures explain themselves; anything else gets its stack for whoever debugs it.
    const why =
      error instanceof DemoFailure || error instanceof GitCommandError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`\nsmvbot demo FAILED: ${why}\n`);
    const log = bot?.log();
    if (log) process.stderr.write(`\nBot output:\n${log}\n`);
    await cleanup().catch((e: unknown) => process.stderr.write(`cleanup failed: ${String(e)}\n`));
    if (world) process.stderr.write(`Cleaned up: ${bot ? 'bot stopped, ' : ''}${world.root} removed.\n`);
    process.exit(1);
  },
);
