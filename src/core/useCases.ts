// The use cases wired to each other and to their ports: what main hands to Slack and to the
// schedules. Pure wiring (no I/O of its own): the stores, Slack's Web API and the renderers come in.
import { AdoptService } from './adopt.ts';
import { AnnouncementUpdates } from './announcementUpdates.ts';
import type { DeliveryPorts } from './announcementDelivery.ts';
import { StateCatalog } from './catalog.ts';
import { DeprecationCache } from './deprecationCache.ts';
import { FreezeService } from './freezes.ts';
import type { InspectVersion } from './diff.ts';
import { describeReadError, runDigest, type ConsumerDigest, type DigestRunSummary } from './digest.ts';
import type { Leadership } from './leadership.ts';
import { ReleaseLifecycle } from './lifecycle.ts';
import { RepoPinPublisher } from './pinTransaction.ts';
import type { Metrics } from './metrics.ts';
import { PinsService } from './pinsReport.ts';
import { ProblemBoard, publishDirProblems, RecurringFailure, unsafeVersionProblems } from './problemBoard.ts';
import type { PublishSources, SourceWatcher } from './publishSource.ts';
import { reconcileAdoptions, type ReconcilePorts, type ReconcileSummary } from './reconcileAdoptions.ts';
import { ReleaseFactsReader } from './releaseFacts.ts';
import { retentionOf } from './retention.ts';
import { ScanAndAnnounce } from './scanAndAnnounce.ts';
import { SingleFlight } from './singleFlight.ts';
import type { StatePort } from './statePort.ts';
import type { Topology } from './topology.ts';
import { watchPlans } from './watchPolicy.ts';
import type { ConsumerWorkspaces } from './workspaces.ts';
import type { AdoptionRecord, VersionRecord } from '../domain/records.ts';

type Log = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
type ComponentLog = Log & { child(bindings: object): Log };

/** What the bot says on its own in Slack, and how Slack's refusals read (the Slack layer provides it). */
export interface Announcer extends Pick<DeliveryPorts, 'announce' | 'classifyPostFailure' | 'describeFailure' | 'findPosted' | 'checkAuth' | 'maxVersionsPerMessage'> {
  updateAnnouncement(channel: string, ts: string, batch: Parameters<ConstructorParameters<typeof AnnouncementUpdates>[0]['update']>[2]): Promise<void>;
  /** Tells a channel that an adoption a restart interrupted did land. */
  tellLanded(channel: string, records: readonly AdoptionRecord[]): Promise<void>;
  postDigest(channel: string, digest: ConsumerDigest): Promise<void>;
}

export interface UseCasePorts {
  topology: Topology;
  state: StatePort;
  leadership: Leadership;
  workspaces: ConsumerWorkspaces;
  sources: PublishSources;
  inspectVersion: InspectVersion;
  committer: { name: string; email: string };
  announcer: Announcer;
  /** Told when another replica recorded versions; caches subscribe. */
  versionsChanged: Set<() => void>;
  metrics: Metrics;
  log: ComponentLog;
}

