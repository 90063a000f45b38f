import { code, esc } from './mrkdwn.ts';
import type { AdoptAllOutcome, AdoptOutcome, UnpinOutcome } from '../../core/adopt.ts';
import { pinFileOf } from '../../core/consumerPins.ts';
import type { StagePin } from '../../core/pinsReport.ts';
import type { StageReleases } from '../../core/releases.ts';
import type { Topology } from '../../core/topology.ts';
import { classifyDiff, type ChangeClass, type VersionDiff } from '../../domain/schemaDiff.ts';
import type { EffectivePin } from '../../domain/types.ts';
import type { AdoptionRecord, Freeze } from '../../domain/records.ts';
import { formatTime, MAX_MESSAGE_CHARS, mrkdwnMessage, plural, shortSha, type SlackMessage } from './format.ts';
import { frozenByText } from './freezeWords.ts';
import { pinIssueText } from './pinIssues.ts';
import { renderRefusal } from './refusals.ts';

/** A mention the bot writes itself: a Slack user id from a signed request, kept live. */
function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : esc(userId);
}

/** `/smv releases`: per stage, newest first, marking the latest and the consumer's pin. */
export function renderReleases(
  releases: StageReleases[],
  /** `unmanaged`: stage FQN → a connection path SMV reads that is not a version smvbot manages. */
  pinned: { consumer: string; pins: Map<string, string | null>; unmanaged?: Map<string, string> } | null,
  note?: string,
  /** Stages not listed at all (the answer was full before them). */
  unlisted = 0,
): SlackMessage {
  const paragraphs = releases.map(({ stage, versions, total, deprecated }) => {
    const pin = pinned?.pins.get(stage.fqn) ?? null;
    const unmanaged = pinned?.unmanaged?.get(stage.fqn);
    const head = `*${esc(stage.displayName)}* (${code(stage.fqn)}, ${esc(stage.publisher.name)}) — ${plural(total, 'complete version')}`;
    if (!versions.length) return `${head}\n_nothing published yet_`;
    // `latest` is what `/smv adopt <stage> latest` would take (soak aside): the newest not deprecated.
    const latest = versions.find((v) => !deprecated.has(v.version))?.version;
    const lines = versions.map((v) => {
      const gone = deprecated.get(v.version);
      const marks = [
        v.version === latest ? 'latest' : '',
        gone ? `:warning: deprecated${gone.reason ? `: ${esc(gone.reason)}` : ''}` : '',
        pin === v.version ? `:pushpin: pinned by ${esc(pinned!.consumer)}` : '',
      ].filter(Boolean);
      return `• ${code(v.version)} — ${plural(v.moduleCount, 'module')}, completed ${formatTime(v.completedAt)}${marks.length ? `  _${marks.join(' · ')}_` : ''}`;
    });
    if (pin && !versions.some((v) => v.version === pin)) lines.push(`• :pushpin: ${esc(pinned!.consumer)} pins ${code(pin)} (older or not published)`);
    if (unmanaged !== undefined) lines.push(`• :pushpin: ${esc(pinned!.consumer)} reads ${shownPath(unmanaged)}: not managed by smvbot`);
    return `${head}\n${lines.join('\n')}`;
  });
  if (!paragraphs.length) paragraphs.push('No stages are configured.');
  if (note) paragraphs.push(`_${note}_`);
  const title = releases.length === 1 ? `Releases of ${esc(releases[0]!.stage.displayName)}` : 'Latest releases';
  return mrkdwnMessage(`${title}\n${paragraphs.join('\n')}`, [`*${title}*`, ...paragraphs], unlisted);
}

/**
 * Whether `renderReleases` could not show another stage after these: the least text each
 * paragraph takes (its heading, a line per version) already fills a message.
 */
