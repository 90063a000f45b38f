// Composition root: config → infra → core → slack → start. The only place that knows every layer.
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { AdoptService } from './core/adopt.ts';
import { StateCatalog } from './core/catalog.ts';
import { ReleaseLifecycle } from './core/lifecycle.ts';
import { DeprecationCache } from './core/deprecationCache.ts';
import { AnnouncementUpdates } from './core/announcementUpdates.ts';
import { ReleaseFactsReader } from './core/releaseFacts.ts';
import { PinsService } from './core/pinsReport.ts';
import { runDigest, type DigestRunSummary } from './core/digest.ts';
import { ProblemBoard, publishDirProblems, RecurringFailure, unsafeVersionProblems } from './core/problemBoard.ts';
import { ScanAndAnnounce, type ScanSummary } from './core/scanAndAnnounce.ts';
import { Topology } from './core/topology.ts';
import { CommandRunner } from './core/commandRunner.ts';
import { propsEncodingOf } from './core/consumerPins.ts';
import { ConsumerWorkspaces, RepoAccessError, type ConsumerLock } from './core/workspaces.ts';
import { watchPlans } from './core/watchPolicy.ts';
import { CONFIG_EXIT_CODE, formatConfigProblems, loadConfig, type AppConfig } from './infra/config/index.ts';
import { ConsumerRepo } from './infra/git/consumerRepo.ts';
import { acquireDataDirLock, DataDirLockedError, type DataDirLock } from './infra/state/dataDirLock.ts';
import { redactUrlCredentials } from './domain/redact.ts';
import type { GitFailure } from './domain/gitFailure.ts';
import { createGitRunner } from './infra/git/gitRunner.ts';
import { RepoPinPublisher } from './core/pinTransaction.ts';
import { createLogger, createScrubber, scrubDeep, scrubSecrets, tooShortToRedact, type Logger } from './infra/runtime/logger.ts';
import { openPublishSources } from './infra/publish/open.ts';
import { healthRoute } from './infra/http/healthRoute.ts';
import { publishHookRoute } from './infra/http/publishHook.ts';
import { inspectSourceVersion, type SourceWatcher } from './core/publishSource.ts';
import type { InspectVersion } from './core/diff.ts';
import { schedule, type ScheduledJob } from './infra/runtime/scheduler.ts';
import { endProcessesIn } from './infra/git/leftoverProcesses.ts';
import { openState, stateOperatorHints, StateOpenError } from './infra/state/open.ts';
import { leadershipProblem, type Leadership, type LeadershipReport, type Role } from './core/leadership.ts';
import { reconcileAdoptions, type ReconcileSummary } from './core/reconcileAdoptions.ts';
import { StateCorruptError, StateUnwritableError, type StatePort } from './core/statePort.ts';
import type { AdoptionRecord, VersionRecord } from './domain/records.ts';
import { createSlackApp, type SlackAppOptions } from './slack/app.ts';
import { createSlackNotifier } from './slack/notifier.ts';
import { classifyPostFailure, describeFailure } from './slack/postFailures.ts';
import { renderRecoveredAdoption } from './slack/render/answers.ts';
import { MAX_VERSIONS_PER_MESSAGE } from './slack/render/announcement.ts';
import { renderDigest } from './slack/render/digest.ts';

/** One entry of `/healthz` `problems`: what an operator must fix. */
export interface HealthProblem {
  kind: string;
  detail: string;
}

/** Exit code when another process holds the data dir or the state file is unreadable. */
export const STARTUP_FAILURE_EXIT_CODE = 1;

export interface StartOptions {
  logger?: Logger;
  /** Web API retry policy; tests shorten it. */
  retryConfig?: SlackAppOptions['retryConfig'];
  /** Limit for one Web API request (default 10 s). */
  apiTimeoutMs?: number;
  /** Least time between two announcements in one channel (default 1 s). */
  channelIntervalMs?: number;
  /** Skip the cron schedule and file watching (tests drive scans with `scanNow`). */
  manualScans?: boolean;
  /** With PostgreSQL: how often a follower tries for leadership (default 1000 ms). */
  leaderPollMs?: number;
}

