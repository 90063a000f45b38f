import type { Metrics } from '../core/metrics.ts';
import type { RetentionReport } from '../core/retention.ts';
import type { AdoptService } from '../core/adopt.ts';
import type { FreezeService } from '../core/freezes.ts';
import type { ReleaseLifecycle } from '../core/lifecycle.ts';
import type { VersionCatalog } from '../core/catalog.ts';
import type { InspectVersion } from '../core/diff.ts';
import type { PinsService } from '../core/pinsReport.ts';
import type { Topology } from '../core/topology.ts';
import type { Actor, AdoptionFilter, AdoptionRecord, QueuedCommand } from '../domain/records.ts';
import type { SlackMessage } from './render/format.ts';

/** Everything the Slack listeners call: use cases and read models, passed in (never imported). */
export interface BotServices {
  topology: Topology;
  catalog: VersionCatalog;
  adopt: AdoptService;
  lifecycle: ReleaseLifecycle;
  /** Change freezes (`/smv freeze`, `/smv unfreeze`). */
  freezes: FreezeService;
  pins: PinsService;
  adoptions(filter: AdoptionFilter): Promise<AdoptionRecord[]>;
  /** Commands answered, for GET /metrics (durable ones are counted by the runner). */
  metrics?: Pick<Metrics, 'command'>;
  /** Which complete versions of a publisher no consumer pins, and which are pinned by whom (reads every consumer repo). */
  retention(publisher: string): Promise<RetentionReport | { unknownPublisher: string; publishers: string[] }>;
  inspectVersion: InspectVersion;
  /** The clock soak times are counted against on the App Home (default: the real one). */
  now?: () => Date;
  /** The Slack user with their real name (users.info; the id when Slack cannot tell): who a commit is for. */
  actor(userId: string): Promise<Actor>;
  /** Writes a command that changes something to the state store (before its ack) and wakes the runner. */
  commands: { enqueue(command: Omit<QueuedCommand, 'attempts'>): Promise<void> };
  /** Posts a message the bot wrote into a channel (deprecation notices). */
  post(channel: string, message: SlackMessage): Promise<void>;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

/** A reply as Slack's ack/respond take it. */
export interface Reply extends SlackMessage {
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
}

export type AckFn = (reply?: Reply) => Promise<void>;
export type RespondFn = (reply: Reply) => Promise<unknown>;

export function ephemeral(message: SlackMessage): Reply {
  return { response_type: 'ephemeral', ...message };
}

export function inChannel(message: SlackMessage): Reply {
  return { response_type: 'in_channel', replace_original: false, ...message };
}
