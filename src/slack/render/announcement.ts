import type { Button, KnownBlock, MessageMetadata } from '@slack/types';
import { code, esc } from './mrkdwn.ts';
import type { AnnouncementBatch, AnnouncementNotes, VersionAnnouncement } from '../../core/announcementDelivery.ts';
import type { ReleaseFacts } from '../../core/releaseFacts.ts';
import type { ChangeClass } from '../../domain/schemaDiff.ts';
import type { Topology } from '../../core/topology.ts';
import { cappedInline, cappedList, clip, formatBytes, formatTime, plural, slackDate } from './format.ts';

export const ADOPT_ACTION_PREFIX = 'smv_adopt';
export const PUBLISHED_EVENT_TYPE = 'smv_version_published';
/** Slack allows 25 elements in an actions block. */
const MAX_BUTTONS = 25;
/** Schema changes listed per stage in a message; `/smv diff` has them all. */
const MAX_SHOWN_CHANGES = 6;
const MAX_METADATA_SCHEMA_STAGES = 10;
/** "Adopted by" lines shown per version; the rest are counted. */
const MAX_ADOPTED_LINES = 20;
/** Metadata stays small however big a publish is: longer lists are cut, with the full count beside. */
export const MAX_METADATA_MODULES = 50;
export const MAX_METADATA_STAGES = 50;
/**
 * Most versions one combined announcement holds. Each takes up to three blocks (its summary, its
 * Adopt buttons, a note when it has more than 25 stages): 10 keep a message within Slack's 50
 * blocks, short enough to read, and its metadata small. A bigger burst is split (part 1 of 3…).
 */
export const MAX_VERSIONS_PER_MESSAGE = 10;
/** Modules named per version in a combined announcement (the single one lists 30). */
const COMBINED_MODULES_SHOWN = 10;

/** What the Adopt button carries back to us when clicked. */
export interface AdoptButtonValue {
  stage: string;
  version: string;
}

/** What the Adopt all button carries back: the version and every stage (FQNs) it adopts in one commit. */
export interface AdoptAllButtonValue {
  stages: string[];
  version: string;
}

/** Slack's limit for a button's value. */
const MAX_BUTTON_VALUE = 2000;

/**
 * SPEC §4 payload; `module_count`/`stage_count` are added only when a list was cut. A combined
 * announcement keeps these fields for its first version and lists every version it announces in
 * `versions` (first included), so each one can be found in the channel's history.
 */
export interface PublishedPayload {
  publisher: string;
  version: string;
  stages: string[];
  modules: string[];
  module_count?: number;
  stage_count?: number;
  versions?: { publisher: string; version: string; schema_change?: ChangeClass }[];
  /** SPEC §4: how the (first) version's schema changed against each stage's previous version. */
  schema_change?: SchemaChangePayload;
}

export interface SchemaChangePayload {
  class: ChangeClass;
  stages: { stage: string; against: string | null; class: ChangeClass; changes: string[]; more?: number }[];
  stage_count?: number;
  /** Modules that failed their data-quality rules (the version has no Adopt button for their stages). */
  dqm_failed?: string[];
}

export interface AnnouncementMessage {
  text: string;
  blocks: KnownBlock[];
  metadata: MessageMetadata;
}

