#!/usr/bin/env node
// `npx smvbot pins|adopt|unpin … --dir <checkout>` (SPEC §7): the bot's own pin reading and editing
// on a local checkout of a consumer repo, with the topology from SMVBOT_CONFIG. No git, no Slack:
// what SMV of the consumer's release will read, and the edit the bot would commit.
import path from 'node:path';
import { consumerLayersOf, HOME_CONF, pinLabel, pinReaderFor, propsEncodingOf, readPinFiles, type RepoTexts } from './core/consumerPins.ts';
import { planPinEdit, type PinChange } from './core/pinPlan.ts';
import { Topology, type ConsumerSpec } from './core/topology.ts';
import type { EffectivePin, Refusal } from './domain/types.ts';
import { UNPINNED } from './domain/pins.ts';
import { validateVersionString } from './domain/validation.ts';
import { CheckoutFiles } from './infra/git/checkoutFiles.ts';
import { CONFIG_EXIT_CODE, formatConfigProblems, loadConfig } from './infra/config/index.ts';
import { PLAIN_TEXT, refusalText } from './slack/render/refusals.ts';

const USAGE = `Usage (topology from SMVBOT_CONFIG, default ./smvbot.yml):
  smvbot pins <consumer> --dir <checkout> [--json]
  smvbot adopt <consumer> <stage> <version> --dir <checkout> [--json]
  smvbot unpin <consumer> <stage> --dir <checkout> [--json]`;

const CAVEAT = `SMV also merges ${HOME_CONF} on the machine that runs it, which smvbot cannot see: a pin set there would change this.`;

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const dirAt = argv.indexOf('--dir');
  const dir = dirAt >= 0 ? argv[dirAt + 1] : undefined;
  const words = argv.filter((a, i) => a !== '--json' && i !== dirAt && i !== dirAt + 1);
  const [command, consumerName, ...rest] = words;
  const arity = command === 'pins' ? 0 : command === 'adopt' ? 2 : command === 'unpin' ? 1 : -1;
  if (arity < 0 || consumerName === undefined || rest.length !== arity || dir === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return CONFIG_EXIT_CODE;
  }
  const loaded = loadConfig({ requireSlack: false });
  if (!loaded.ok) {
    process.stderr.write(`${formatConfigProblems(loaded.problems)}\n`);
    return CONFIG_EXIT_CODE;
  }
  const { config } = loaded;
  const topology = new Topology(config.publishers, config.consumers, config.admins);
  const consumer = topology.consumer(consumerName);
  if (!consumer) {
    process.stderr.write(`There is no consumer called ${consumerName} in ${config.configPath}. Known consumers: ${config.consumers.map((c) => c.name).join(', ')}.\n`);
    return CONFIG_EXIT_CODE;
  }
  const checkout = new CheckoutFiles(path.resolve(dir), propsEncodingOf(consumer));
  let texts: RepoTexts;
  try {
    texts = await readPinFiles(consumer, async (paths) => paths.map((p) => checkout.read(p)));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  if (command === 'pins') return printPins(consumer, topology, texts, json);

  const refuse = (refusal: Refusal): number => {
    const text = refusalText(refusal, PLAIN_TEXT);
    process.stdout.write(json ? `${JSON.stringify({ refused: text })}\n` : `Refused: ${text}\n`);
    return 1;
  };
  const stage = topology.resolveStage(rest[0]!);
  if (!stage.ok) return refuse(stage);
  const version = command === 'adopt' ? rest[1]! : null;
  const invalid = version === null ? null : validateVersionString(version);
  if (invalid) return refuse(invalid);
  const change: PinChange = { action: command === 'adopt' ? 'adopt' : 'unpin', consumer, stage: stage.stage, to: version, actor: { id: 'cli', name: 'smvbot cli' } };
  const edit = planPinEdit(change, texts, topology.stages);
  if (!edit.ok) return refuse(edit);
  if (edit.changed) checkout.write(edit.file, edit.text);
  const effective = version ?? pinLabel(edit.stillPinnedBy ?? UNPINNED);
  const result = { changed: edit.changed, file: edit.file, previous: pinLabel(edit.previous), effective };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const what = version === null ? `unpinned ${stage.stage.displayName}` : `pinned ${stage.stage.displayName} to ${version}`;
    process.stdout.write(
      `${edit.changed ? `Edited ${edit.file}: ${what}` : `Nothing to change in ${edit.file}: already ${version === null ? 'not pinned there' : 'pinned'}`} ` +
        `(was ${result.previous ?? 'none'}; SMV ${consumer.smvVersion ?? ''} now reads ${effective ?? 'no pin'}).\n${CAVEAT}\n`,
    );
  }
  return 0;
}

function printPins(consumer: ConsumerSpec, topology: Topology, texts: RepoTexts, json: boolean): number {
  const read = pinReaderFor(consumer, texts);
  const { layers } = consumerLayersOf(consumer, texts);
  const fileOf = (pin: EffectivePin) => pin.file ?? layers.find((l) => l.source === pin.source)?.path ?? null;
  const pins = topology.stages.map((stage) => ({ stage: stage.displayName, pin: read(stage) }));
  if (json) {
    const out = pins.map(({ stage, pin }) => ({ stage, version: pin.version, file: pin.key === null ? null : fileOf(pin), key: pin.key }));
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  const lines = pins.map(({ stage, pin }) => {
    const why = pin.unlisted ? 'not read: the stage is not in smv.stages' : pin.key === null ? 'not pinned' : `${pin.key} in ${fileOf(pin)}`;
    const value = pin.version ?? (pin.unmanaged ? `${pin.path} (not <smvPublishDir>/<version>${pin.connectionType !== undefined ? `; ${pin.key?.replace(/path$/, 'type')} is ${pin.connectionType ?? 'unset'}` : ''})` : '-');
    return `${stage}\t${value}\t(${why})`;
  });
  process.stdout.write(`What SMV ${consumer.smvVersion ?? ''} of ${consumer.name} reads:\n${lines.join('\n')}\n${CAVEAT}\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
