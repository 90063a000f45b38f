import { diffStageVersions } from '../../core/diff.ts';
import { listReleases } from '../../core/releases.ts';
import type { KnownStage } from '../../core/topology.ts';
import { parseSmvCommand, resolveHistoryArgs, USAGE, usageOf, type SmvCommand } from '../commandParser.ts';
import { renderAdoptOutcome, renderDiff, renderHistory, renderPins, renderReleases, renderUnpinOutcome } from '../render/answers.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { ephemeral, inChannel, type AckFn, type BotServices, type RespondFn } from '../services.ts';

export interface SmvCommandInput {
  text: string;
  userId: string;
  channelId: string;
}

/**
 * `/smv …`. Fast answers (help, history, mistakes) go in the ack itself; anything that reads
 * git or disk is acked at once and answered through `response_url`, well inside Slack's 3 s.
 */
export async function handleSmvCommand(services: BotServices, input: SmvCommandInput, ack: AckFn, respond: RespondFn): Promise<void> {
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === 'error') return ack(ephemeral(mrkdwnMessage(parsed.message)));
  if (parsed.kind === 'help') return ack(ephemeral(mrkdwnMessage(parsed.topic ? usageOf(parsed.topic) : USAGE)));
  if (parsed.kind === 'history') return ack(history(services, input, parsed.args));

  const early = refuseEarly(services, input, parsed);
  if (early) return ack(ephemeral(mrkdwnMessage(early)));

  await ack();
  try {
    await respond(await slowAnswer(services, input, parsed));
  } catch (error) {
    services.log.error({ err: error, command: parsed.kind }, 'command failed');
    const gist = services.gitErrorGist(error);
    const why = gist ? `git said: ${gist}` : 'an unexpected error (it is in the bot log)';
    await respond(ephemeral(mrkdwnMessage(`Sorry, \`/smv ${input.text.trim()}\` failed: ${why}. Try again, or ask an admin to check the bot.`)));
  }
}

type SlowCommand = Exclude<SmvCommand, { kind: 'help' } | { kind: 'history' }>;

/** Mistakes we can spot without I/O: unknown stage or consumer. Answered in the ack. */
function refuseEarly(services: BotServices, input: SmvCommandInput, cmd: SlowCommand): string | null {
  const { topology } = services;
  if ('stage' in cmd && cmd.stage !== undefined) {
    const stage = topology.resolveStage(cmd.stage);
    if (!stage.ok) return stage.message;
  }
  if (cmd.kind === 'pins' || cmd.kind === 'adopt' || cmd.kind === 'unpin') {
    const consumer = topology.resolveConsumer(cmd.consumer, input.channelId);
    if (!consumer.ok) return consumer.message;
  }
  return null;
}

async function slowAnswer(services: BotServices, input: SmvCommandInput, cmd: SlowCommand) {
  const { topology } = services;
  const stageOf = (typed: string): KnownStage => (topology.resolveStage(typed) as { stage: KnownStage }).stage;
  const consumerOf = (explicit: string | undefined) => {
    const resolved = topology.resolveConsumer(explicit, input.channelId);
    if (!resolved.ok) throw new Error(resolved.message);
    return resolved.consumer.name;
  };
  switch (cmd.kind) {
    case 'releases':
      return releases(services, input, cmd.stage === undefined ? undefined : stageOf(cmd.stage));
    case 'pins': {
      const consumer = topology.consumer(consumerOf(cmd.consumer))!;
      const report = await services.pins.report(consumer);
      return ephemeral(renderPins(consumer.name, consumer.branch, report.stages));
    }
    case 'adopt': {
      const outcome = await services.adopt.adopt({ consumer: consumerOf(cmd.consumer), stage: cmd.stage, version: cmd.version, userId: input.userId });
      const { message, inChannel: public_ } = renderAdoptOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'unpin': {
      const outcome = await services.adopt.unpin({ consumer: consumerOf(cmd.consumer), stage: cmd.stage, userId: input.userId });
      const { message, inChannel: public_ } = renderUnpinOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'diff': {
      const stage = stageOf(cmd.stage);
      const result = await diffStageVersions(services.inspectVersion, stage, cmd.from, cmd.to);
      return ephemeral(result.ok ? renderDiff(result.diff, stage.displayName) : mrkdwnMessage(result.message));
    }
  }
}

/** Releases, marking the pin of the channel's consumer when there is one to ask. */
async function releases(services: BotServices, input: SmvCommandInput, stage: KnownStage | undefined) {
  const list = listReleases(services.topology, services.catalog, stage ? { stage } : {});
  const consumer = services.topology.resolveConsumer(undefined, input.channelId);
  if (!consumer.ok) return ephemeral(renderReleases(list, null));
  try {
    const files = await services.pins.confFiles(consumer.consumer);
    const pins = new Map(list.map(({ stage: s }) => [s.fqn, services.pins.pinOf(files, s).version]));
    return ephemeral(renderReleases(list, { consumer: consumer.consumer.name, pins }));
  } catch (error) {
    const gist = services.gitErrorGist(error);
    if (gist === null) throw error;
    return ephemeral(renderReleases(list, null, `Could not read ${consumer.consumer.name}'s pins (${gist}), so they are not marked.`));
  }
}

/** `/smv history [stage] [consumer]`: the channel's consumer by default, else every consumer. */
function history(services: BotServices, input: SmvCommandInput, args: readonly string[]) {
  const { topology } = services;
  const resolved = resolveHistoryArgs(args, {
    isStage: (name) => {
      const r = topology.resolveStage(name);
      return r.ok || r.code === 'ambiguous-stage';
    },
    consumers: topology.consumers.map((c) => c.name),
  });
  if (resolved.kind === 'error') return ephemeral(mrkdwnMessage(resolved.message));
  let stageFqn: string | undefined;
  if (resolved.stage !== undefined) {
    const stage = topology.resolveStage(resolved.stage);
    if (!stage.ok) return ephemeral(mrkdwnMessage(stage.message));
    stageFqn = stage.stage.fqn;
  }
  let consumer = resolved.consumer;
  if (consumer !== undefined) {
    const found = topology.resolveConsumer(consumer, undefined);
    if (!found.ok) return ephemeral(mrkdwnMessage(found.message));
  } else if (args.length < 2) {
    const bound = topology.consumersForChannel(input.channelId);
    if (bound.length === 1) consumer = bound[0]!.name;
  }
  const records = services.adoptions({ ...(stageFqn ? { stage: stageFqn } : {}), ...(consumer ? { consumer } : {}), limit: 15 });
  const scope = [stageFqn ? ` of ${topology.stage(stageFqn)?.displayName ?? stageFqn}` : '', consumer ? ` for ${consumer}` : ''].join('');
  return ephemeral(renderHistory(records, topology, scope));
}
