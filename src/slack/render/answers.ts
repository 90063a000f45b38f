import type { AdoptOutcome, UnpinOutcome } from '../../core/adopt.ts';
import { pinFileOf } from '../../core/consumerPins.ts';
import type { StagePin } from '../../core/pinsReport.ts';
import type { StageReleases } from '../../core/releases.ts';
import type { Topology } from '../../core/topology.ts';
import type { VersionDiff } from '../../domain/schemaDiff.ts';
import type { EffectivePin } from '../../domain/types.ts';
import type { AdoptionRecord } from '../../domain/records.ts';
import { formatTime, mrkdwnMessage, plural, shortSha, type SlackMessage } from './format.ts';

/** `/smv releases`: per stage, newest first, marking the latest and the consumer's pin. */
export function renderReleases(
  releases: StageReleases[],
  /** `unmanaged`: stage FQN → a connection path SMV reads that is not a version smvbot manages. */
  pinned: { consumer: string; pins: Map<string, string | null>; unmanaged?: Map<string, string> } | null,
  note?: string,
): SlackMessage {
  const paragraphs = releases.map(({ stage, versions, total }) => {
    const pin = pinned?.pins.get(stage.fqn) ?? null;
    const unmanaged = pinned?.unmanaged?.get(stage.fqn);
    const head = `*${stage.displayName}* (\`${stage.fqn}\`, ${stage.publisher.name}) — ${plural(total, 'complete version')}`;
    if (!versions.length) return `${head}\n_nothing published yet_`;
    const lines = versions.map((v, i) => {
      const marks = [i === 0 ? 'latest' : '', pin === v.version ? `:pushpin: pinned by ${pinned!.consumer}` : ''].filter(Boolean);
      return `• \`${v.version}\` — ${plural(v.moduleCount, 'module')}, completed ${formatTime(v.completedAt)}${marks.length ? `  _${marks.join(' · ')}_` : ''}`;
    });
    if (pin && !versions.some((v) => v.version === pin)) lines.push(`• :pushpin: ${pinned!.consumer} pins \`${pin}\` (older or not published)`);
    if (unmanaged !== undefined) lines.push(`• :pushpin: ${pinned!.consumer} reads ${shownPath(unmanaged)}: not managed by smvbot`);
    return `${head}\n${lines.join('\n')}`;
  });
  if (!paragraphs.length) paragraphs.push('No stages are configured.');
  if (note) paragraphs.push(`_${note}_`);
  const title = releases.length === 1 ? `Releases of ${releases[0]!.stage.displayName}` : 'Latest releases';
  return mrkdwnMessage(`${title}\n${paragraphs.join('\n')}`, [`*${title}*`, ...paragraphs]);
}

export function describePin(pin: EffectivePin): string {
  if (pin.unmanaged) return `not managed by smvbot: ${pin.key} = ${shownPath(pin.path ?? '')} (${whereSet(pin)})`;
  if (pin.version === null) {
    return pin.connection !== undefined ? `not pinned (smv.conn.${pin.connection}.path is not set)` : 'not pinned (live code)';
  }
  return `\`${pin.version}\` (${pin.key} ${whereSet(pin)})`;
}

/** `in conf/connections.props` for a connection pin, `in the user conf` for a stage pin. */
function whereSet(pin: EffectivePin): string {
  return pin.file !== undefined ? `in ${pin.file}` : `in the ${pin.source} conf`;
}

/** A path read from the consumer's repo: someone else's text, so mrkdwn-escaped. */
function shownPath(value: string): string {
  if (value === '') return 'an empty path';
  return `\`${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, "'")}\``;
}

/** `/smv pins`: effective pin per stage, how far behind latest, warnings. */
export function renderPins(consumer: string, branch: string, stages: StagePin[]): SlackMessage {
  const lines = stages.map(({ stage, pin, latest, behind, warnings }) => {
    let line = `• *${stage.displayName}* → ${describePin(pin)}`;
    if (pin.version !== null && behind !== null) {
      line += behind === 0 ? ' — up to date' : ` — ${plural(behind, 'version')} behind latest \`${latest!.version}\``;
    } else if (pin.version === null && latest) {
      line += ` — latest is \`${latest.version}\``;
    }
    return [line, ...warnings.map((w) => `   :warning: ${w}`)].join('\n');
  });
  const title = `Pins of ${consumer} (branch ${branch})`;
  return mrkdwnMessage(`${title}\n${lines.join('\n')}`, [`*${title}*`, lines.join('\n') || 'No stages are configured.']);
}

/** An adopt or unpin interrupted by a restart that turned out to have landed (told in its channel). */
export function renderRecoveredAdoption(record: AdoptionRecord, topology: Topology): SlackMessage {
  const stage = topology.stage(record.stage)?.displayName ?? record.stage;
  const change = record.action === 'adopt' ? `adopted ${stage} ${record.to}` : `unpinned ${stage}`;
  const where = record.branch ? ` on branch \`${record.branch}\`, ready for review` : '';
  return mrkdwnMessage(
    `<@${record.user.id}> ${change} for ${record.consumer} (was ${record.from ?? 'none'}) — commit ${shortSha(record.commit)}${where}. ` +
      `(The bot restarted while pushing it; the commit is on the remote and is now in \`/smv history\`.)`,
  );
}