export interface RunningBot {
  port: number;
  /**
   * Runs a scan now (joins one in progress), then posts what is pending; `post: false` stops after
   * the scan (the bench times a scan alone). A follower does not scan and returns an empty summary.
   */
  scanNow(opts?: { post?: boolean }): Promise<ScanSummary>;
  /**
   * Posts the digest of stale pins now (joins one in progress), counting ages and soak times at
   * `now` (default: the clock). A follower posts nothing and says so in `skipped`.
   */
  digestNow(opts?: { now?: Date }): Promise<DigestRunSummary>;
  state: StatePort;
  /** Whether this replica scans and announces (always `leader` with SQLite). */
  role(): Role;
  /** Settles adoptions a crash interrupted (runs once at start-up; tests await it). */
  reconciled: Promise<ReconcileSummary>;
  /** Looks again at unsettled and recently abandoned adoptions (scheduled every minute unless scans are manual). */
  reconcileNow(): Promise<ReconcileSummary>;
  stop(): Promise<void>;
}

/** A start-up refusal with a message for the operator and the exit code to leave with. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function startBot(config: AppConfig, opts: StartOptions = {}): Promise<RunningBot> {
  const secrets = [
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.database.kind === 'postgresql' ? config.database.password : undefined,
    config.hookSecret,
    ...config.store.secrets,
  ];
  const log = opts.logger ?? createLogger({ level: config.logLevel, secrets });
  const scrub = createScrubber(secrets);
  // Said once at start-up, naming the setting, never its value.
  for (const warning of tooShortToRedact([
    { setting: 'SLACK_BOT_TOKEN', value: config.slack.botToken },
    { setting: 'SLACK_SIGNING_SECRET', value: config.slack.signingSecret },
    { setting: 'SLACK_APP_TOKEN', value: config.slack.appToken },
    { setting: 'the password in SMVBOT_DATABASE_URL', value: config.database.kind === 'postgresql' ? config.database.password : undefined },
  ])) {
    log.warn(warning);
  }

  // 1. Infra: the data dir lock, the state and who leads.
  const lock = await lockDataDir(config.dataDir);
  // Versions recorded by another replica (PostgreSQL) make cached answers stale: whoever caches subscribes.
  const versionsChanged = new Set<() => void>();
  let state: StatePort;
  let leadership: Leadership;
  try {
    ({ state, leadership } = await openState(config, log, { onVersionsChanged: () => versionsChanged.forEach((f) => f()), ...(opts.leaderPollMs ? { leaderPollMs: opts.leaderPollMs } : {}) }));
  } catch (error) {
    await lock.release();
    if (error instanceof StateCorruptError || error instanceof StateUnwritableError || error instanceof StateOpenError) {
      throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    }
    throw unwritableDataDir(error, config.dataDir) ?? error;
  }
  const topology = new Topology(config.publishers, config.consumers, config.admins);
  const catalog = new StateCatalog(state);
  const deprecations = new DeprecationCache(state);
  versionsChanged.add(() => catalog.invalidate());
  versionsChanged.add(() => deprecations.invalidate());
  const repos = consumerRepos(config, scrub, (consumer, fn) => state.withConsumerLock(consumer, fn));
  const { workspaces } = repos;

  // 2. What the bot says on its own (the Web API side of Slack; the app that receives comes last).
  const timeoutMs = opts.apiTimeoutMs ?? 10_000;
  const notifier = createSlackNotifier({
    botToken: config.slack.botToken ?? '',
    apiUrl: config.slack.apiUrl,
    timeoutMs,
    // Bounded (about 30 s) so a Slack outage delays a post or start-up, not for half an hour;
    // a post that still fails stays pending and the next scan retries it.
    retry: opts.retryConfig ?? DEFAULT_SLACK_RETRY,
    channelIntervalMs: opts.channelIntervalMs ?? 1000,
    topology,
    scrub: (value) => scrubDeep(value, scrub),
    logger: { warn: (msg) => log.warn(msg) },
  });

  // 3. Use cases.
  const sources = openPublishSources(config.store);
  const inspectVersion: InspectVersion = (location, version, o) => inspectSourceVersion(sources(location), version, o);
  const deprecationsOf = (stage: string) => deprecations.of(stage);
  const pins = new PinsService({ topology, catalog, workspaces, inspectVersion, deprecationsOf });
  const releaseFacts = new ReleaseFactsReader({ topology, catalog, inspectVersion });
  const describe = (publisher: string, version: VersionRecord) => releaseFacts.factsOf(publisher, version);
  // Announcements stay true: deprecations and adoptions are shown in them, updated in place.
  const announcementUpdates = new AnnouncementUpdates({
    state,
    describe,
    update: (channel, ts, batch) => notifier.updateAnnouncement(channel, ts, batch),
    log: log.child({ component: 'announcements' }),
  });
  // An adopt that landed (answered, or found by the reconciliation) shows in its announcement; refresh logs its own failures.
  const showAdoption = (record: AdoptionRecord) => void announcementUpdates.refresh(topology.stage(record.stage)?.publisher.name ?? '', record.to ?? '');
  const adopt = new AdoptService({
    topology,
    catalog,
    workspaces,
    inspectVersion,
    publisher: new RepoPinPublisher({ state, committer: { name: config.git.name, email: config.git.email } }),
    afterChange: (consumer) => pins.invalidate(consumer),
    deprecationsOf,
    onAdopted: showAdoption,
    log: log.child({ component: 'adopt' }),
  });
  const lifecycle = new ReleaseLifecycle({
    topology,
    catalog,
    state,
    deprecationsOf,
    // Fresh: a consumer is told about the pin it has now, not one cached seconds ago.
    effectivePin: async (consumer, stage) => (await pins.confFiles(consumer, { fresh: true })).pinOf(stage),
    onChange: (stage, version) => {
      catalog.invalidate();
      deprecations.invalidate();
      void announcementUpdates.refresh(stage.publisher.name, version);
    },
  });
  const scanLog = log.child({ component: 'scanner' });
  const scanProblems = new ProblemBoard(scanLog);
  // Filled once the first scan is done (watching starts then); the scanner points them at unfinished versions.
  const watchers: (SourceWatcher | undefined)[] = [];
  const scanner = new ScanAndAnnounce({
    publishers: topology.publishers,
    sources,
    // What the scan skipped or could not read is an operator's problem until it goes away.
    onPublisherScanned: (publisher, result) =>
      scanProblems.set(`publisher:${publisher.name}`, [...publishDirProblems(publisher.name, result), ...unsafeVersionProblems(publisher.name, result.skipped)]),
    state,
    announce: (channel, batch) => notifier.announce(channel, batch),
    describe,
    maxVersionsPerMessage: MAX_VERSIONS_PER_MESSAGE,
    classifyPostFailure,
    describeFailure,
    findPosted: (channel, versions, since) => notifier.findAnnouncement(channel, versions, since),
    checkAuth: () => notifier.checkAuth(),
    onVersionsChanged: () => catalog.invalidate(),
    // Versions still being written are watched, so their completion is noticed before the schedule's next scan.
    onScanned: (summary) =>
      watchPlans(topology.publishers, summary).forEach((plan, i) => {
        watchers[i]?.watchVersions(plan.versions);
        if (plan.wakeAt !== null) watchers[i]?.wakeAt(plan.wakeAt);
      }),
    log: scanLog,
  });
  // Queued on the consumers' workspaces before Slack can deliver a command, so no adopt runs first.
  const reconcilePorts = {
    state,
    topology,
    workspaces,
    tellLanded: (channel: string, record: AdoptionRecord) => notifier.say(channel, renderRecoveredAdoption(record, topology)),
    onLanded: showAdoption,
    log: log.child({ component: 'reconcile' }),
  };
  const reconciled = reconcileAdoptions({ ...reconcilePorts, endLeftovers: async (consumer) => void (await endProcessesIn(repos.dirOf(consumer))) });
  // Logged here, once; the `.catch(() => undefined)` waits below (and in stop) only need it settled.
  reconciled.catch((error: unknown) => log.error({ err: error }, 'reconciling interrupted adoptions failed'));
  // Later passes look again at what is still unsettled and at recently abandoned pushes a remote may apply late.
  let reconciling: Promise<ReconcileSummary> | null = null;
  const reconcileNow = (): Promise<ReconcileSummary> => {
    reconciling ??= reconciled
      .catch(() => undefined)
      .then(() => reconcileAdoptions(reconcilePorts))
      .finally(() => (reconciling = null));
    return reconciling;
  };
  // The digest of stale pins (digest.schedule): one replica posts it, like announcements.
  const digestLog = log.child({ component: 'digest' });
  let digesting: Promise<DigestRunSummary> | null = null;
  const digestNow = (o: { now?: Date } = {}): Promise<DigestRunSummary> => {
    const now = o.now ?? new Date();
    if (leadership.role() !== 'leader') return Promise.resolve({ at: now.toISOString(), skipped: 'follower', posted: [], silent: [], failed: [] });
    digesting ??= runDigest(
      {
        topology,
        report: (consumer) => pins.report(consumer),
        catalog,
        deprecationsOf,
        post: (channel, digest) => notifier.say(channel, renderDigest(digest)),
        describePostError: describeFailure,
        log: digestLog,
      },
      now,
    )
      .then((summary) => {
        scanProblems.set(
          'digest',
          summary.failed.map((f) => ({ kind: 'digest-post-failed', detail: `the digest for ${f.consumer} could not be posted in channel ${f.channel}: ${f.error}` })),
        );
        return summary;
      })
      .finally(() => (digesting = null));
    return digesting;
  };

  // 4. Health, then the Slack app that receives commands, clicks and events.
  let ready = false;
  /** Runs durable commands (started with Slack); enqueueing wakes it. */
  let commandRunner: CommandRunner | undefined;
  const commandBacklog = async (): Promise<{ pending: number; oldestAgeSeconds: number | null }> => {
    const backlog = await state.commandBacklog();
    const age = backlog.oldestReceivedAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(backlog.oldestReceivedAt)) / 1000));
    return { pending: backlog.pending, oldestAgeSeconds: age };
  };
  const health = async (): Promise<{ status: number; body: object }> => {
    const role = leadership.role();
    const status = scanner.status();
    // A follower does not scan: the count is the shared state's (the last one known when it cannot be read).
    if (role === 'follower') status.versions = await state.countVersions().catch(() => status.versions);
    // With PostgreSQL: which replica leads and its lease, from the shared state (unreadable: left out).
    const leader: LeadershipReport | null = leadership.report ? await leadership.report().catch(() => null) : null;
    const replica = { role, database: { kind: state.kind, location: state.location }, ...(leader ? { leader } : {}) };
    const noLeader = leader ? leadershipProblem(leader) : null;
    const commands = await commandBacklog().catch(() => null);
    const commandProblems =
      commands && commands.oldestAgeSeconds !== null && commands.oldestAgeSeconds > COMMAND_WAIT_PROBLEM_SECONDS
        ? [{ kind: 'commands-waiting', detail: `${commands.pending} command(s) not yet done; the oldest was received ${commands.oldestAgeSeconds} s ago` }]
        : [];
    const problems = [
      ...(await healthProblems({ config, state, scanner, repoProblems: repos.problems(topology) })),
      ...scanProblems.list(),
      ...(noLeader ? [noLeader] : []),
      ...commandProblems,
    ];
    // Without a writable state nothing can be announced or adopted safely; without a token Slack takes nothing.
    const unwritable = state.writeProblem() !== null;
    const unavailable = state.unavailable?.() != null;
    const authRefused = scanner.postingStopped() !== null;
    if (!ready || unwritable || unavailable || authRefused) {
      const why = !ready ? 'starting' : unavailable ? 'state-unavailable' : unwritable ? 'state-unwritable' : 'slack-auth';
      return { status: 503, body: { ok: false, status: why, ...replica, ...status, commands, problems } };
    }
    return { status: 200, body: { ok: true, ...replica, ...status, publishers: topology.publishers.length, consumers: topology.consumers.length, commands, problems } };
  };
  const slack = createSlackApp({
    botToken: config.slack.botToken ?? '',
    ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
    ...(config.slack.appToken ? { appToken: config.slack.appToken } : {}),
    apiUrl: config.slack.apiUrl,
    port: config.slack.port,
    retryConfig: opts.retryConfig ?? DEFAULT_SLACK_RETRY,
    apiTimeoutMs: timeoutMs,
    logger: log,
    scrub: (value) => scrubDeep(value, scrub),
    services: {
      topology,
      catalog,
      adopt,
      lifecycle,
      pins,
      adoptions: (filter) => state.adoptions(filter),
      inspectVersion,
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
      healthRoute(health),
      ...(config.hookSecret
        ? [publishHookRoute({ secret: config.hookSecret, publishers: topology.publishers.map((p) => p.name), requestScan: () => void scanAndLog(), log: log.child({ component: 'hook' }) })]
        : []),
    ],
  });

  // 5. Start: Slack, the first scan, then watching and the schedules.
  let started: { port: number };
  try {
    started = await slack.start();
  } catch (error) {
    await reconciled.catch(() => undefined);
    await leadership.stop();
    await state.close();
    await lock.release();
    throw new StartupError(`Could not start the Slack app: ${scrubSecrets(String((error as Error).message ?? error), secrets)}`, STARTUP_FAILURE_EXIT_CODE);
  }
  // Commands written before an ack and not done (this process or another died on them) resume now.
  const runner = new CommandRunner({
    state,
    run: (command) => slack.commands.run(command),
    giveUp: (command) => slack.commands.giveUp(command),
    owner: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    log: log.child({ component: 'commands' }),
  });
  commandRunner = runner;
  runner.start();
  let job: ScheduledJob | undefined;
  let digestJob: ScheduledJob | undefined;
  const scanNow = async (o: { post?: boolean } = {}): Promise<ScanSummary> => {
    // One replica scans and announces; the others answer Slack from the shared state.
    if (leadership.role() !== 'leader') return { at: new Date().toISOString(), recorded: 0, announced: 0, failedPosts: 0, pending: [], problems: [] };
    return scanner.trigger(o);
  };
  // Scans on the schedule or on a file change: a failure that repeats (e.g. a full disk) is logged once.
  const scanFailure = new RecurringFailure('scan', scanLog, 'error');
  const scanAndLog = () =>
    scanNow().then(
      () => scanFailure.succeeded(),
      (error: unknown) => scanFailure.failed(error),
    );
  // While the state cannot be written, probe it so /healthz turns ok by itself once space returns.
  const probe = setInterval(() => {
    // A failed probe is the problem /healthz already shows; it is tried again in 5 s.
    if (state.writeProblem() !== null) void state.probeWrite(new Date().toISOString()).catch(() => undefined);
  }, 5000);
  probe.unref();
  // Every minute: a failure that repeats (e.g. the database down) is logged once, like scans.
  const reconcileFailure = new RecurringFailure('reconciling adoptions', reconcilePorts.log, 'error');
  const lateLandings = opts.manualScans
    ? undefined
    : setInterval(() => {
        reconcileNow().then(
          () => reconcileFailure.succeeded(),
          (error: unknown) => reconcileFailure.failed(error),
        );
      }, 60_000);
  lateLandings?.unref();
  // Taken later (the leader stopped or died): settle what it left in flight, then scan at once.
  leadership.onChange((role) => {
    log.info({ role }, role === 'leader' ? 'leader now: scanning' : 'follower now: another replica scans');
    if (role !== 'leader') return;
    scanner.leadershipTaken();
    void scanAndLog();
  });
  log.info({ publishers: topology.publishers.length, consumers: topology.consumers.length, port: started.port }, 'smvbot starting: first scan');
  try {
    await scanNow();
  } catch (error) {
    await stopAfterFailedStart();
    if (error instanceof StateUnwritableError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw error;
  }
  ready = true;
  if (!opts.manualScans) {
    for (const publisher of topology.publishers) {
      // A dir that cannot be watched is an operator's problem (the schedule still finds changes) until it can.
      const watchProblems = (problems: string[]) =>
        scanProblems.set(
          `watch:${publisher.name}`,
          problems.map((p) => ({ kind: 'publish-dir-watch', detail: `${publisher.name}: cannot watch ${p}; changes are found on scan.schedule only` })),
        );
      watchers.push(sources(publisher.publishDir).watch?.(() => void scanAndLog(), watchProblems));
    }
    job = schedule(config.scan.schedule, scanAndLog, (error) => log.error({ err: error }, 'scheduled scan failed'));
    if (config.digest) digestJob = schedule(config.digest.schedule, () => digestNow(), (error) => digestLog.error({ err: error }, 'digest failed'), 'smvbot-digest');
  }
  log.info({ port: started.port }, 'smvbot ready');

  let stopping: Promise<void> | undefined;
  async function stopAfterFailedStart(): Promise<void> {
    clearInterval(probe);
    clearInterval(lateLandings);
    // Best effort on the way out of a failed start: the start-up error is what is reported.
    await slack.stop().catch(() => undefined);
    await runner.stop();
    await reconciled.catch(() => undefined);
    await workspaces.drain();
    await leadership.stop();
    await state.close();
    await lock.release();
  }
  return {
    port: started.port,
    scanNow,
    digestNow,
    state,
    role: () => leadership.role(),
    reconciled,
    reconcileNow,
    stop() {
      stopping ??= (async () => {
        ready = false;
        clearInterval(probe);
        clearInterval(lateLandings);
        await job?.stop();
        await digestJob?.stop();
        for (const w of watchers) w?.close();
        await slack.stop();
        // Commands running finish (and are answered); queued ones wait in the state for the next runner.
        await runner.stop();
        await scanner.idle();
        // Their failures were logged where they ran (schedule, digest, reconcile): here they only need to have ended.
        await digesting?.catch(() => undefined);
        // Handed over once nothing is posting: the next leader finds no post in flight.
        await leadership.stop();
        await reconciled.catch(() => undefined);
        await reconciling?.catch(() => undefined);
        await workspaces.drain();
        await state.close();
        await lock.release();
        log.info({}, 'smvbot stopped');
      })();
      return stopping;
    },
  };
}

