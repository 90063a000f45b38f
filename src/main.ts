// Composition root: config → infra → core → slack → start. The only place that knows every layer.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AdoptService } from './core/adopt.ts';
import { StateCatalog } from './core/catalog.ts';
import { PinsService } from './core/pinsReport.ts';
import { ProblemBoard, unsafeVersionProblems } from './core/problemBoard.ts';
import { ScanAndAnnounce, type ScanSummary } from './core/scanAndAnnounce.ts';
import { Topology } from './core/topology.ts';
import { ConsumerWorkspaces } from './core/workspaces.ts';
import { CONFIG_EXIT_CODE, formatConfigProblems, loadConfig, type AppConfig } from './infra/config.ts';
import { ConsumerRepo } from './infra/consumerRepo.ts';
import { acquireDataDirLock, DataDirLockedError, type DataDirLock } from './infra/dataDirLock.ts';
import { createGitRunner, GitError } from './infra/gitRunner.ts';
import { createLogger, createScrubber, scrubDeep, scrubSecrets, type Logger } from './infra/logger.ts';
import { scanPublishDir, scanVersion } from './infra/publishScanner.ts';
import { watchPublishDir, type PublishWatcher } from './infra/publishWatcher.ts';
import { schedule, type ScheduledJob } from './infra/scheduler.ts';
import { openStateStore, StateFileCorruptError, type StateStore } from './infra/stateStore.ts';
import { createSlackApp, type SlackAppOptions } from './slack/app.ts';

/** Exit code when another process holds the data dir or the state file is unreadable. */
export const STARTUP_FAILURE_EXIT_CODE = 1;

export interface StartOptions {
  logger?: Logger;
  /** Web API retry policy; tests shorten it. */
  retryConfig?: SlackAppOptions['retryConfig'];
  /** Skip the cron schedule and file watching (tests drive scans with `scanNow`). */
  manualScans?: boolean;
}

export interface RunningBot {
  port: number;
  /** Runs a scan now (joins one in progress). */
  scanNow(): Promise<ScanSummary>;
  state: StateStore;
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
  const secrets = [config.slack.botToken, config.slack.signingSecret, config.slack.appToken];
  const log = opts.logger ?? createLogger({ level: config.logLevel, secrets });
  const scrub = createScrubber(secrets);
  const gitErrorGist = (error: unknown) => (error instanceof GitError ? createScrubber(secrets)(error.gist) : null);