/** `/smv history`: who, when, from → to, commit. */
export function renderHistory(records: AdoptionRecord[], topology: Topology, scope: string): SlackMessage {
  if (!records.length) return mrkdwnMessage(`No adoptions recorded${scope}. Pin one with \`/smv adopt <stage> <version>\`.`);
  const lines = records.map((r) => {
    const stage = topology.stage(r.stage)?.displayName ?? r.stage;
    const change = r.action === 'adopt' ? `adopted ${stage} \`${r.to}\`` : `unpinned ${stage}`;
    const where = r.branch ? ` on branch \`${r.branch}\`` : '';
    return `• ${formatTime(r.at)} — <@${r.user.id}> (${r.user.name}) ${change} for ${r.consumer} (was ${r.from ?? 'none'}) — commit \`${shortSha(r.commit)}\`${where}`;
  });
  const title = `Recent adoptions${scope}`;
  return mrkdwnMessage(`${title}\n${lines.join('\n')}`, [`*${title}*`, lines.join('\n')]);
}

/** SPEC §5.6 wording, posted in the channel. */
export function renderAdoptOutcome(outcome: AdoptOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: mrkdwnMessage(outcome.message), inChannel: false };
  if (outcome.status === 'already-pinned') {
    return {
      message: mrkdwnMessage(
        `${outcome.stage.displayName} is already pinned to \`${outcome.version}\` for ${outcome.consumer.name} ` +
          `(${outcome.pin.key} ${whereSet(outcome.pin)}). Nothing to commit.`,
      ),
      inChannel: false,
    };
  }
  const text =
    `<@${userId}> adopted ${outcome.stage.displayName} ${outcome.version} for ${outcome.consumer.name} ` +
    `(was ${outcome.previous ?? 'none'}) — commit ${shortSha(outcome.commit)}` +
    (outcome.branch ? ` on branch \`${outcome.branch}\`, ready for review` : '');
  return { message: mrkdwnMessage(text), inChannel: true };
}

export function renderUnpinOutcome(outcome: UnpinOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: mrkdwnMessage(outcome.message), inChannel: false };
  const left = outcome.stillPinnedBy;
  const still =
    left.version !== null
      ? ` Note: ${left.key} ${whereSet(left)} still pins it to \`${left.version}\`, so SMV keeps using that version.`
      : left.unmanaged
        ? ` Note: ${left.key} ${whereSet(left)} still points it at ${shownPath(left.path ?? '')}, so SMV keeps reading that.`
        : '';
  if (outcome.status === 'not-pinned') {
    return {
      message: mrkdwnMessage(`${outcome.stage.displayName} has no pin in ${outcome.consumer.name}'s ${pinFileOf(outcome.consumer)}. Nothing to commit.${still}`),
      inChannel: false,
    };
  }
  const text =
    `<@${userId}> unpinned ${outcome.stage.displayName} for ${outcome.consumer.name} (was ${outcome.previous ?? 'none'}) — ` +
    `commit ${shortSha(outcome.commit)}${outcome.branch ? ` on branch \`${outcome.branch}\`, ready for review` : ''}.${still}`;
  return { message: mrkdwnMessage(text), inChannel: true };
}

/** `/smv diff`: modules added/removed, columns added/removed/retyped. */
export function renderDiff(diff: VersionDiff, stageName: string): SlackMessage {
  const title = `${stageName}: ${diff.from} → ${diff.to}`;
  if (!diff.fromHasStage && !diff.toHasStage) {
    return mrkdwnMessage(`Neither \`${diff.from}\` nor \`${diff.to}\` holds modules of ${stageName}. Check the versions with \`/smv releases ${stageName}\`.`);
  }
  if (diff.identical) return mrkdwnMessage(`*${title}*: no module or column changes.`);
  const lines: string[] = [];
  for (const fqn of diff.modulesAdded) lines.push(`:heavy_plus_sign: module \`${fqn}\``);
  for (const fqn of diff.modulesRemoved) lines.push(`:heavy_minus_sign: module \`${fqn}\``);
  for (const m of diff.modulesChanged) {
    const parts = [
      ...m.added.map((c) => `+ \`${c.name}\` ${c.type}`),
      ...m.removed.map((c) => `− \`${c.name}\` ${c.type}`),
      ...m.retyped.map((c) => `~ \`${c.name}\` ${c.from} → ${c.to}`),
    ];
    lines.push(`*\`${m.fqn}\`*\n${parts.map((p) => `   ${p}`).join('\n')}`);
  }
  if (diff.columnsUnknown.length) {
    lines.push(`_Columns unknown (no readable .meta/.schema) for: ${diff.columnsUnknown.map((f) => `\`${f}\``).join(', ')}_`);
  }
  if (diff.modulesUnchanged.length) lines.push(`_${plural(diff.modulesUnchanged.length, 'module')} unchanged_`);
  return mrkdwnMessage(`${title}\n${lines.join('\n')}`, [`*${title}*`, ...lines]);
}