/** /healthz names waiting commands once the oldest has waited this long. */
const COMMAND_WAIT_PROBLEM_SECONDS = 60;

const DEFAULT_SLACK_RETRY = { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 16_000 };

async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  try {
    return await acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw unwritableDataDir(error, dataDir) ?? error;
  }
}

/**
 * Each consumer's clone (one per consumer, under the data dir), the workspaces that run changes
 * one at a time per consumer (across replicas with `lock`), and the last failed fetch of each repo.
 */
function consumerRepos(config: AppConfig, scrub: (text: string) => string, lock: ConsumerLock) {
  const dirOf = (consumer: { name: string }) => path.join(config.dataDir, 'repos', safeDirName(consumer.name));
  const git = createGitRunner(config.git.env, { timeoutMs: config.git.timeoutSeconds * 1000 });
  const repos = new Map<string, ConsumerRepo>();
  // The last fetch of each consumer's repo that failed (cleared by one that works): for /healthz.
  const fetchFailures = new Map<string, GitFailure>();
  const workspaces = new ConsumerWorkspaces((consumer) => {
    let repo = repos.get(consumer.name);
    if (!repo) {
      repo = new ConsumerRepo(git, dirOf(consumer), consumer.repo, consumer.branch, {
        propsEncoding: propsEncodingOf(consumer),
        onFetchResult: (error) => {
          // The gist is shown in /healthz: scrubbed like any output.
          if (error instanceof RepoAccessError) fetchFailures.set(consumer.name, { kind: error.failure.kind, gist: scrub(error.failure.gist) });
          else fetchFailures.delete(consumer.name);
        },
      });
      repos.set(consumer.name, repo);
    }
    return repo;
  }, lock);
  /** `/healthz` problems: each consumer repo whose last fetch failed, with git's gist. */
  const problems = (topology: Topology): HealthProblem[] =>
    topology.consumers.flatMap((c) => {
      const failure = fetchFailures.get(c.name);
      if (!failure) return [];
      const where = `${c.name} (${redactUrlCredentials(c.repo)}, branch ${c.branch})`;
      return [{ kind: 'consumer-repo-unreachable', detail: `${where}: last fetch failed (${failure.kind}): ${failure.gist}` }];
    });
  return { workspaces, dirOf, problems };
}

