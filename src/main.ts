// Composition root: config → infra → core → slack → start. The only place that knows every layer.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { RunningBot, StartOptions } from './runningBot.ts';
import { CommandRunner } from './core/commandRunner.ts';
import type { InspectVersion } from './core/diff.ts';
import { Health } from './core/health.ts';
import { NO_METRICS } from './core/metrics.ts';
import { inspectSourceVersion } from './core/publishSource.ts';
import { ScanLoop } from './core/scanLoop.ts';
import { StateUnwritableError } from './core/statePort.ts';
import { Topology } from './core/topology.ts';
import { createUseCases, startReconciling } from './core/useCases.ts';
import { secretSettings, type AppConfig } from './infra/config/index.ts';
import { openConsumerRepos } from './infra/git/consumerRepos.ts';
import { endProcessesIn } from './infra/git/leftoverProcesses.ts';
import { healthRoute } from './infra/http/healthRoute.ts';
import { publishHookRoute } from './infra/http/publishHook.ts';
import { retentionRoute } from './infra/http/retentionRoute.ts';
import { metricsRoute, prometheusMetrics } from './infra/metrics/prometheus.ts';
import { openPublishSources } from './infra/publish/open.ts';
import { createLogger, createScrubber, scrubDeep, tooShortToRedact, type Logger } from './infra/runtime/logger.ts';
import { runAsProcess } from './infra/runtime/processMain.ts';
import { ResourceStack } from './infra/runtime/resourceStack.ts';
import { every, schedule } from './infra/runtime/scheduler.ts';
import { lockDataDir, openStateForStart, StartupError, STARTUP_FAILURE_EXIT_CODE } from './infra/runtime/startup.ts';
import { stateOperatorHints } from './infra/state/open.ts';
import { createSlackApp } from './slack/app.ts';
import { slackAnnouncer } from './slack/announcer.ts';
import { measuredFetch } from './slack/measuredFetch.ts';
import { createSlackNotifier } from './slack/notifier.ts';

export { StartupError, STARTUP_FAILURE_EXIT_CODE } from './infra/runtime/startup.ts';

export type { RunningBot, StartOptions } from './runningBot.ts';

const DEFAULT_SLACK_RETRY = { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 16_000 };