/** SPEC §4: names, version, module count, size, completion time; module list and one Adopt button per stage (and Adopt all for several). */
export function renderAnnouncement({ publisher, version: v, notes, facts }: VersionAnnouncement, topology: Topology): AnnouncementMessage {
  // Every name here comes from config or from the publish dir: escaped, never markup.
  const names = v.stages.map((fqn) => esc(topology.stage(fqn)?.displayName ?? fqn));
  const version = esc(v.version);
  const summary =
    `New release of ${names.join(', ')}: ${version} from ${esc(publisher)} — ` +
    `${plural(v.modules.length, 'module')}, ${formatBytes(v.bytes)}, completed ${formatTime(v.completedAt)}`;
  const modules = v.modules.map((m) => `• ${code(m.fqn)}`);

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`New release: ${names.join(', ')} ${version}`, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Version*\n${code(v.version)}` },
        { type: 'mrkdwn', text: `*Publisher*\n${esc(publisher)}` },
        // Field texts are limited to 2000 characters; a whole-app publish can hold many stages.
        { type: 'mrkdwn', text: clip(`*Stages*\n${cappedInline(v.stages.map((s) => code(s)), 10)}`, 2000) },
        { type: 'mrkdwn', text: `*Modules*\n${v.modules.length} (${formatBytes(v.bytes)})` },
        { type: 'mrkdwn', text: `*Completed*\n${slackDate(v.completedAt)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(cappedList(modules, 30)) } },
    ...factBlocks(facts, topology, ''),
  ];
  blocks.push(...noteBlocks(v, notes, topology, ''));
  blocks.push(...adoptBlocks(v, names, 'smv_adopt_actions', ADOPT_ACTION_PREFIX, withheldStages(notes, facts)));
  const metadata = publishedMetadata(publisher, v.version, v.stages, v.modules.map((m) => m.fqn), undefined, facts);
  return { text: summary + deprecatedSuffix(notes), blocks, metadata };
}

/**
 * The message for a batch: one version looks exactly as it always did; several that completed
 * together are combined, each with its own summary line and Adopt buttons.
 */
export function renderAnnouncementBatch(batch: AnnouncementBatch, topology: Topology): AnnouncementMessage {
  const [first, ...rest] = batch.versions;
  if (!first) throw new Error('an announcement needs at least one version');
  if (!rest.length) return renderAnnouncement(first, topology);
  return renderCombinedAnnouncement(batch, topology);
}