export function createUseCases(ports: UseCasePorts) {
  const { topology, state, workspaces, inspectVersion, announcer, log } = ports;
  const catalog = new StateCatalog(state);
  const deprecations = new DeprecationCache(state);
  ports.versionsChanged.add(() => catalog.invalidate());
  ports.versionsChanged.add(() => deprecations.invalidate());
  const deprecationsOf = (stage: string) => deprecations.of(stage);
  // Freezes are read from the state at every check (never cached): another replica may have set one.
  const freezeOf = (consumer: string) => state.freezeOf(consumer);
  const freezes = new FreezeService({ topology, state });
  const pins = new PinsService({ topology, catalog, workspaces, inspectVersion, deprecationsOf, freezeOf });
  const releaseFacts = new ReleaseFactsReader({ topology, catalog, inspectVersion });
  const describe = (publisher: string, version: VersionRecord) => releaseFacts.factsOf(publisher, version);
  // Announcements stay true: deprecations and adoptions are shown in them, updated in place.
  const announcementUpdates = new AnnouncementUpdates({
    state,
    describe,
    update: (channel, ts, batch) => announcer.updateAnnouncement(channel, ts, batch),
    log: log.child({ component: 'announcements' }),
  });
  // An adopt that landed (answered, or found by the reconciliation) shows in its announcement; refresh logs its own failures.
  const showAdoption = (record: AdoptionRecord) => void announcementUpdates.refresh(topology.stage(record.stage)?.publisher.name ?? '', record.to ?? '');
  const adopt = new AdoptService({
    topology,
    catalog,
    workspaces,
    inspectVersion,
    publisher: new RepoPinPublisher({ state, committer: ports.committer }),
    afterChange: (consumer) => pins.invalidate(consumer),
    deprecationsOf,
    freezeOf,
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
  const problems = new ProblemBoard(scanLog);
  // Filled once the first scan is done (watching starts then), by publisher index; the scanner points them at unfinished versions.
  const watchers: (SourceWatcher | undefined)[] = [];
  const scanner = new ScanAndAnnounce({
    publishers: topology.publishers,
    sources: ports.sources,
    // What the scan skipped or could not read is an operator's problem until it goes away.
    onPublisherScanned: (publisher, result) =>
      problems.set(`publisher:${publisher.name}`, [...publishDirProblems(publisher.name, result), ...unsafeVersionProblems(publisher.name, result.skipped)]),
    state,
    announce: (channel, batch) => announcer.announce(channel, batch),
    describe,
    ...(announcer.maxVersionsPerMessage !== undefined && { maxVersionsPerMessage: announcer.maxVersionsPerMessage }),
    ...(announcer.classifyPostFailure && { classifyPostFailure: announcer.classifyPostFailure }),
    ...(announcer.describeFailure && { describeFailure: announcer.describeFailure }),
    ...(announcer.findPosted && { findPosted: announcer.findPosted }),
    ...(announcer.checkAuth && { checkAuth: announcer.checkAuth }),
    onVersionsChanged: () => catalog.invalidate(),
    metrics: ports.metrics,
    // Versions still being written are watched, so their completion is noticed before the schedule's next scan.
    onScanned: (summary) =>
      watchPlans(topology.publishers, summary).forEach((plan, i) => {
        watchers[i]?.watchVersions(plan.versions);
        if (plan.wakeAt !== null) watchers[i]?.wakeAt(plan.wakeAt);
      }),
    log: scanLog,
  });
  const reconcilePorts: ReconcilePorts = {
    state,
    topology,
    workspaces,
    tellLanded: (channel, records) => announcer.tellLanded(channel, records),
    onLanded: showAdoption,
    log: log.child({ component: 'reconcile' }),
  };
  // The digest of stale pins (digest.schedule): one replica posts it, like announcements.
  const digestLog = log.child({ component: 'digest' });
  const digestFlight = new SingleFlight<DigestRunSummary>();
  const digest = {
    now(o: { now?: Date } = {}): Promise<DigestRunSummary> {
      const now = o.now ?? new Date();
      if (ports.leadership.role() !== 'leader') return Promise.resolve({ at: now.toISOString(), skipped: 'follower', posted: [], silent: [], failed: [] });
      return digestFlight.run(async () => {
        const summary = await runDigest(
          { topology, report: (consumer) => pins.report(consumer), catalog, deprecationsOf, post: (channel, d) => announcer.postDigest(channel, d), describePostError: (e) => announcer.describeFailure?.(e) ?? String(e), log: digestLog },
          now,
        );
        problems.set('digest', summary.failed.map((f) => ({ kind: 'digest-post-failed', detail: `the digest for ${f.consumer} could not be posted in channel ${f.channel}: ${f.error}` })));
        return summary;
      });
    },
    idle: () => digestFlight.idle(),
  };
  const retention = (publisher: string) =>
    retentionOf({ topology, catalog, pinsOf: (consumer) => pins.confFiles(consumer, { fresh: true }), describeReadError }, publisher);
  return { catalog, pins, adopt, lifecycle, scanner, problems, watchers, reconcilePorts, digest, retention, services: { topology, catalog, adopt, lifecycle, freezes, pins, retention } };
}

/**
 * Settles adoptions a crash interrupted: once at start-up (`first`), then again on demand
 * (unsettled and recently abandoned pushes a remote may apply late), one pass at a time.
 */
export function startReconciling(ports: ReconcilePorts) {
  const first = reconcileAdoptions(ports);
  // Logged here, once; the waits below only need it settled.
  first.catch((error: unknown) => ports.log?.warn({ err: error }, 'reconciling interrupted adoptions failed'));
  const later = new SingleFlight<ReconcileSummary>();
  const failure = new RecurringFailure('reconciling adoptions', ports.log as Log | undefined, 'error');
  const { endLeftovers: _startUpOnly, ...laterPorts } = ports;
  const run = (): Promise<ReconcileSummary> => later.run(() => first.catch(() => undefined).then(() => reconcileAdoptions(laterPorts)));
  return {
    first,
    run,
    /** Every minute: a failure that repeats (the database down) is logged once. */
    runLogged: (): void =>
      void run().then(
        () => failure.succeeded(),
        (error: unknown) => failure.failed(error),
      ),
    async idle(): Promise<void> {
      await first.catch(() => undefined);
      await later.idle();
    },
  };
}
