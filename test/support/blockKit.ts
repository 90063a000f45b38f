// Block Kit as the tests read it from what the bot sent (messages, Home views): the few fields
// they look at, and the text a person reads.

export interface Button {
  type?: string;
  action_id: string;
  value: string;
  text: { text: string };
  confirm?: { text: { text: string } };
}

export interface Block {
  type: string;
  text?: { type?: string; text: string };
  elements?: (Button | { type?: string; text?: string })[];
  accessory?: Button;
}

/** Every text a person reads in `blocks` (section and header text, context elements), one block per paragraph. */
export function readableBlocks(blocks: readonly Block[]): string {
  return blocks
    .map((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : ''))].filter(Boolean).join('\n'))
    .filter(Boolean)
    .join('\n');
}