/** Several versions in one message (a burst): a header, then per version its line, modules and buttons. */
function renderCombinedAnnouncement({ versions, part, parts, total }: AnnouncementBatch, topology: Topology): AnnouncementMessage {
  const ofParts = parts > 1 ? ` (part ${part} of ${parts})` : '';
  const title = `${total} new releases${ofParts}`;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: title } }];
  const lines: string[] = [];
  versions.forEach(({ publisher, version: v, notes, facts }, k) => {
    const names = v.stages.map((fqn) => esc(topology.stage(fqn)?.displayName ?? fqn));
    lines.push(`${cappedInline(names, 5)} ${esc(v.version)} from ${esc(publisher)}${deprecatedSuffix(notes)}`);
    const summary =
      `*${cappedInline(names, 10)}* ${code(v.version)} from ${esc(publisher)} — ` +
      `${plural(v.modules.length, 'module')}, ${formatBytes(v.bytes)}, completed ${slackDate(v.completedAt)}`;
    const modules = cappedInline(v.modules.map((m) => code(m.fqn)), COMBINED_MODULES_SHOWN);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(modules ? `${summary}\n${modules}` : summary) } });
    // block_id and action_id unique in the message: Slack refuses a message that repeats one.
    blocks.push(...factBlocks(facts, topology, `:${k}`, true));
    blocks.push(...noteBlocks(v, notes, topology, `:${k}`));
    blocks.push(...adoptBlocks(v, names, `smv_adopt_actions:${k}`, `${ADOPT_ACTION_PREFIX}:${k}`, withheldStages(notes, facts)));
  });
  if (parts > 1) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${versions.length} of the ${total} versions that completed together; the others are in the ${parts - 1 === 1 ? 'other message' : `other ${parts - 1} messages`}.` }],
    });
  }
  const [first] = versions;
  const listed = versions.map(({ publisher, version, facts }) => ({ publisher, version: version.version, ...(facts ? { schema_change: facts.schemaClass } : {}) }));
  const metadata = publishedMetadata(first!.publisher, first!.version.version, first!.version.stages, first!.version.modules.map((m) => m.fqn), listed, first!.facts);
  return { text: clip(`${title}: ${lines.join('; ')}`, 3000), blocks, metadata };
}

/** Lines an updated announcement gains: a deprecation (with its reason) and one "Adopted by" line per consumer. */
function noteBlocks(v: VersionAnnouncement['version'], notes: AnnouncementNotes | undefined, topology: Topology, idSuffix: string): KnownBlock[] {
  if (!notes) return [];
  const blocks: KnownBlock[] = [];
  const stageName = (fqn: string) => esc(topology.stage(fqn)?.displayName ?? fqn);
  const several = v.stages.length > 1;
  if (notes.deprecated.length) {
    const lines = notes.deprecated.map(
      (d) =>
        `:warning: *Deprecated*${several ? ` (${stageName(d.stage)})` : ''} by ${esc(d.by.name)} on ${formatTime(d.at)}${d.reason ? `: ${esc(d.reason)}` : ''}. Do not adopt it.`,
    );
    blocks.push({ type: 'section', block_id: `smv_deprecated${idSuffix}`, text: { type: 'mrkdwn', text: clip(lines.join('\n')) } });
  }
  if (notes.adoptedBy.length) {
    const lines = notes.adoptedBy.slice(0, MAX_ADOPTED_LINES).map((a) => `Adopted by ${esc(a.consumer)} (<@${a.user.id}>)${several ? ` for ${stageName(a.stage)}` : ''}`);
    if (notes.adoptedBy.length > MAX_ADOPTED_LINES) lines.push(`… and ${notes.adoptedBy.length - MAX_ADOPTED_LINES} more consumers`);
    blocks.push({ type: 'context', block_id: `smv_adopted${idSuffix}`, elements: [{ type: 'mrkdwn', text: clip(lines.join('\n'), 2000) }] });
  }
  return blocks;
}

/** Stages without an Adopt button: deprecated ones, and those with a module that failed its data-quality rules. */
function withheldStages(notes: AnnouncementNotes | undefined, facts: ReleaseFacts | null | undefined): ReadonlySet<string> {
  return new Set([...(notes?.deprecated.map((d) => d.stage) ?? []), ...(facts?.qualityFailures.flatMap((f) => (f.stage ? [f.stage] : [])) ?? [])]);
}

const CLASS_MARK: Record<ChangeClass, string> = { none: ':white_circle: no schema change', compatible: ':large_blue_circle: compatible', breaking: ':red_circle: *breaking*' };

/** The schema change (per stage when several) and any data-quality failure, in a block or two. */
function factBlocks(facts: ReleaseFacts | null | undefined, topology: Topology, idSuffix: string, compact = false): KnownBlock[] {
  if (!facts) return [];
  const stageName = (fqn: string) => esc(topology.stage(fqn)?.displayName ?? fqn);
  const several = facts.stages.length > 1;
  const lines = facts.stages.slice(0, compact ? 3 : 10).map((s) => {
    const name = several ? `${stageName(s.stage)}: ` : '';
    if (s.against === null) return `${name}no earlier complete version to compare with`;
    const changes = s.changes.slice(0, compact ? 3 : MAX_SHOWN_CHANGES).map((c) => esc(c));
    const more = s.changes.length - changes.length + s.more;
    const detail = changes.length ? `: ${changes.join('; ')}${more > 0 ? `; … and ${more} more (\`/smv diff\`)` : ''}` : '';
    // Columns that could not be read: the class says nothing about those modules.
    const mark = s.unknown && s.class === 'none' ? ':grey_question: schema change not known' : CLASS_MARK[s.class];
    return `${name}${mark} against ${code(s.against)}${detail}`;
  });
  if (facts.stages.length > lines.length) lines.push(`… and ${facts.stages.length - lines.length} more stages`);
  const blocks: KnownBlock[] = [{ type: 'context', block_id: `smv_schema${idSuffix}`, elements: [{ type: 'mrkdwn', text: clip(`*Schema* ${lines.join('\n')}`, 2000) }] }];
  const unread = facts.qualityFailures.filter((f) => f.unread !== undefined);
  if (unread.length) {
    const why = unread.slice(0, 5).map((f) => esc(f.unread!));
    if (unread.length > why.length) why.push(`… and ${unread.length - why.length} more modules`);
    blocks.push({
      type: 'section',
      block_id: `smv_dqm_unread${idSuffix}`,
      text: { type: 'mrkdwn', text: clip(`:x: *Data-quality check not known*: ${why.join('; ')}. No Adopt button: adopting it needs an admin.`) },
    });
  }
  const failedChecks = facts.qualityFailures.filter((f) => f.unread === undefined);
  if (failedChecks.length) {
    const failed = failedChecks.slice(0, 5).map((f) => {
      const rules = f.rules.slice(0, 5).map((r) => `${esc(r.name)}${r.count === null ? '' : ` (${r.count})`}`);
      return `${code(f.module)}${rules.length ? ` — ${rules.join(', ')}${f.rules.length > rules.length ? ', …' : ''}` : ''}`;
    });
    if (failedChecks.length > failed.length) failed.push(`… and ${failedChecks.length - failed.length} more modules`);
    blocks.push({
      type: 'section',
      block_id: `smv_dqm${idSuffix}`,
      text: { type: 'mrkdwn', text: clip(`:x: *Failed its data-quality rules*: ${failed.join('; ')}. No Adopt button: adopting it needs an admin.`) },
    });
  }
  return blocks;
}

function schemaChangePayload(facts: ReleaseFacts): SchemaChangePayload {
  const stages = facts.stages.slice(0, MAX_METADATA_SCHEMA_STAGES).map((s) => {
    const changes = s.changes.slice(0, 5);
    const more = s.changes.length - changes.length + s.more;
    return { stage: s.stage, against: s.against, class: s.class, changes, ...(more > 0 ? { more } : {}) };
  });
  return {
    class: facts.schemaClass,
    stages,
    ...(facts.stages.length > stages.length ? { stage_count: facts.stages.length } : {}),
    ...(facts.qualityFailures.length ? { dqm_failed: facts.qualityFailures.slice(0, 20).map((f) => f.module) } : {}),
  };
}

function deprecatedSuffix(notes: AnnouncementNotes | undefined): string {
  return notes?.deprecated.length ? ' (deprecated)' : '';
}

/** An Adopt button (with Slack's confirm dialog) that the button listener acts on for the channel's consumer. */
export function adoptButton(value: AdoptButtonValue, stageName: string, actionId: string): Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: clip(`Adopt ${stageName}`, 75) },
    value: JSON.stringify(value),
    confirm: {
      title: { type: 'plain_text', text: 'Adopt this version?' },
      text: {
        type: 'mrkdwn',
        text: clip(`Pin *${stageName}* to ${code(value.version)} in this channel's consumer config (a commit pushed to its repo).`, 300),
      },
      confirm: { type: 'plain_text', text: 'Adopt' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/**
 * The Adopt all button of a version holding several stages (with Slack's confirm dialog): every
 * stage it names pinned in one commit, all or nothing, for the channel's consumer. Null when the
 * stages do not fit in a button's value.
 */
export function adoptAllButton(value: AdoptAllButtonValue, stageNames: string[], actionId: string): Button | null {
  const carried = JSON.stringify(value);
  if (carried.length > MAX_BUTTON_VALUE) return null;
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: 'Adopt all' },
    value: carried,
    confirm: {
      title: { type: 'plain_text', text: 'Adopt every stage?' },
      text: {
        type: 'mrkdwn',
        text: clip(
          `Pin ${cappedInline(stageNames.map((n) => `*${n}*`), 5)} to ${code(value.version)} in this channel's consumer config, in one commit pushed to its repo (all or nothing).`,
          300,
        ),
      },
      confirm: { type: 'plain_text', text: 'Adopt all' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/**
 * A version's Adopt buttons (at most 25, Slack's limit per actions block): one per stage and, when
 * two or more stages have one, Adopt all last (then 24 stages get a button); a note names what did not fit.
 */
function adoptBlocks(v: VersionAnnouncement['version'], names: string[], blockId: string, actionPrefix: string, withoutStages: ReadonlySet<string>): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  // Adopt all covers the stages that may be adopted (a withheld one is not in it), also those past the buttons.
  const adoptable = v.stages.flatMap((fqn, i) => (withoutStages.has(fqn) ? [] : [{ fqn, name: names[i]! }]));
  const all =
    adoptable.length >= 2 ? adoptAllButton({ stages: adoptable.map((s) => s.fqn), version: v.version }, adoptable.map((s) => s.name), `${actionPrefix}:all`) : null;
  const perStage = all ? MAX_BUTTONS - 1 : MAX_BUTTONS;
  // A deprecated stage of the version loses its button (adopting it is refused anyway).
  const buttons = v.stages
    .slice(0, perStage)
    .flatMap((fqn, i) => (withoutStages.has(fqn) ? [] : [adoptButton({ stage: fqn, version: v.version }, names[i]!, `${actionPrefix}:${i}`)]));
  if (all) buttons.push(all);
  if (buttons.length) blocks.push({ type: 'actions', block_id: blockId, elements: buttons });
  if (v.stages.length > perStage) {
    const rest = v.stages.length - perStage;
    const instead = all ? `Adopt all pins every stage at once, or type ${code(`/smv adopt <stage> ${v.version}`)} for one of those.` : `type ${code(`/smv adopt <stage> ${v.version}`)} for those.`;
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(`Adopt buttons are shown for the first ${perStage} stages; … and ${rest} more: ${instead}`, 2000),
        },
      ],
    });
  }
  return blocks;
}

