// Which of a consumer's repo files decide its pins, and reading a stage's effective pin from
// them, for both pin styles (SPEC §2 "Pins" and "Connection pins").
import path from 'node:path/posix';
import {
  connectionSources,
  effectiveConnectionPinIn,
  effectivePinIn,
  pinSources,
  UNPINNED,
  type ConnectionLayer,
  type ConnectionSources,
  type PinSources,
} from '../domain/pins.ts';
import type { EffectivePin, Stage } from '../domain/types.ts';
import { pinTargetOf, type ConsumerSpec } from './topology.ts';

/** File texts by repo path; null when the file does not exist. */
export type RepoTexts = ReadonlyMap<string, string | null>;

/** The user conf's sibling: SMV merges `conf/smv-app-conf.props` under the user conf. */
export function appConfPathFor(confPath: string): string {
  return path.join(path.dirname(confPath), 'smv-app-conf.props');
}

/** The file a pin change of this consumer edits and commits. */
export function pinFileOf(consumer: ConsumerSpec): string {
  const target = pinTargetOf(consumer, '');
  return target.style === 'connection' ? target.connectionsPath : consumer.confPath;
}

/** Every repo file that decides the consumer's pins, each once: user conf, app conf (and connections file). */
export function pinFilePathsOf(consumer: ConsumerSpec): string[] {
  const paths = [consumer.confPath, appConfPathFor(consumer.confPath), pinFileOf(consumer)];
  return [...new Set(paths)];
}

/**
 * The repo files SMV ≥ 2.2 merges, lowest priority first (app conf, connections file, user conf),
 * and which of them the pin goes into. A file named twice counts at its later place: SMV reads
 * it in both, and the later read wins.
 */
export function connectionLayersOf(consumer: ConsumerSpec, texts: RepoTexts): { layers: ConnectionLayer[]; target: number } {
  const connectionsPath = pinFileOf(consumer);
  const order: { source: ConnectionLayer['source']; path: string }[] = [
    { source: 'app', path: appConfPathFor(consumer.confPath) },
    { source: 'connections', path: connectionsPath },
    { source: 'user', path: consumer.confPath },
  ];
  const kept = order.filter((l, i) => !order.slice(i + 1).some((later) => later.path === l.path));
  const layers = kept.map((l) => ({ ...l, text: texts.get(l.path) ?? null }));
  return { layers, target: layers.findIndex((l) => l.path === connectionsPath) };
}

/** Reads every stage's effective pin from one read of the files (each file parsed once). */
export function pinReaderFor(consumer: ConsumerSpec, texts: RepoTexts): (stage: Stage) => EffectivePin {
  if (consumer.pinStyle !== 'connection') {
    const sources: PinSources = pinSources({ user: texts.get(consumer.confPath) ?? null, app: texts.get(appConfPathFor(consumer.confPath)) ?? null });
    return (stage) => effectivePinIn(stage, sources);
  }
  const sources: ConnectionSources = connectionSources(connectionLayersOf(consumer, texts).layers);
  return (stage) => {
    const target = pinTargetOf(consumer, stage.fqn);
    if (target.style !== 'connection' || target.connection === null) return UNPINNED;
    return effectiveConnectionPinIn({ connection: target.connection, smvPublishDir: target.smvPublishDir }, sources);
  };
}

/** What a pin was, in words for a commit body and the audit log: the version, else an unmanaged path, else null. */
export function pinLabel(pin: EffectivePin): string | null {
  if (pin.version !== null) return pin.version;
  return pin.unmanaged && pin.path ? pin.path : null;
}