export function releasesAnswerFull(listed: readonly StageReleases[]): boolean {
  let chars = 0;
  for (const { stage, versions } of listed) {
    chars += stage.displayName.length + stage.fqn.length + stage.publisher.name.length + 25;
    for (const v of versions) chars += v.version.length + 30;
  }
  return chars > MAX_MESSAGE_CHARS;
}

export function describePin(pin: EffectivePin): string {
  if (pin.unlisted) return "not read: SMV reads stage versions only for the stages of the consumer's smv.stages, and this one is not there";
  if (pin.connectionType !== undefined && pin.key !== null) {
    const typeKey = esc(pin.key.replace(/\.path$/, '.type'));
    const why = pin.connectionType === null ? `${typeKey} is not set` : `${typeKey} is ${code(pin.connectionType)}, not hdfs`;
    return `not read: ${esc(pin.key)} = ${shownPath(pin.path ?? '')} (${whereSet(pin)}), but ${why}`;
  }
  if (pin.unmanaged) return `not managed by smvbot: ${esc(pin.key ?? '')} = ${shownPath(pin.path ?? '')} (${whereSet(pin)})`;
  if (pin.version === null) {
    return pin.connection !== undefined ? `not pinned (smv.conn.${esc(pin.connection)}.path is not set)` : 'not pinned (live code)';
  }
  return `${code(pin.version)} (${esc(pin.key ?? '')} ${whereSet(pin)})`;
}

/** `in conf/connections.props` for a connection pin, `in the user conf` for a stage pin. */
function whereSet(pin: EffectivePin): string {
  return pin.file !== undefined ? `in ${esc(pin.file)}` : `in the ${pin.source} conf`;
}

/** A path read from the consumer's repo: someone else's text, so shown as code (escaped). */
function shownPath(value: string): string {
  if (value === '') return 'an empty path';
  return code(value);
}

/** The one caveat of every answer about what SMV reads: files it merges that no repo read shows. */
export function unseenCaveat(unseen: readonly string[]): string {
  const files = unseen.map((f) => code(f)).join(' and ');
  return `_SMV also merges ${files} on the machine that runs it, which smvbot cannot see: a pin set there would win._`;
}

/** A consumer's freeze in force, as `/smv pins` and the freeze answers say it. */
export function frozenNotice(consumer: string, freeze: Freeze): string {
  return `:snowflake: ${esc(consumer)} is ${frozenByText(freeze, { esc, mention })}: adopts and unpins are refused. ${code(`/smv unfreeze ${consumer}`)} ends it.`;
}

/**
 * `/smv pins`: effective pin per stage, how far behind latest, warnings; once, the files the bot
 * cannot see; first, the consumer's freeze when one is in force.
 */
export function renderPins(consumer: string, branch: string, stages: StagePin[], unseen: readonly string[] = [], freeze: Freeze | null = null): SlackMessage {
  const lines = stages.map(({ stage, pin, latest, behind, issues }) => {
    let line = `• *${esc(stage.displayName)}* → ${describePin(pin)}`;
    if (pin.version !== null && behind !== null) {
      line += behind === 0 ? ' — up to date' : ` — ${plural(behind, 'version')} behind latest ${code(latest!.version)}`;
    } else if (pin.version === null && latest) {
      line += ` — latest is ${code(latest.version)}`;
    }
    return [line, ...issues.map((issue) => `   :warning: ${pinIssueText(issue)}`)].join('\n');
  });
  const title = `Pins of ${esc(consumer)} (branch ${esc(branch)})`;
  // One paragraph per stage: packed into blocks, and past Slack's block limit "… and N more" (never cut silently).
  const footer = unseen.length > 0 ? [unseenCaveat(unseen)] : [];
  const frozen = freeze ? [frozenNotice(consumer, freeze)] : [];
  return mrkdwnMessage(`${title}\n${[...frozen, ...lines, ...footer].join('\n')}`, [`*${title}*`, ...frozen, ...(lines.length ? lines : ['No stages are configured.']), ...footer]);
}

