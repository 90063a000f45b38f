// The `/smv` subcommands come from one registry (src/slack/commands/index.ts): `/smv help` and the
// slash command's usage hint in manifest.yml are made from it, and each file of the folder is one
// registered subcommand, so adding one touches its own file and the list.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSmvCommand } from '../src/slack/commandParser.ts';
import { COMMANDS, USAGE, USAGE_HINT } from '../src/slack/commands/index.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMMANDS_DIR = path.join(PROJECT, 'src/slack/commands');

describe('the command registry', () => {
  it('gives manifest.yml its usage hint: regenerated, it is what the manifest says', () => {
    const manifest = parse(fs.readFileSync(path.join(PROJECT, 'manifest.yml'), 'utf8')) as {
      features: { slash_commands: { command: string; usage_hint: string }[] };
    };
    const smv = manifest.features.slash_commands.find((c) => c.command === '/smv');
    // On a difference, paste the received hint into manifest.yml.
    expect(smv?.usage_hint).toBe(USAGE_HINT);
  });

  it('makes the help text, word for word as before the registry (a new subcommand adds its line)', () => {
    const before = [
      '*smvbot* announces complete SMV stage versions and pins them in consumer repos.',
      '• `/smv releases [stage]` — newest complete versions per stage, with completion time and module count. Examples: `/smv releases`, `/smv releases geo`.',
      "• `/smv pins [consumer]` — the consumer's effective pin per stage and how far behind latest it is. Examples: `/smv pins`, `/smv pins client-model`.",
      "• `/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]` — pin a published version in the consumer's repo (commit and push); several stages are one commit, all or nothing. Examples: `/smv adopt geo TCD.20160802.geo`, `/smv adopt geo latest`, `/smv adopt geo latest client-model`, `/smv adopt geo TCD.20160802.geo cms latest client-model`.",
      '• `/smv unpin &lt;stage&gt; [consumer]` — remove the pin so the stage runs live code again. Examples: `/smv unpin geo`, `/smv unpin geo client-model`.',
      '• `/smv diff &lt;stage&gt; &lt;version1&gt; &lt;version2&gt;` — modules and columns added, removed or retyped between two versions. Example: `/smv diff geo TCD.20160801.geo TCD.20160802.geo`.',
      '• `/smv history [stage] [consumer]` — recent adoptions: who, when, from → to, commit. Examples: `/smv history`, `/smv history geo`, `/smv history geo client-model`, `/smv history * client-model`.',
      '• `/smv deprecate &lt;stage&gt; &lt;version&gt; [reason…]` — publisher owners and admins: take a version back; its announcements say so, consumers pinned to it are told, and it can no longer be adopted. Example: `/smv deprecate geo TCD.20160802.geo zip codes shifted by one`.',
      '• `/smv undeprecate &lt;stage&gt; &lt;version&gt;` — reverse a deprecation. Example: `/smv undeprecate geo TCD.20160802.geo`.',
      "• `/smv subscribe [stage|*]` — this channel gets announcements of that stage (`*`: every stage); with no argument, lists this channel's subscriptions. Examples: `/smv subscribe geo`, `/smv subscribe *`, `/smv subscribe`.",
      '• `/smv unsubscribe &lt;stage|*&gt;` — this channel stops getting announcements it subscribed to. Examples: `/smv unsubscribe geo`, `/smv unsubscribe *`.',
      '• `/smv help` — this help; name a command for just its usage. Examples: `/smv help`, `/smv help adopt`.',
      '`&lt;stage&gt;` is a stage base name (`geo`) or its full name (`com.acme.geo`). `[consumer]` is needed only when the channel does not decide it. In `/smv history`, use `*` as the stage to see every stage of one consumer.',
    ];
    const lines = USAGE.split('\n');
    expect(lines[0]).toBe(before[0]);
    expect(lines.at(-1)).toBe(before.at(-1));
    expect(lines).toEqual(expect.arrayContaining(before));
  });

  it('has one file per subcommand, named after it, each in the list once', () => {
    const files = fs
      .readdirSync(COMMANDS_DIR)
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'command.ts')
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    const names = COMMANDS.map((c) => c.name);
    expect([...names].sort()).toEqual(files);
    expect(new Set(names).size).toBe(names.length);
  });

  it('parses every example of a subcommand to that subcommand', () => {
    for (const command of COMMANDS) {
      for (const example of command.examples) expect(parseSmvCommand(example.replace(/^\/smv\s*/, '')).kind, example).toBe(command.name);
    }
  });
});