/** The announcement's metadata, bounded: at most 50 modules and 50 stages, with the full counts when cut (and the versions of a combined one). */
export function publishedMetadata(
  publisher: string,
  version: string,
  stages: string[],
  modules: string[],
  versions?: PublishedPayload['versions'],
  facts?: ReleaseFacts | null,
): MessageMetadata {
  const payload: PublishedPayload = {
    publisher,
    version,
    stages: stages.slice(0, MAX_METADATA_STAGES),
    modules: modules.slice(0, MAX_METADATA_MODULES),
    ...(stages.length > MAX_METADATA_STAGES ? { stage_count: stages.length } : {}),
    ...(modules.length > MAX_METADATA_MODULES ? { module_count: modules.length } : {}),
    // At most MAX_VERSIONS_PER_MESSAGE entries: a combined message never holds more.
    ...(versions ? { versions } : {}),
    ...(facts ? { schema_change: schemaChangePayload(facts) } : {}),
  };
  // @slack/types allows only objects in payload arrays; Slack itself takes string lists (SPEC §4 fixes this shape).
  return { event_type: PUBLISHED_EVENT_TYPE, event_payload: payload as unknown as MessageMetadata['event_payload'] };
}

/**
 * The versions a message's metadata says it announces: its own, and for a combined announcement
 * every one in `versions` (how an unknown outcome is settled). Empty for any other message.
 */