/** SPEC §4 /healthz problems: what an operator must fix, each with its kind. */
async function healthProblems(deps: { config: AppConfig; state: StatePort; scanner: ScanAndAnnounce; repoProblems: HealthProblem[] }): Promise<HealthProblem[]> {
  const { config, state, scanner } = deps;
  const problems: HealthProblem[] = [...deps.repoProblems];
  // The state file gone or corrupt: nothing more can be read from it; this is what to fix.
  const unavailable = state.unavailable?.();
  if (unavailable) return [...problems, { kind: 'state-unavailable', detail: unavailable }];
  const authProblem = scanner.postingStopped();
  if (authProblem) {
    problems.push({ kind: 'slack-auth', detail: `${authProblem}. Nothing is posted until it works: put a valid Bot User OAuth Token (xoxb-…) in SLACK_BOT_TOKEN (reinstall the app if it was revoked).` });
  }
  const writeProblem = state.writeProblem();
  if (writeProblem) {
    const fix = stateOperatorHints(state, config.dataDir).unwritableFix;
    problems.push({ kind: 'state-unwritable', detail: `${writeProblem} ${fix}; the bot resumes by itself.` });
  }
  const shown = 20;
  const refused = await state.announcementsIn(['failed', 'unknown'], shown + 1);
  if (refused.length > shown) {
    const listing = stateOperatorHints(state, config.dataDir).failedAnnouncementsQuery;
    problems.push({
      kind: 'announcement-more',
      detail: `more than ${shown} announcements failed or have an unknown outcome; the newest ${shown} follow. All of them: ${listing}`,
    });
  }
  for (const a of refused.slice(0, shown)) {
    problems.push({
      kind: a.status === 'failed' ? 'announcement-failed' : 'announcement-unknown',
      detail: `${a.publisher} ${a.version} in channel ${a.channel}: ${a.lastError ?? a.status}`,
    });
  }
  // A push lasts at most one git timeout: an intent older than two is not just pushing.
  const settledBy = Date.now() - 2 * config.git.timeoutSeconds * 1000;
  for (const intent of (await state.unsettledAdoptions()).filter((i) => Date.parse(i.intendedAt) < settledBy)) {
    problems.push({
      kind: 'adoption-unsettled',
      detail:
        `${intent.action} of ${intent.stage}${intent.to ? ` ${intent.to}` : ''} for ${intent.consumer} (commit ${intent.commit.slice(0, 12)}, ` +
        `by ${intent.user.name}) may or may not have reached branch ${intent.target}; it is checked again at the next start`,
    });
  }
  return problems;
}