/**
 * An adopt or unpin interrupted by a restart that turned out to have landed (told in its channel):
 * the records of one commit, one for each stage it adopted.
 */
export function renderRecoveredAdoption(records: readonly AdoptionRecord[], topology: Topology): SlackMessage {
  const [record, ...more] = records;
  if (!record) throw new Error('a recovered adoption needs its record');
  const where = record.branch ? ` on branch \`${record.branch}\`, ready for review` : '';
  const tail = `(The bot restarted while pushing it; the commit is on the remote and is now in \`/smv history\`.)`;
  const stageOf = (r: AdoptionRecord) => topology.stage(r.stage)?.displayName ?? r.stage;
  if (more.length) {
    const each = records.map((r) => `${stageOf(r)} ${r.to} (was ${r.from ?? 'none'})`).join(', ');
    return mrkdwnMessage(`<@${record.user.id}> adopted ${each} for ${record.consumer} — commit ${shortSha(record.commit)}${where}. ${tail}`);
  }
  const stage = stageOf(record);
  const change = record.action === 'adopt' ? `adopted ${stage} ${record.to}` : `unpinned ${stage}`;
  return mrkdwnMessage(`<@${record.user.id}> ${change} for ${record.consumer} (was ${record.from ?? 'none'}) — commit ${shortSha(record.commit)}${where}. ${tail}`);
}

/** `/smv history`: who, when, from → to, commit. */
export function renderHistory(records: AdoptionRecord[], topology: Topology, scope: string): SlackMessage {
  if (!records.length) return mrkdwnMessage(`No adoptions recorded${scope}. Pin one with \`/smv adopt &lt;stage&gt; &lt;version&gt;\`.`);
  const lines = records.map((r) => {
    const stage = esc(topology.stage(r.stage)?.displayName ?? r.stage);
    const change = r.action === 'adopt' ? `adopted ${stage} ${code(r.to ?? '')}` : `unpinned ${stage}`;
    const where = r.branch ? ` on branch ${code(r.branch)}` : '';
    // The mention is the bot's own (a Slack user id it recorded); the name is Slack's profile text.
    return `• ${formatTime(r.at)} — ${mention(r.user.id)} (${esc(r.user.name)}) ${change} for ${esc(r.consumer)} (was ${esc(r.from ?? 'none')}) — commit ${code(shortSha(r.commit))}${where}`;
  });
  const title = `Recent adoptions${scope}`;
  return mrkdwnMessage(`${title}\n${lines.join('\n')}`, [`*${title}*`, ...lines]);
}

/** SPEC §5.6 wording, posted in the channel. */
export function renderAdoptOutcome(outcome: AdoptOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  if (outcome.status === 'already-pinned' && outcome.landedBefore) {
    // Its worker died after the push; the channel was told when the landing was found. Said to the user only, once more.
    const r = outcome.landedBefore;
    return {
      message: mrkdwnMessage(
        `Your adopt of ${esc(outcome.stage.displayName)} ${code(outcome.version)} for ${esc(outcome.consumer.name)} (was ${esc(r.from ?? 'none')}) ` +
          `landed as commit ${code(shortSha(r.commit))} before the bot restarted; the channel was told then.`,
      ),
      inChannel: false,
    };
  }
  if (outcome.status === 'already-pinned') {
    return {
      message: mrkdwnMessage(
        `${esc(outcome.stage.displayName)} is already pinned to ${code(outcome.version)} for ${esc(outcome.consumer.name)} ` +
          `(${esc(outcome.pin.key ?? '')} ${whereSet(outcome.pin)}). Nothing to commit.`,
      ),
      inChannel: false,
    };
  }
  const text =
    `${mention(userId)} adopted ${esc(outcome.stage.displayName)} ${esc(outcome.version)} for ${esc(outcome.consumer.name)} ` +
    `(was ${esc(outcome.previous ?? 'none')}) — commit ${shortSha(outcome.commit)}` +
    (outcome.branch ? ` on branch ${code(outcome.branch)}, ready for review` : '') +
    (outcome.soakSkipped
      ? `. Soak time skipped by an admin: ${esc(outcome.consumer.name)} waits ${outcome.soakSkipped.minAgeHours} h (minAgeHours), and this version would have become adoptable at ${formatTime(outcome.soakSkipped.adoptableAt)}`
      : '') +
    (outcome.qualityOverridden
      ? `. Adopted by an admin although ${outcome.qualityOverridden.map((m) => code(m)).join(', ')} failed ${outcome.qualityOverridden.length === 1 ? 'its' : 'their'} data-quality rules`
      : '') +
    freezeOverriddenText(outcome);
  return { message: mrkdwnMessage(text), inChannel: true };
}

