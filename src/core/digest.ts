import type { Deprecation } from '../domain/records.ts';
import type { CatalogEntry, VersionCatalog } from './catalog.ts';
import type { PinIssue, StagePin } from './pinsReport.ts';
import type { ConsumerSpec, KnownStage, Topology } from './topology.ts';
import { RepoAccessError, RepoFileRefusedError } from './workspaces.ts';

const DAY_MS = 86_400_000;
/** Consumers whose repos are read at once: a digest is not urgent, git and the disk are shared. */
const READS_AT_ONCE = 4;

/**
 * Why a stage is in a consumer's digest. Another reason (e.g. a deprecated pin) is one more
 * member here and one more case in the renderer.
 */
export type DigestReason =
  | {
      kind: 'behind';
      /** Versions newer than the pin that the consumer may adopt now (its soak time passed). */
      versions: number;
      /** The newest of them: what Adopt latest pins. */
      newest: CatalogEntry;
      /** Whole days since `newest` completed. */
      newestDays: number;
      /** The first version newer than the pin: since when the pin has been behind. */
      firstNewer: CatalogEntry;
      /** Whole days since `firstNewer` completed. */
      behindDays: number;
    }
  /** Not (or no longer) published, not synced, or taken back by its publisher (`/smv deprecate`): as `/smv pins` warns. */
  | PinIssue;

/** One stage of one consumer that needs attention. */
export interface DigestLine {
  stage: KnownStage;
  /** The effective pinned version. */
  pinned: string;
  /** At least one. */
  reasons: DigestReason[];
  /** What an Adopt latest button pins: the newest version the consumer may adopt now, when it is not the pin. */
  adopt: CatalogEntry | null;
}

export type ConsumerDigest =
  | { consumer: ConsumerSpec; ok: true; lines: DigestLine[] }
  /** The pins could not be read (git's gist, or why the file was refused). */
  | { consumer: ConsumerSpec; ok: false; error: string };

export interface DigestPorts {
  topology: Topology;
  /** The consumer's pins per stage through the pins read path (PinsService.report). */
  report(consumer: ConsumerSpec): Promise<{ stages: StagePin[] }>;
  catalog: VersionCatalog;
  /** A stage's deprecated versions: a pin on one is listed, and none is offered to adopt. */
  deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]>;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface DigestRunPorts extends DigestPorts {
  /** Posts one consumer's digest in one of its channels; rejects when Slack refused it. */
  post(channel: string, digest: ConsumerDigest): Promise<void>;
  /** Slack's refusal in words (e.g. `not_in_channel`). */
  describePostError(error: unknown): string;
}

export interface DigestRunSummary {
  at: string;
  /** Set when this replica did not run it (another one leads). */
  skipped?: 'follower';
  /** One entry per message posted. */
  posted: { consumer: string; channel: string; lines: number }[];
  /** Consumers with nothing to say: no message. */
  silent: string[];
  /** Posts Slack refused. */
  failed: { consumer: string; channel: string; error: string }[];
}

/**
 * SPEC §4 digest for one consumer: each stage whose effective pin is behind the newest version it
 * may adopt (soak time counted at `now`), is no longer (or never was) published, or is not synced
 * to the consumer's publish dir. Unpinned stages (live code) are not listed.
 */
export async function digestFor(ports: DigestPorts, consumer: ConsumerSpec, now: Date): Promise<ConsumerDigest> {
  let stages: StagePin[];
  try {
    ({ stages } = await ports.report(consumer));
  } catch (error) {
    ports.log?.warn({ err: error, consumer: consumer.name }, 'reading pins failed');
    return { consumer, ok: false, error: describeReadError(error) };
  }
  const soaked = oldEnoughFor(consumer, now);
  const lines: DigestLine[] = [];
  for (const sp of stages) {
    const pinned = sp.pin.version;
    if (pinned === null) continue;
    const deprecations = new Map(((await ports.deprecationsOf?.(sp.stage.fqn)) ?? []).map((d) => [d.version, d]));
    // Only good versions count as something to move to: soaked, and not deprecated.
    const oldEnough = (v: CatalogEntry) => soaked(v) && !deprecations.has(v.version);
    const reasons: DigestReason[] = [];
    const deprecated = deprecations.get(pinned);
    let adopt: CatalogEntry | null = null;
    if (sp.behind !== null && sp.behind > 0) {
      // By name, not by the report's count: a version recorded since the report must not shift it.
      const newer = await newerThan(ports.catalog, sp.stage.fqn, pinned);
      const adoptable = newer.filter(oldEnough);
      const newest = adoptable[0];
      const firstNewer = adoptable.at(-1);
      if (newest && firstNewer) {
        reasons.push({
          kind: 'behind',
          versions: adoptable.length,
          newest,
          newestDays: daysBetween(newest.completedAt, now),
          firstNewer,
          behindDays: daysBetween(firstNewer.completedAt, now),
        });
        adopt = newest;
      }
    }
    for (const issue of sp.issues) {
      if (issue.kind === 'deprecated') reasons.unshift(issue);
      else reasons.push(issue);
    }
    if (!reasons.length) continue;
    if (adopt === null && (sp.behind === null || deprecated)) adopt = await newestAdoptable(ports.catalog, sp.stage.fqn, oldEnough);
    if (adopt?.version === pinned) adopt = null;
    lines.push({ stage: sp.stage, pinned, reasons, adopt });
  }
  return { consumer, ok: true, lines };
}