/** A data dir that cannot be written (full disk, read-only, permissions): one line for the operator. */
function unwritableDataDir(error: unknown, dataDir: string): StartupError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM' && code !== 'EDQUOT') return null;
  return new StartupError(
    `Cannot write the data dir ${path.resolve(dataDir)} (${code}: ${(error as Error).message}). Free space there or fix its permissions (SMVBOT_DATA_DIR), then start smvbot again.`,
    STARTUP_FAILURE_EXIT_CODE,
  );
}

function safeDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `npm start`: read config, start, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const loaded = loadConfig({ requireSlack: true });
  if (!loaded.ok) {
    process.stderr.write(formatConfigProblems(loaded.problems) + '\n');
    process.exit(CONFIG_EXIT_CODE);
  }
  // Signals are handled from the start: a stop asked for during start-up (e.g. while the first
  // scan is posting) waits for it to finish, so no post is left in flight and the lock is freed.
  let bot: RunningBot | undefined;
  let stopAsked = false;
  const stop = (running: RunningBot) => {
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`smvbot: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    stopAsked = true;
    process.stderr.write(`smvbot: ${signal} received, stopping${bot ? '' : ' once start-up has finished'}\n`);
    if (bot) stop(bot);
  };
  // `once`: a second signal gets Node's default handling, so an impatient operator can still force it.
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    bot = await startBot(loaded.config);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`smvbot cannot start: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  if (stopAsked) stop(bot);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
