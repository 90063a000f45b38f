import { code, esc } from '../../domain/mrkdwn.ts';
import type { VersionAnnouncement } from '../../core/scanAndAnnounce.ts';
import type { Topology } from '../../core/topology.ts';
import { cappedInline, cappedList, clip, formatBytes, formatTime, plural, slackDate } from './format.ts';

export const ADOPT_ACTION_PREFIX = 'smv_adopt';
export const PUBLISHED_EVENT_TYPE = 'smv_version_published';

/** What the Adopt button carries back to us when clicked. */
export interface AdoptButtonValue {
  stage: string;
  version: string;
}

export interface AnnouncementMessage {
  text: string;
  blocks: unknown[];
  metadata: {
    event_type: typeof PUBLISHED_EVENT_TYPE;
    event_payload: { publisher: string; version: string; stages: string[]; modules: string[] };
  };
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

  const blocks: unknown[] = [
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
  const buttons = v.stages.slice(0, 25).map((fqn, i) => {
    const name = names[i]!;
    const value: AdoptButtonValue = { stage: fqn, version: v.version };
    return {
      type: 'button',
      action_id: `${ADOPT_ACTION_PREFIX}:${i}`,
      text: { type: 'plain_text', text: clip(`Adopt ${name}`, 75) },
      value: JSON.stringify(value),
      confirm: {
        title: { type: 'plain_text', text: 'Adopt this version?' },
        text: {
          type: 'mrkdwn',
          text: clip(`Pin *${name}* to ${code(v.version)} in this channel's consumer config (a commit pushed to its repo).`, 300),
        },
        confirm: { type: 'plain_text', text: 'Adopt' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    };
  });
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'smv_adopt_actions', elements: buttons });

  return {
    text: summary,
    blocks,
    metadata: {
      event_type: PUBLISHED_EVENT_TYPE,
      event_payload: { publisher, version: v.version, stages: v.stages, modules: v.modules.map((m) => m.fqn) },
    },
  };
}

export function parseAdoptButtonValue(raw: string | undefined): AdoptButtonValue | null {
  try {
    const value = JSON.parse(raw ?? '') as Partial<AdoptButtonValue>;
    return typeof value.stage === 'string' && typeof value.version === 'string' ? { stage: value.stage, version: value.version } : null;
  } catch {
    return null;
  }
}