export function versionsInMetadata(metadata: unknown): { publisher: string; version: string }[] {
  const m = metadata as { event_type?: unknown; event_payload?: { publisher?: unknown; version?: unknown; versions?: unknown } } | null | undefined;
  if (m?.event_type !== PUBLISHED_EVENT_TYPE || !m.event_payload) return [];
  const found: { publisher: string; version: string }[] = [];
  const add = (entry: { publisher?: unknown; version?: unknown } | null | undefined) => {
    if (typeof entry?.publisher !== 'string' || typeof entry.version !== 'string') return;
    if (!found.some((f) => f.publisher === entry.publisher && f.version === entry.version)) found.push({ publisher: entry.publisher, version: entry.version });
  };
  add(m.event_payload);
  if (Array.isArray(m.event_payload.versions)) for (const entry of m.event_payload.versions) add(entry as { publisher?: unknown; version?: unknown });
  return found;
}

/** An Adopt all button's value, or null when it is not one. */
export function parseAdoptAllButtonValue(raw: string | undefined): AdoptAllButtonValue | null {
  try {
    const value = JSON.parse(raw ?? '') as Partial<AdoptAllButtonValue>;
    const { stages, version } = value;
    return Array.isArray(stages) && stages.length > 0 && stages.every((s) => typeof s === 'string') && typeof version === 'string' ? { stages, version } : null;
  } catch {
    return null;
  }
}

export function parseAdoptButtonValue(raw: string | undefined): AdoptButtonValue | null {
  try {
    const value = JSON.parse(raw ?? '') as Partial<AdoptButtonValue>;
    return typeof value.stage === 'string' && typeof value.version === 'string' ? { stage: value.stage, version: value.version } : null;
  } catch {
    return null;
  }
}
