import type { KnownBlock, MessageMetadata } from '@slack/types';
import { code, esc } from '../../domain/mrkdwn.ts';
import type { VersionAnnouncement } from '../../core/scanAndAnnounce.ts';
import type { Topology } from '../../core/topology.ts';
import { cappedInline, cappedList, clip, formatBytes, formatTime, plural, slackDate } from './format.ts';

export const ADOPT_ACTION_PREFIX = 'smv_adopt';
export const PUBLISHED_EVENT_TYPE = 'smv_version_published';
/** Slack allows 25 elements in an actions block. */
const MAX_BUTTONS = 25;
/** Metadata stays small however big a publish is: longer lists are cut, with the full count beside. */
export const MAX_METADATA_MODULES = 50;
export const MAX_METADATA_STAGES = 50;

/** What the Adopt button carries back to us when clicked. */
export interface AdoptButtonValue {
  stage: string;
  version: string;
}

/** SPEC §4 payload; `module_count`/`stage_count` are added only when a list was cut. */
export interface PublishedPayload {
  publisher: string;
  version: string;
  stages: string[];
  modules: string[];
  module_count?: number;
  stage_count?: number;
}

export interface AnnouncementMessage {
  text: string;
  blocks: KnownBlock[];
  metadata: MessageMetadata;
}

/** SPEC §4: names, version, module count, size, completion time; module list and one Adopt button per stage. */
export function renderAnnouncement({ publisher, version: v }: VersionAnnouncement, topology: Topology): AnnouncementMessage {
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
  ];
  const buttons = v.stages.slice(0, MAX_BUTTONS).map((fqn, i) => {
    const name = names[i]!;
    const value: AdoptButtonValue = { stage: fqn, version: v.version };
    return {
      type: 'button' as const,
      action_id: `${ADOPT_ACTION_PREFIX}:${i}`,
      text: { type: 'plain_text' as const, text: clip(`Adopt ${name}`, 75) },
      value: JSON.stringify(value),
      confirm: {
        title: { type: 'plain_text' as const, text: 'Adopt this version?' },
        text: {
          type: 'mrkdwn' as const,
          text: clip(`Pin *${name}* to ${code(v.version)} in this channel's consumer config (a commit pushed to its repo).`, 300),
        },
        confirm: { type: 'plain_text' as const, text: 'Adopt' },
        deny: { type: 'plain_text' as const, text: 'Cancel' },
      },
    };
  });
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'smv_adopt_actions', elements: buttons });
  if (v.stages.length > MAX_BUTTONS) {
    const rest = v.stages.length - MAX_BUTTONS;
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(`Adopt buttons are shown for the first ${MAX_BUTTONS} stages; … and ${rest} more: type ${code(`/smv adopt <stage> ${v.version}`)} for those.`, 2000),
        },
      ],
    });
  }

  return { text: summary, blocks, metadata: publishedMetadata(publisher, v.version, v.stages, v.modules.map((m) => m.fqn)) };
}

/** The announcement's metadata, bounded: at most 50 modules and 50 stages, with the full counts when cut. */
export function publishedMetadata(publisher: string, version: string, stages: string[], modules: string[]): MessageMetadata {
  const payload: PublishedPayload = {
    publisher,
    version,
    stages: stages.slice(0, MAX_METADATA_STAGES),
    modules: modules.slice(0, MAX_METADATA_MODULES),
    ...(stages.length > MAX_METADATA_STAGES ? { stage_count: stages.length } : {}),
    ...(modules.length > MAX_METADATA_MODULES ? { module_count: modules.length } : {}),
  };
  // @slack/types allows only objects in payload arrays; Slack itself takes string lists (SPEC §4 fixes this shape).
  return { event_type: PUBLISHED_EVENT_TYPE, event_payload: payload as unknown as MessageMetadata['event_payload'] };
}

/** Whether message metadata is the bot's announcement of `what` (how an unknown outcome is settled). */
export function isPublishedMetadataOf(metadata: unknown, what: { publisher: string; version: string }): boolean {
  const m = metadata as { event_type?: unknown; event_payload?: { publisher?: unknown; version?: unknown } } | null | undefined;
  return m?.event_type === PUBLISHED_EVENT_TYPE && m.event_payload?.publisher === what.publisher && m.event_payload?.version === what.version;
}

export function parseAdoptButtonValue(raw: string | undefined): AdoptButtonValue | null {
  try {
    const value = JSON.parse(raw ?? '') as Partial<AdoptButtonValue>;
    return typeof value.stage === 'string' && typeof value.version === 'string' ? { stage: value.stage, version: value.version } : null;
  } catch {
    return null;
  }
}
