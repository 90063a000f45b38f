// Which of a consumer's repo files decide its pins, in the order its SMV release merges them, and
// reading a stage's effective pin from them (SPEC §2 "Which SMV reads what").
import path from 'node:path/posix';
import {
  effectiveConnectionPinIn,
  effectiveStagePinIn,
  layerSources,
  propsDialect,
  UNPINNED,
  type ConfigLayer,
  type PropsDialect,
  type StagePinRules,
} from '../domain/pins.ts';
import type { EffectivePin, PropsSource, Stage } from '../domain/types.ts';
import { appConfPathFor, connectionsPropsPathFor, pinTargetOf, releaseOf, type ConsumerSpec } from './topology.ts';

export { appConfPathFor } from './topology.ts';

/** File texts by repo path; null when the file does not exist. */
export type RepoTexts = ReadonlyMap<string, string | null>;

/** The props file SMV merges that no repo holds: it lives on the machine that runs SMV. */
export const HOME_CONF = '~/.smv/smv-user-conf.props';

const RUNTIME_CONFIG_KEY = 'smv.runtimeConfigFile';

export function dialectOf(consumer: ConsumerSpec): PropsDialect {
  return propsDialect(releaseOf(consumer).dialect);
}

/** How the consumer's SMV decodes its props files: Java falls back to ISO-8859-1, Python SMV needs UTF-8. */
export function propsEncodingOf(consumer: ConsumerSpec): 'java' | 'utf8' {
  return releaseOf(consumer).dialect === 'jprops' ? 'utf8' : 'java';
}

export function stageRulesOf(consumer: ConsumerSpec): StagePinRules {
  const release = releaseOf(consumer);
  return { dialect: propsDialect(release.dialect), stageKeys: release.stageKeys };
}

/** SMV's app dir: the folder holding `conf/` (paths in the props are relative to it). */
function appDirOf(confPath: string): string {
  return path.dirname(path.dirname(confPath));
}

/** The file a pin change of this consumer edits and commits. */
export function pinFileOf(consumer: ConsumerSpec): string {
  const target = pinTargetOf(consumer, '');
  return target.style === 'connection' ? target.connectionsPath : consumer.confPath;
}

/** The repo files read before anything else: app conf, connections file, user conf and the pin file, each once. */
export function pinFilePathsOf(consumer: ConsumerSpec): string[] {
  const release = releaseOf(consumer);
  const paths = [appConfPathFor(consumer.confPath), consumer.confPath, pinFileOf(consumer)];
  if (release.layers.includes('connections')) paths.push(connectionsPropsPathFor(consumer.confPath));
  return [...new Set(paths)];
}

/**
 * The file the app conf names in `smv.runtimeConfigFile` (v2r12+; SMV joins it to the app dir):
 * a repo path, or `outside` when it is absolute or leaves the repo (the bot cannot read it).
 */
export function runtimeConfigOf(consumer: ConsumerSpec, texts: RepoTexts): { repoPath: string } | { outside: string } | null {
  const release = releaseOf(consumer);
  if (!release.layers.includes('runtime')) return null;
  const appText = texts.get(appConfPathFor(consumer.confPath)) ?? null;
  if (appText === null) return null;
  const named = dialectOf(consumer).parse(appText).entries.findLast((e) => e.key === RUNTIME_CONFIG_KEY)?.value;
  if (named === undefined) return null;
  if (named.startsWith('/')) return { outside: named };
  const joined = path.normalize(path.join(appDirOf(consumer.confPath), named));
  if (joined === '..' || joined.startsWith('../') || joined === '.' || named === '') return { outside: named };
  return { repoPath: joined };
}

/** Reads every file that decides the consumer's pins: the fixed ones, then the runtime config file they name. */
export async function readPinFiles(consumer: ConsumerSpec, read: (paths: readonly string[]) => Promise<readonly (string | null)[]>): Promise<RepoTexts> {
  const paths = pinFilePathsOf(consumer);
  const contents = await read(paths);
  const texts = new Map(paths.map((p, i) => [p, contents[i] ?? null]));
  const runtime = runtimeConfigOf(consumer, texts);
  if (runtime && 'repoPath' in runtime && !texts.has(runtime.repoPath)) {
    const [text] = await read([runtime.repoPath]);
    texts.set(runtime.repoPath, text ?? null);
  }
  return texts;
}

/** The consumer's files in its SMV's merge order (lowest first), the pin file's place among them, and what the bot cannot see. */
export interface ConsumerLayers {
  layers: ConfigLayer[];
  /** Index of the pin file in `layers`; -1 when this SMV release does not read it. */
  target: number;
  /** Files SMV also merges that no repo read can show: ~/.smv, a runtime config file outside the repo. */
  unseen: string[];
}

export function consumerLayersOf(consumer: ConsumerSpec, texts: RepoTexts): ConsumerLayers {
  const release = releaseOf(consumer);
  const unseen = [HOME_CONF];
  const order: { source: PropsSource; path: string }[] = [];
  for (const kind of release.layers) {
    if (kind === 'app') order.push({ source: 'app', path: appConfPathFor(consumer.confPath) });
    else if (kind === 'connections') order.push({ source: 'connections', path: connectionsPropsPathFor(consumer.confPath) });
    else if (kind === 'user') order.push({ source: 'user', path: consumer.confPath });
    else if (kind === 'runtime') {
      const runtime = runtimeConfigOf(consumer, texts);
      if (runtime && 'repoPath' in runtime) order.push({ source: 'runtime', path: runtime.repoPath });
      else if (runtime) unseen.push(runtime.outside);
    }
  }
  // A file named twice counts at its later place: SMV reads it in both, and the later read wins.
  const kept = order.filter((l, i) => !order.slice(i + 1).some((later) => later.path === l.path));
  const layers = kept.map((l) => ({ ...l, text: texts.get(l.path) ?? null }));
  const pinFile = pinFileOf(consumer);
  return { layers, target: layers.findIndex((l) => l.path === pinFile), unseen };
}

/** Reads every stage's effective pin from one read of the files (each file parsed once). */
export function pinReaderFor(consumer: ConsumerSpec, texts: RepoTexts): (stage: Stage) => EffectivePin {
  const sources = layerSources(consumerLayersOf(consumer, texts).layers, dialectOf(consumer));
  if (releaseOf(consumer).pins === 'stage') {
    const rules = stageRulesOf(consumer);
    return (stage) => effectiveStagePinIn(stage, sources, rules);
  }
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
