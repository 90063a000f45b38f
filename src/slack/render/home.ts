import type { Button, HomeView, KnownBlock } from '@slack/types';
import { code, esc } from './mrkdwn.ts';
import type { Dashboard, DashboardConsumer, DashboardRow } from '../../core/dashboard.ts';
import { clip, plural, slackDate, type SlackMessage } from './format.ts';
import { frozenByText } from './freezeWords.ts';
import { pinIssueText } from './pinIssues.ts';

/** App Home Adopt buttons: their value names the consumer too (a Home tab has no channel to decide it). */
export const HOME_ADOPT_ACTION_PREFIX = 'smv_home_adopt';
/** Slack's limit of blocks in a Home tab view. */
export const MAX_HOME_BLOCKS = 100;
const TEXT_MAX = 2900;

export interface HomeAdoptValue {
  consumer: string;
  stage: string;
  version: string;
}

export function parseHomeAdoptValue(raw: string | undefined): HomeAdoptValue | null {
  try {
    const v = JSON.parse(raw ?? '') as Partial<HomeAdoptValue>;
    return typeof v.consumer === 'string' && typeof v.stage === 'string' && typeof v.version === 'string' ? { consumer: v.consumer, stage: v.stage, version: v.version } : null;
  } catch {
    return null;
  }
}

/** One stage as a line of the table, and its button when there is something newer to adopt. */
interface Row {
  text: string;
  button?: Button;
}

/**
 * The dashboard: per consumer the user may adopt for, stage × pin × latest × behind × warnings,
 * with Adopt latest where behind. Within 100 blocks: stages without a button share blocks, and
 * when the whole does not fit each consumer gets a fair share ending in "… and N more".
 */
export function renderDashboard(dashboard: Dashboard, now: Date, notice?: string): HomeView {
  const top: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'smvbot — pins of your consumers' } },
    context(
      `${dashboard.admin ? 'You are an admin: every consumer is shown.' : 'The consumers that list you as an adopter.'} ` +
        `Updated ${slackDate(now.toISOString())}; pins are read from each consumer's branch (a read from the last 30 s is reused). ` +
          "SMV also merges `~/.smv/smv-user-conf.props` on the machine that runs it, which smvbot cannot see: a pin set there would win.",
    ),
    ...(notice ? [section(notice)] : []),
  ];
  const bottom: KnownBlock[] = [{ type: 'divider' }, context('`/smv releases` lists the versions, `/smv pins` explains each pin, `/smv help` shows every command.')];
  const budget = MAX_HOME_BLOCKS - top.length - bottom.length;
  let buttons = 0;
  const parts = dashboard.consumers.map((c) => consumerPart(c, () => buttons++));
  return { type: 'home', blocks: [...top, ...fit(parts, budget), ...bottom] };
}

/** The Home tab of someone who adopts for no consumer: why, and the releases (read-only, no buttons). */
export function renderStrangerHome(userId: string, admins: readonly string[], releases: SlackMessage, usage: string, notice?: string, noConsumers = false): HomeView {
  const ask = admins.length ? `Ask an admin (${admins.slice(0, 5).map((a) => `<@${a}>`).join(', ')})` : 'Ask whoever runs smvbot';
  const why = noConsumers
    ? 'No consumers are configured yet (`consumers:` in smvbot.yml), so there are no pins to show; here are the latest releases.'
    : `You do not adopt for any consumer, so this page shows the latest releases only. ${ask} to add your Slack user id ` +
      `(${esc(userId)}) to a consumer's \`adopters\` in smvbot.yml to see its pins and Adopt buttons here.`;
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'smvbot — SMV stage releases' } },
      ...(notice ? [section(notice)] : []),
      section(why),
      ...(releases.blocks ?? []).slice(0, 45),
      { type: 'divider' },
      section(usage),
    ],
  };
}

interface Part {
  /** Blocks before the rows (a divider and the consumer's title). */
  head: KnownBlock[];
  rows: Row[];
  consumer: string;
}

function consumerPart(c: DashboardConsumer, nextButton: () => number): Part {
  const name = esc(c.consumer.name);
  const head: KnownBlock[] = [{ type: 'divider' }];
  if (!c.ok) {
    head.push(section(`*${name}* — its pins could not be read from branch ${code(c.consumer.branch)} (${esc(c.error)}). \`/healthz\` lists the problem.`));
    return { head, rows: [], consumer: c.consumer.name };
  }
  const behind = c.rows.filter((r) => r.behind !== null && r.behind > 0).length;
  const warned = c.rows.filter((r) => r.issues.length > 0).length;
  const state = [behind ? `${behind} behind` : '', warned ? `${warned} with warnings` : ''].filter(Boolean).join(', ') || 'all current';
  // The freeze shares the title's block: every consumer's head stays two blocks (fit counts on it).
  const frozen = c.freeze ? `\n${frozenLine(c.consumer.name, c.freeze)}` : '';
  head.push(section(`*${name}* (branch ${code(c.consumer.branch)}) — ${plural(c.rows.length, 'stage')}: ${state}${frozen}`));
  return { head, rows: c.rows.map((r) => row(c.consumer.name, r, nextButton)), consumer: c.consumer.name };
}

/** A frozen consumer: who froze it, until when and why; its Adopt buttons are withheld meanwhile. */
function frozenLine(consumer: string, freeze: NonNullable<Extract<DashboardConsumer, { ok: true }>['freeze']>): string {
  return (
    `:snowflake: ${esc(consumer)} is ${frozenByText(freeze, { esc, mention: (id) => `<@${id}>` })}: adopts and unpins are refused, so there are no Adopt buttons. ` +
    `${code(`/smv unfreeze ${consumer}`)} ends it.`
  );
}