/**
 * An adopt of several stages: one line in the channel for the one commit (`<@U> adopted geo V1 (was
 * …), cms V2 (was …) for client-model — commit abc1234`); all already pinned, or refused, for the user only.
 */
export function renderAdoptAllOutcome(outcome: AdoptAllOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  const consumer = esc(outcome.consumer.name);
  if (outcome.status === 'already-pinned' && outcome.landedBefore) {
    // Its worker died after the push; the channel was told when the landing was found. Said to the user only, once more.
    const each = outcome.landedBefore.map((r) => `${esc(outcome.stages.find((s) => s.stage.fqn === r.stage)?.stage.displayName ?? r.stage)} ${code(r.to ?? '')} (was ${esc(r.from ?? 'none')})`);
    return {
      message: mrkdwnMessage(
        `Your adopt of ${each.join(', ')} for ${consumer} landed as commit ${code(shortSha(outcome.landedBefore[0]!.commit))} before the bot restarted; the channel was told then.`,
      ),
      inChannel: false,
    };
  }
  const pinned = outcome.stages.filter((s) => s.status === 'already-pinned');
  const pinnedText = pinned.map((s) => `${esc(s.stage.displayName)} to ${code(s.version)}`).join(', ');
  if (outcome.status === 'already-pinned') {
    return { message: mrkdwnMessage(`Every stage is already pinned for ${consumer}: ${pinnedText}. Nothing to commit.`), inChannel: false };
  }
  const adopted = outcome.stages.flatMap((s) => (s.status === 'adopted' ? [s] : []));
  const notes = adopted.flatMap((s) => [
    ...(s.soakSkipped
      ? [`Soak time skipped by an admin for ${esc(s.stage.displayName)}: ${consumer} waits ${s.soakSkipped.minAgeHours} h (minAgeHours), and ${esc(s.version)} would have become adoptable at ${formatTime(s.soakSkipped.adoptableAt)}`]
      : []),
    ...(s.qualityOverridden
      ? [`Adopted by an admin although ${s.qualityOverridden.map((m) => code(m)).join(', ')} failed ${s.qualityOverridden.length === 1 ? 'its' : 'their'} data-quality rules`]
      : []),
  ]);
  const text =
    `${mention(userId)} adopted ${adopted.map((s) => `${esc(s.stage.displayName)} ${esc(s.version)} (was ${esc(s.previous ?? 'none')})`).join(', ')} ` +
    `for ${consumer} — commit ${shortSha(outcome.commit)}` +
    (outcome.branch ? ` on branch ${code(outcome.branch)}, ready for review` : '') +
    (pinned.length ? `. Already pinned, so not in the commit: ${pinnedText}` : '') +
    notes.map((n) => `. ${n}`).join('');
  return { message: mrkdwnMessage(text), inChannel: true };
}