/** Every consumer with a channel to tell, read a few at a time. */
export async function buildDigests(ports: DigestPorts, now: Date): Promise<ConsumerDigest[]> {
  const consumers = ports.topology.consumers.filter((c) => c.channels.length > 0);
  return mapWithLimit(consumers, READS_AT_ONCE, (c) => digestFor(ports, c, now));
}

/**
 * One digest run: one message per consumer in each of its channels, none for a consumer with
 * nothing to say. A consumer whose pins could not be read is told so (silence would read as "all
 * current"). A refused post is reported and does not stop the others.
 */
export async function runDigest(ports: DigestRunPorts, now: Date): Promise<DigestRunSummary> {
  const summary: DigestRunSummary = { at: now.toISOString(), posted: [], silent: [], failed: [] };
  for (const digest of await buildDigests(ports, now)) {
    const name = digest.consumer.name;
    if (digest.ok && digest.lines.length === 0) {
      summary.silent.push(name);
      continue;
    }
    for (const channel of digest.consumer.channels) {
      try {
        await ports.post(channel, digest);
        summary.posted.push({ consumer: name, channel, lines: digest.ok ? digest.lines.length : 0 });
      } catch (error) {
        const why = ports.describePostError(error);
        ports.log?.warn({ consumer: name, channel }, `digest for ${name} could not be posted in ${channel}: ${why}`);
        summary.failed.push({ consumer: name, channel, error: why });
      }
    }
  }
  ports.log?.info({ posted: summary.posted.length, silent: summary.silent.length, failed: summary.failed.length }, 'digest run finished');
  return summary;
}

/**
 * What Adopt latest pins for a stage: the newest version the consumer may adopt now, when the pin
 * is behind it or no longer published; null when there is nothing newer to adopt (or no pin).
 */
export async function adoptTarget(catalog: VersionCatalog, pin: Pick<StagePin, 'stage' | 'pin' | 'behind'>, oldEnough: (v: CatalogEntry) => boolean): Promise<CatalogEntry | null> {
  const pinned = pin.pin.version;
  if (pinned === null || pin.behind === 0) return null;
  if (pin.behind === null) {
    const newest = await newestAdoptable(catalog, pin.stage.fqn, oldEnough);
    return newest?.version === pinned ? null : newest;
  }
  return (await newerThan(catalog, pin.stage.fqn, pinned)).find(oldEnough) ?? null;
}

/** Published versions of the stage newer than `pinned`, newest first (the head unless the pin is older). */
async function newerThan(catalog: VersionCatalog, fqn: string, pinned: string): Promise<readonly CatalogEntry[]> {
  const head = await catalog.head(fqn);
  let index = head.versions.findIndex((v) => v.version === pinned);
  if (index >= 0) return head.versions.slice(0, index);
  if (head.total <= head.versions.length) return [];
  const all = await catalog.versionsOf(fqn);
  index = all.findIndex((v) => v.version === pinned);
  return index >= 0 ? all.slice(0, index) : [];
}

export async function newestAdoptable(catalog: VersionCatalog, fqn: string, oldEnough: (v: CatalogEntry) => boolean): Promise<CatalogEntry | null> {
  const head = await catalog.head(fqn);
  const found = head.versions.find(oldEnough);
  if (found || head.total <= head.versions.length) return found ?? null;
  return (await catalog.versionsOf(fqn)).find(oldEnough) ?? null;
}

/** Whether a version has soaked long enough for the consumer at `now` (`minAgeHours`, as adopt counts it). */
export function oldEnoughFor(consumer: ConsumerSpec, now: Date): (v: CatalogEntry) => boolean {
  const soakMs = (consumer.minAgeHours ?? 0) * 3_600_000;
  // Without a soak time every version counts, even one whose files are dated after the clock (skew).
  if (soakMs === 0) return () => true;
  const cutoffMs = now.getTime() - soakMs;
  return (v) => Date.parse(v.completedAt) <= cutoffMs;
}

function daysBetween(iso: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / DAY_MS));
}

/** A read failure in words fit to show: git's gist, or why the conf file was refused. */
export function describeReadError(error: unknown): string {
  if (error instanceof RepoAccessError) return `git said: ${error.failure.gist}`;
  if (error instanceof RepoFileRefusedError) return error.message;
  return 'an unexpected error (it is in the bot log)';
}

/** `fn` over `items`, at most `limit` at a time, results in the items' order. */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