function row(consumer: string, r: DashboardRow, nextButton: () => number): Row {
  const cells = [`*${esc(r.stage.displayName)}*`];
  // A connection path smvbot does not manage is shown with its value, as `/smv pins` does.
  if (r.pin.unlisted) cells.push("not read (the stage is not in the consumer's smv.stages)");
  else if (r.pin.connectionType !== undefined && r.pin.key !== null) cells.push(`not read: ${esc(r.pin.key.replace(/\.path$/, '.type'))} is ${r.pin.connectionType === null ? 'not set' : code(r.pin.connectionType)}, not hdfs`);
  else if (r.pin.unmanaged) cells.push(`not managed by smvbot: ${esc(r.pin.key ?? '')} = ${r.pin.path ? code(r.pin.path) : 'an empty path'}`);
  else if (r.pin.version === null) cells.push(r.pin.connection !== undefined ? `not pinned (smv.conn.${esc(r.pin.connection)}.path is not set)` : 'not pinned (live code)');
  else cells.push(`pinned ${code(r.pin.version)}`);
  cells.push(r.latest ? `latest ${code(r.latest.version)}` : 'nothing published yet');
  if (r.pin.version !== null && r.behind !== null) cells.push(r.behind === 0 ? 'up to date' : `${r.behind} behind`);
  if (r.adopt && r.latest && r.adopt.version !== r.latest.version) cells.push(`newest adoptable ${code(r.adopt.version)} (newer ones are still soaking)`);
  const text = [cells.join(' · '), ...r.issues.map((issue) => `:warning: ${pinIssueText(issue)}`)].join('\n');
  return { text: clip(text, TEXT_MAX), ...(r.adopt ? { button: adoptButton(consumer, r, r.adopt.version, nextButton()) } : {}) };
}

function adoptButton(consumer: string, r: DashboardRow, version: string, n: number): Button {
  const value: HomeAdoptValue = { consumer, stage: r.stage.fqn, version };
  return {
    type: 'button',
    action_id: `${HOME_ADOPT_ACTION_PREFIX}:${n}`,
    text: { type: 'plain_text', text: 'Adopt latest' },
    value: JSON.stringify(value),
    confirm: {
      title: { type: 'plain_text', text: 'Adopt this version?' },
      text: { type: 'mrkdwn', text: clip(`Pin *${esc(r.stage.displayName)}* to ${code(version)} for *${esc(consumer)}* (a commit pushed to its repo).`, 300) },
      confirm: { type: 'plain_text', text: 'Adopt' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/** Rows as blocks, at most `max`: a row with a button is one section; rows without share sections. */
function pack(rows: readonly Row[], max: number): { blocks: KnownBlock[]; used: number } {
  const blocks: KnownBlock[] = [];
  let open: string | null = null;
  let used = 0;
  const close = () => {
    if (open !== null) blocks.push(section(open));
    open = null;
  };
  for (const r of rows) {
    if (r.button) {
      close();
      if (blocks.length >= max) break;
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(r.text, TEXT_MAX) }, accessory: r.button });
    } else if (open !== null && open.length + 1 + r.text.length <= TEXT_MAX) {
      open += `\n${r.text}`;
    } else {
      close();
      if (blocks.length >= max) break;
      open = r.text;
    }
    used++;
  }
  close();
  return { blocks, used };
}

/**
 * The consumers' blocks within `budget`. When all do not fit, each shown consumer gets a fair
 * share (at least its title) and says how many stages are left out; consumers beyond what can be
 * shown at all are counted in a last line.
 */
function fit(parts: readonly Part[], budget: number): KnownBlock[] {
  const full = parts.map((p) => [...p.head, ...pack(p.rows, Infinity).blocks]);
  if (full.reduce((n, b) => n + b.length, 0) <= budget) return full.flat();
  // Every consumer shown needs its head and a "… and N more" line; the rest are counted at the end.
  const minimum = 3;
  const fitsAll = parts.length * minimum <= budget;
  const room = fitsAll ? budget : budget - 1;
  const shown = fitsAll ? parts.length : Math.max(0, Math.floor(room / minimum));
  const needs = full.slice(0, shown).map((b) => b.length);
  const shares = fairShares(needs, room);
  const out: KnownBlock[] = [];
  parts.slice(0, shown).forEach((p, i) => {
    if (needs[i]! <= shares[i]!) return out.push(...full[i]!);
    const { blocks, used } = pack(p.rows, shares[i]! - p.head.length - 1);
    const left = p.rows.length - used;
    out.push(...p.head, ...blocks, context(`… and ${plural(left, 'more stage')} of ${esc(p.consumer)}: type \`/smv pins ${p.consumer}\` for every stage.`));
  });
  if (shown < parts.length) {
    const rest = parts.slice(shown).map((p) => p.consumer);
    out.push(context(clip(`… and ${plural(rest.length, 'more consumer')}: ${rest.map((n) => code(n)).join(', ')}. Type \`/smv pins &lt;consumer&gt;\` for each.`, 2000)));
  }
  return out;
}

/** Water-filling: consumers needing little get all of it, the others share the rest evenly. */
function fairShares(needs: readonly number[], room: number): number[] {
  const shares = new Array<number>(needs.length).fill(0);
  const order = needs.map((n, i) => [n, i] as const).sort((a, b) => a[0] - b[0]);
  let left = room;
  order.forEach(([need, i], k) => {
    const share = Math.floor(left / (order.length - k));
    shares[i] = Math.min(need, share);
    left -= shares[i]!;
  });
  return shares;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, TEXT_MAX) } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 2000) }] };
}
