// Shows Slack messages in a terminal the way a person sees them in Slack: mrkdwn rendered
// lightly (bold/italic/code marks dropped, mentions and dates resolved) and Block Kit laid
// out as text, with buttons as `[ Adopt geo ]`.

export interface Directory {
  userName(id: string): string;
  channelName(id: string): string;
}

const EMOJI: Record<string, string> = {
  pushpin: '📌',
  warning: '⚠️',
  heavy_plus_sign: '+',
  heavy_minus_sign: '−',
  white_check_mark: '✅',
  x: '❌',
  tada: '🎉',
  package: '📦',
};

/** Slack mrkdwn → plain terminal text. */
export function renderMrkdwn(text: string, dir: Directory): string {
  return (
    text
      .replace(/```\n?([\s\S]*?)\n?```/g, '$1')
      .replace(/<([^<>]+)>/g, (_all, inner: string) => renderAngle(inner, dir))
      // Emphasis only when it wraps words, so `_SUCCESS` and `a*b` survive.
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/`([^`\n]*)`/g, '$1')
      .replace(/:([a-z0-9_+-]+):/g, (all, name: string) => EMOJI[name] ?? all)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  );
}

// `<@U1>`, `<#C1|name>`, `<!date^…|fallback>`, `<!here>`, `<https://x|label>`.
function renderAngle(inner: string, dir: Directory): string {
  const [target = '', label] = inner.split('|', 2) as [string, string | undefined];
  if (target.startsWith('@')) return `@${label ?? dir.userName(target.slice(1))}`;
  if (target.startsWith('#')) return `#${label ?? dir.channelName(target.slice(1))}`;
  if (target.startsWith('!date^')) return label ?? target;
  if (target.startsWith('!')) return `@${target.slice(1).split('^')[0]}`;
  return label ? `${label} (${target})` : target;
}

interface TextObject {
  type?: string;
  text?: string;
}

interface Element {
  type?: string;
  text?: TextObject | string;
  confirm?: { title?: TextObject; text?: TextObject };
}

interface Block {
  type?: string;
  text?: TextObject;
  fields?: TextObject[];
  elements?: Element[];
  accessory?: Element;
}

function textOf(obj: TextObject | string | undefined, dir: Directory): string {
  if (typeof obj === 'string') return obj;
  if (!obj?.text) return '';
  return obj.type === 'mrkdwn' ? renderMrkdwn(obj.text, dir) : obj.text;
}

/** A field is `*Label*\nvalue`: shown as `Label: value`. */
function fieldLine(field: TextObject, dir: Directory): string {
  const [label = '', ...rest] = textOf(field, dir).split('\n');
  return rest.length ? `${label}: ${rest.join(' ')}` : label;
}

/** Slack lays section fields out in two columns. */
function twoColumns(cells: string[]): string[] {
  const width = Math.max(0, ...cells.filter((_, i) => i % 2 === 0).map((c) => c.length)) + 4;
  const rows: string[] = [];
  for (let i = 0; i < cells.length; i += 2) rows.push(cells[i + 1] === undefined ? cells[i]! : cells[i]!.padEnd(width) + cells[i + 1]);
  return rows;
}

function button(el: Element, dir: Directory): string[] {
  const lines = [`[ ${textOf(el.text, dir)} ]`];
  if (el.confirm) {
    const title = textOf(el.confirm.title, dir);
    const body = textOf(el.confirm.text, dir);
    lines.push(`  (clicking asks first: "${title}" ${body})`);
  }
  return lines;
}

function blockLines(block: Block, dir: Directory): string[] {
  switch (block.type) {
    case 'header': {
      const title = textOf(block.text, dir);
      return [title, '‾'.repeat(Math.min(title.length, 72))];
    }
    case 'section': {
      const lines = block.text ? textOf(block.text, dir).split('\n') : [];
      lines.push(...twoColumns((block.fields ?? []).map((f) => fieldLine(f, dir))));
      if (block.accessory?.type === 'button') lines.push(`[ ${textOf(block.accessory.text, dir)} ]`);
      return lines;
    }
    case 'context':
      // Context elements are text objects themselves (or images, which have no text).
      return [(block.elements ?? []).map((e) => textOf(e as TextObject, dir)).filter(Boolean).join('  ')];
    case 'divider':
      return ['────────'];
    case 'actions':
      return (block.elements ?? []).flatMap((el) => (el.type === 'button' ? button(el, dir) : [`[ ${textOf(el.text, dir) || el.type} ]`]));
    default:
      return block.text ? textOf(block.text, dir).split('\n') : [];
  }
}

/** The lines of a message as Slack shows it: its blocks when it has some, else its text. */
export function renderMessage(message: { text?: unknown; blocks?: unknown }, dir: Directory): string[] {
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Block[]) : [];
  if (blocks.length) return blocks.flatMap((b) => blockLines(b, dir));
  return typeof message.text === 'string' ? renderMrkdwn(message.text, dir).split('\n') : [];
}

/** A message framed like a chat bubble: who/where on top, the body indented with a bar. */
export function messageBox(heading: string, lines: string[]): string {
  return [`  ┌ ${heading}`, ...lines.map((l) => (l ? `  │ ${l}` : '  │')), '  └'].join('\n');
}