export function renderUnpinOutcome(outcome: UnpinOutcome, userId: string): { message: SlackMessage; inChannel: boolean } {
  if (!outcome.ok) return { message: renderRefusal(outcome), inChannel: false };
  const left = outcome.stillPinnedBy;
  const still =
    left.version !== null
      ? ` Note: ${esc(left.key ?? '')} ${whereSet(left)} still pins it to ${code(left.version)}, so SMV keeps using that version.`
      : left.unmanaged
        ? ` Note: ${esc(left.key ?? '')} ${whereSet(left)} still points it at ${shownPath(left.path ?? '')}, so SMV keeps reading that.`
        : '';
  if (outcome.status === 'not-pinned') {
    return {
      message: mrkdwnMessage(`${esc(outcome.stage.displayName)} has no pin in ${esc(outcome.consumer.name)}'s ${esc(pinFileOf(outcome.consumer))}. Nothing to commit.${still}`),
      inChannel: false,
    };
  }
  const text =
    `${mention(userId)} unpinned ${esc(outcome.stage.displayName)} for ${esc(outcome.consumer.name)} (was ${esc(outcome.previous ?? 'none')}) — ` +
    `commit ${shortSha(outcome.commit)}${outcome.branch ? ` on branch ${code(outcome.branch)}, ready for review` : ''}${freezeOverriddenText(outcome)}.${still}`;
  return { message: mrkdwnMessage(text), inChannel: true };
}

/** An admin's `force` through a freeze, said in the landed change's answer. */
function freezeOverriddenText(outcome: { consumer: { name: string }; freezeOverridden?: Freeze }): string {
  const freeze = outcome.freezeOverridden;
  return freeze ? `. The freeze was overridden by an admin (force): ${esc(outcome.consumer.name)} is ${frozenByText(freeze, { esc, mention })}` : '';
}

/** `/smv diff`: modules added/removed, columns added/removed/retyped. */
/** What each change class means to a consumer, one line. */
export const CHANGE_CLASS_LINE: Record<ChangeClass, string> = {
  none: 'Change class: *none* — same modules and columns.',
  compatible: 'Change class: *compatible* — only additions and widenings; code reading the previous version keeps working.',
  breaking: ':warning: Change class: *breaking* — something was removed or retyped; check the modules that read it before adopting.',
};

export function renderDiff(diff: VersionDiff, stageName: string): SlackMessage {
  const name = esc(stageName);
  const title = `${name}: ${esc(diff.from)} → ${esc(diff.to)}`;
  if (!diff.fromHasStage && !diff.toHasStage) {
    return mrkdwnMessage(`Neither ${code(diff.from)} nor ${code(diff.to)} holds modules of ${name}. Check the versions with \`/smv releases ${name}\`.`);
  }
  if (diff.identical) return mrkdwnMessage(`*${title}*: no module or column changes (change class: none).`);
  const change = classifyDiff(diff);
  const lines: string[] = [CHANGE_CLASS_LINE[change.class]];
  for (const fqn of diff.modulesAdded) lines.push(`:heavy_plus_sign: module ${code(fqn)}`);
  for (const fqn of diff.modulesRemoved) lines.push(`:heavy_minus_sign: module ${code(fqn)}`);
  for (const m of diff.modulesChanged) {
    const parts = [
      ...m.added.map((c) => `+ ${code(c.name)} ${esc(c.type)}`),
      ...m.removed.map((c) => `− ${code(c.name)} ${esc(c.type)}`),
      ...m.retyped.map((c) => `~ ${code(c.name)} ${esc(c.from)} → ${esc(c.to)}`),
    ];
    lines.push(`*${code(m.fqn)}*\n${parts.map((p) => `   ${p}`).join('\n')}`);
  }
  if (diff.columnsUnknown.length) {
    lines.push(`_Columns unknown (no readable .meta/.schema) for: ${diff.columnsUnknown.map((f) => code(f)).join(', ')}_`);
    for (const why of diff.columnsUnknownWhy.slice(0, 5)) lines.push(`   ${esc(why)}`);
  }
  if (diff.modulesUnchanged.length) lines.push(`_${plural(diff.modulesUnchanged.length, 'module')} unchanged_`);
  return mrkdwnMessage(`${title}\n${lines.join('\n')}`, [`*${title}*`, ...lines]);
}