  let lock: DataDirLock;
  try {
    lock = await acquireDataDirLock(config.dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw error;
  }
  let state: StateStore;
  try {
    state = await openStateStore(config.dataDir);
  } catch (error) {
    await lock.release();
    if (error instanceof StateFileCorruptError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw error;
  }

  const topology = new Topology(config.publishers, config.consumers, config.admins);
  const catalog = new StateCatalog(state);
  const git = createGitRunner(config.git.env);
  const repos = new Map<string, ConsumerRepo>();
  const workspaces = new ConsumerWorkspaces((consumer) => {
    let repo = repos.get(consumer.name);
    if (!repo) {
      repo = new ConsumerRepo(git, path.join(config.dataDir, 'repos', safeDirName(consumer.name)), consumer.repo, consumer.branch);
      repos.set(consumer.name, repo);
    }
    return repo;
  });
  const inspectVersion = scanVersion;
  let userName = async (id: string) => id;
  const pins = new PinsService({ topology, catalog, workspaces, inspectVersion });
  const adopt = new AdoptService({
    topology,
    catalog,
    workspaces,
    inspectVersion,
    userName: (id) => userName(id),
    recordAdoption: (record) => state.appendAdoption(record),
    afterChange: (consumer) => pins.invalidate(consumer),
    committer: { name: config.git.name, email: config.git.email },
    gitErrorGist,
  });

  let ready = false;
  const scanLog = log.child({ component: 'scanner' });
  const problems = new ProblemBoard(scanLog);
  const scanner: ScanAndAnnounce = new ScanAndAnnounce({
    publishers: topology.publishers,
    scan: async (dir, o) => {
      const result = await scanPublishDir(dir, o);
      // What the scan skipped or could not read is an operator's problem until it goes away.
      for (const publisher of topology.publishers.filter((p) => p.publishDir === dir)) {
        problems.set(`publisher:${publisher.name}`, [
          ...result.problems.map((detail) => ({ kind: 'publish-dir', detail: `${publisher.name}: ${detail}` })),
          ...unsafeVersionProblems(publisher.name, result.skipped),
        ]);
      }
      return result;
    },
    state,
    announce: (channel, what) => slack.announce(channel, what),
    onVersionsChanged: () => catalog.invalidate(),
    log: scanLog,
  });

  const slack = createSlackApp({
    botToken: config.slack.botToken ?? '',
    ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
    ...(config.slack.appToken ? { appToken: config.slack.appToken } : {}),
    apiUrl: config.slack.apiUrl,
    port: config.slack.port,
    ...(opts.retryConfig ? { retryConfig: opts.retryConfig } : {}),
    logger: log,
    scrub: (value) => scrubDeep(value, scrub),
    services: {
      topology,
      catalog,
      adopt,
      pins,
      adoptions: (filter) => state.adoptions(filter),
      inspectVersion,
      gitErrorGist,
      log: log.child({ component: 'slack' }),
    },
    health: () => {
      const status = scanner.status();
      if (!ready) return { status: 503, body: { ok: false, status: 'starting', ...status, problems: problems.list() } };
      return {
        status: 200,
        body: { ok: true, ...status, publishers: topology.publishers.length, consumers: topology.consumers.length, problems: problems.list() },
      };
    },
  });
  userName = slack.userName;

  let started: { port: number };
  try {
    started = await slack.start();
  } catch (error) {
    await state.close();
    await lock.release();
    throw new StartupError(`Could not start the Slack app: ${scrubSecrets(String((error as Error).message ?? error), secrets)}`, STARTUP_FAILURE_EXIT_CODE);
  }

  const watchers: PublishWatcher[] = [];
  let job: ScheduledJob | undefined;
  const scanNow = async () => {
    const summary = await scanner.trigger();
    followUnfinished(summary);
    return summary;
  };
  const scanAndLog = () =>
    scanNow().catch((error: unknown) => {
      log.error({ err: error }, 'scan failed');
    });
  // Watch versions still being written so their completion is noticed without waiting for cron.
  const followUnfinished = (summary: ScanSummary) => {
    topology.publishers.forEach((publisher, i) => {
      // A version skipped as unsafe is not watched: its tree may loop or be huge.
      const unfinished = summary.pending.filter((p) => p.publisher === publisher.name && !p.version.unsafe).map((p) => p.version);
      watchers[i]?.watchVersions(unfinished.map((v) => v.version));
      // Structurally complete, only waiting out settleSeconds: wake up when that is over.
      const settling = unfinished.filter((v) => v.settling);
      if (settling.length) {
        watchers[i]?.wakeAt(Math.min(...settling.map((v) => v.lastChangeMs + publisher.settleSeconds * 1000)) + 50);
      }
    });
  };

  log.info({ publishers: topology.publishers.length, consumers: topology.consumers.length, port: started.port }, 'smvbot starting: first scan');
  await scanNow();
  ready = true;
  if (!opts.manualScans) {
    for (const publisher of topology.publishers) {
      watchers.push(watchPublishDir(publisher.publishDir, () => void scanAndLog()));
    }
    job = schedule(config.scan.schedule, scanAndLog, (error) => log.error({ err: error }, 'scheduled scan failed'));
  }
  log.info({ port: started.port }, 'smvbot ready');

  let stopping: Promise<void> | undefined;
  return {
    port: started.port,
    scanNow,
    state,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await job?.stop();
        for (const w of watchers) w.close();
        await slack.stop();
        await scanner.idle();
        await workspaces.drain();
        await state.close();
        await lock.release();
        log.info({}, 'smvbot stopped');
      })();
      return stopping;
    },
  };
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