export async function startBot(config: AppConfig, opts: StartOptions = {}): Promise<RunningBot> {
  const secretList = secretSettings(config);
  const secrets = secretList.map((s) => s.value);
  const log = opts.logger ?? createLogger({ level: config.logLevel, secrets });
  const scrub = createScrubber(secrets);
  // Said once at start-up, naming the setting, never its value.
  for (const warning of tooShortToRedact(secretList)) log.warn(warning);
  const resources = new ResourceStack(log);
  try {
    return await compose(config, opts, log, scrub, resources);
  } catch (error) {
    // A failed start closes what it opened, in reverse order; the start-up error is what is reported.
    await resources.close();
    if (error instanceof StateUnwritableError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw error;
  }
}

async function compose(config: AppConfig, opts: StartOptions, log: Logger, scrub: (text: string) => string, resources: ResourceStack): Promise<RunningBot> {
  // 1. Infra: the data dir lock, the state and who leads, the consumer repos, the publish stores, the metrics.
  const replica = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const lock = await lockDataDir(config.dataDir);
  resources.defer('data dir lock', () => lock.release());
  // Versions recorded by another replica (PostgreSQL) make cached answers stale: whoever caches subscribes.
  const versionsChanged = new Set<() => void>();
  const { state, leadership } = await openStateForStart(config, log, {
    onVersionsChanged: () => versionsChanged.forEach((f) => f()),
    ...(opts.leaderPollMs ? { leaderPollMs: opts.leaderPollMs } : {}),
  });
  resources.defer('state', () => state.close());
  const topology = new Topology(config.publishers, config.consumers, config.admins);
  const prometheus = prometheusMetrics({ replica, isLeader: () => leadership.role() === 'leader', pendingCommands: async () => (await state.commandBacklog()).pending });
  const metrics = config.metrics ? prometheus : NO_METRICS;
  const repos = openConsumerRepos(config, scrub, (consumer, fn) => state.withConsumerLock(consumer, fn), metrics);
  resources.defer('consumer workspaces', () => repos.workspaces.drain());
  const sources = openPublishSources(config.store);
  const inspectVersion: InspectVersion = (location, version, o) => inspectSourceVersion(sources(location), version, o);

  // 2. What the bot says on its own (the Web API side of Slack; the app that receives comes last).
  const timeoutMs = opts.apiTimeoutMs ?? 10_000;
  const slackFetch = measuredFetch((method, outcome, errorClass) => metrics.slackCall(method, outcome, errorClass));
  const retry = opts.retryConfig ?? DEFAULT_SLACK_RETRY;
  const notifier = createSlackNotifier({
    botToken: config.slack.botToken ?? '',
    apiUrl: config.slack.apiUrl,
    timeoutMs,
    // Bounded (about 30 s) so a Slack outage delays a post or start-up, not for half an hour;
    // a post that still fails stays pending and the next scan retries it.
    retry,
    channelIntervalMs: opts.channelIntervalMs ?? 1000,
    topology,
    scrub: (value) => scrubDeep(value, scrub),
    logger: { warn: (msg) => log.warn(msg) },
    fetch: slackFetch,
  });

  // 3. Use cases.
  const core = createUseCases({
    topology,
    state,
    leadership,
    workspaces: repos.workspaces,
    sources,
    inspectVersion,
    committer: { name: config.git.name, email: config.git.email },
    announcer: slackAnnouncer(notifier, topology),
    versionsChanged,
    metrics,
    log,
  });
  const { scanner, problems } = core;
  // Queued on the consumers' workspaces before Slack can deliver a command, so no adopt runs first.
  const reconcile = startReconciling({ ...core.reconcilePorts, endLeftovers: async (consumer) => void (await endProcessesIn(repos.dirOf(consumer))) });
  resources.defer('reconciling adoptions', () => reconcile.idle());
  resources.defer('leadership', () => leadership.stop());
  resources.defer('digest', () => core.digest.idle());

  // 4. Health, then the Slack app that receives commands, clicks and events.
  const health = new Health({
    state,
    leadership,
    scanner,
    repoProblems: () => repos.problems(topology),
    problems: () => problems.list(),
    hints: stateOperatorHints(state, config.dataDir),
    gitTimeoutSeconds: config.git.timeoutSeconds,
    counts: { publishers: topology.publishers.length, consumers: topology.consumers.length },
  });
  const scanLoop = new ScanLoop(scanner, leadership, log.child({ component: 'scanner' }));
  // The publish hook may reach any replica: a follower passes it on to the leader.
  const askForScan = async () => (leadership.role() === 'leader' || !leadership.requestScan ? scanLoop.run() : leadership.requestScan().catch((err: unknown) => log.warn({ err }, 'could not ask the leader to scan')));
  leadership.onScanRequested?.(() => void scanLoop.run());
  let commandRunner: CommandRunner | undefined;
  const slack = createSlackApp({
    botToken: config.slack.botToken ?? '',
    ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
    ...(config.slack.appToken ? { appToken: config.slack.appToken } : {}),
    apiUrl: config.slack.apiUrl,
    port: config.slack.port,
    retryConfig: retry,
    apiTimeoutMs: timeoutMs,
    fetch: slackFetch,
    logger: log,
    scrub: (value) => scrubDeep(value, scrub),
    services: {
      ...core.services,
      adoptions: (filter) => state.adoptions(filter),
      inspectVersion,
      metrics,
      commands: {
        enqueue: async (command) => {
          await state.enqueueCommand(command);
          commandRunner?.kick();
        },
      },
      log: log.child({ component: 'slack' }),
    },
    notifier,
    routes: [
      healthRoute(() => health.report()),
      ...(config.metrics ? [metricsRoute(prometheus)] : []),
      ...(config.apiToken ? [retentionRoute({ token: config.apiToken, report: (publisher) => core.retention(publisher) })] : []),
      ...(config.hookSecret
        ? [publishHookRoute({ secret: config.hookSecret, publishers: topology.publishers.map((p) => p.name), requestScan: () => void askForScan(), log: log.child({ component: 'hook' }) })]
        : []),
    ],
  });

  // 5. Start: Slack, the durable commands, the first scan, then watching and the schedules.
  let port: number;
  try {
    ({ port } = await slack.start());
  } catch (error) {
    throw new StartupError(`Could not start the Slack app: ${scrub(String((error as Error).message ?? error))}`, STARTUP_FAILURE_EXIT_CODE);
  }
  // Commands written before an ack and not done (this process or another died on them) resume now.
  const runner = new CommandRunner({
    state,
    run: (command) => slack.commands.run(command),
    giveUp: (command) => slack.commands.giveUp(command),
    owner: replica,
    metrics,
    log: log.child({ component: 'commands' }),
  });
  commandRunner = runner;
  runner.start();
  // Closed last in first out: Slack stops taking requests, then running commands finish (and are
  // answered; queued ones wait in the state for the next runner), then scans and posts end.
  resources.defer('scans and posts', () => scanner.idle());
  resources.defer('command runner', () => runner.stop());
  resources.defer('slack', () => slack.stop());
  // While the state cannot be written, probe it so /healthz turns ok by itself once space returns.
  resources.defer('state probe', every(5000, () => {
    // A failed probe is the problem /healthz already shows; it is tried again in 5 s.
    if (state.writeProblem() !== null) void state.probeWrite(new Date().toISOString()).catch(() => undefined);
  }));
  if (!opts.manualScans) resources.defer('late landings', every(60_000, () => reconcile.runLogged()));
  // Taken later (the leader stopped or died): settle what it left in flight, then scan at once.
  leadership.onChange((role) => {
    log.info({ role }, role === 'leader' ? 'leader now: scanning' : 'follower now: another replica scans');
    if (role !== 'leader') return;
    scanner.leadershipTaken();
    scanLoop.run();
  });
  log.info({ publishers: topology.publishers.length, consumers: topology.consumers.length, port }, 'smvbot starting: first scan');
  await scanLoop.now();
  health.setReady(true);
  if (!opts.manualScans) {
    topology.publishers.forEach((publisher, i) => {
      // A dir that cannot be watched is an operator's problem (the schedule still finds changes) until it can.
      const watchProblems = (found: string[]) =>
        problems.set(`watch:${publisher.name}`, found.map((p) => ({ kind: 'publish-dir-watch', detail: `${publisher.name}: cannot watch ${p}; changes are found on scan.schedule only` })));
      const watcher = sources(publisher.publishDir).watch?.(() => scanLoop.run(), watchProblems);
      core.watchers[i] = watcher;
      if (watcher) resources.defer(`watching ${publisher.name}`, () => watcher.close());
    });
    const job = schedule(config.scan.schedule, () => scanLoop.run(), (error) => log.error({ err: error }, 'scheduled scan failed'));
    resources.defer('scan schedule', () => job.stop());
    if (config.digest) {
      const digestJob = schedule(config.digest.schedule, () => core.digest.now(), (error) => log.error({ err: error }, 'digest failed'), 'smvbot-digest');
      resources.defer('digest schedule', () => digestJob.stop());
    }
  }
  // Stopping says "not ready" before anything else closes.
  resources.defer('health', () => health.setReady(false));
  log.info({ port }, 'smvbot ready');
  let stopped: Promise<void> | undefined;
  return {
    port,
    scanNow: (o) => scanLoop.now(o),
    digestNow: (o) => core.digest.now(o),
    state,
    role: () => leadership.role(),
    reconciled: reconcile.first,
    reconcileNow: () => reconcile.run(),
    stop: () => (stopped ??= resources.close().then(() => log.info({}, 'smvbot stopped'))),
  };
}

// `npm start`: read config, start, stop cleanly on SIGTERM/SIGINT.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runAsProcess((config) => startBot(config));
}
