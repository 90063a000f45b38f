// Topology half of the configuration (SPEC §3): the smvbot.yml schemas and the checks across
// items (names, stages, connections), producing the typed publishers and consumers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { appConfPathFor, connectionsPropsPathFor, defaultConnectionsPath, type ConsumerSpec, type PublisherSpec } from '../../core/topology.ts';
import { smvReleaseOf, DEFAULT_CONNECTION_SMV_VERSION, DEFAULT_SMV_VERSION, type SmvRelease } from '../../domain/smvRelease.ts';
import { readStagesFromAppConf } from '../../domain/stages.ts';
import { reporterFor, reportIssue, type Report } from './problems.ts';
import { ALLOWED_KEYS, consumerSchema, publisherSchema, topSchema } from './topologySchema.ts';
import { arrayOrEmpty, checkPath, displayPath, isGitUrl, namesOf, withoutNulls } from './checks.ts';
import { defaultSmvPublishDir, locationText, parsePublishLocation, type PublishLocation } from '../publish/locations.ts';


/** A publisher as validated: core's PublisherSpec, with where its stages came from. */
export interface PublisherConfig extends PublisherSpec {
  /** Absolute path of the SMV app conf the stages were read from. */
  appConf?: string;
  owners: string[];
}

/** A consumer as validated: core's ConsumerSpec with defaults filled in; `pinStyle` is set for connection consumers only. */
export interface ConsumerConfig extends ConsumerSpec {
  minAgeHours: number;
  smvVersion: string;
  pinStyle?: 'connection';
  connections?: Record<string, string>;
}

/** What smvbot.yml decides: schedules, publishers, consumers and admins. */
export interface Topology {
  scan: { schedule: string };
  /** The per-consumer digest of stale pins; null when `digest:` is absent (no digest). */
  digest: { schedule: string } | null;
  publishers: PublisherConfig[];
  consumers: ConsumerConfig[];
  admins: string[];
}

export function readTopology(configPath: string, cwd: string, problems: string[]): Topology | null {
  const shown = displayPath(configPath, cwd);
  const report = reporterFor(shown, problems);

  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? `The topology file ${configPath} does not exist. Copy smvbot.example.yml to ${shown} and edit it, ` +
            'or set SMVBOT_CONFIG to the path of your topology file.'
        : `The topology file ${configPath} cannot be read (${code ?? 'error'}); check that it is a readable file.`,
    );
    return null;
  }

  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    for (const error of doc.errors) report('', `invalid YAML: ${error.message.split('\n')[0]}`);
    return null;
  }
  const raw = withoutNulls(doc.toJS()) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    report('', `must be a mapping with the keys ${ALLOWED_KEYS.top!.join(', ')}; see smvbot.example.yml`);
    return null;
  }

  const baseDir = path.dirname(configPath);
  const top = topSchema.safeParse(raw, { reportInput: true });
  if (!top.success) {
    for (const issue of top.error.issues) reportIssue(issue, [], 'top', ALLOWED_KEYS, report);
    // Still check the items we can reach, so every problem shows up in one run.
  }
  const rawTop = raw as Record<string, unknown>;
  const publisherItems = top.success ? top.data.publishers : arrayOrEmpty(rawTop['publishers']);
  const consumerItems = top.success ? top.data.consumers : arrayOrEmpty(rawTop['consumers']);

  // Items with problems still take part in the cross checks (names, stages) below.
  const publishers: PublisherConfig[] = [];
  const consumers: ConsumerConfig[] = [];
  let itemsOk = true;
  // Connections name stages: they can only be checked once every publisher's stages are known.
  let publishersOk = true;
  publisherItems.forEach((item, i) => {
    const where = `publishers[${i}]`;
    const parsed = publisherSchema.safeParse(item, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, [where], 'publisher', ALLOWED_KEYS, report);
      itemsOk = false;
      publishersOk = false;
      return;
    }
    const resolved = resolvePublisher(parsed.data, baseDir, where, report);
    publishers.push(resolved.publisher);
    itemsOk &&= resolved.ok;
    publishersOk &&= resolved.ok;
  });
  consumerItems.forEach((item, i) => {
    const where = `consumers[${i}]`;
    const parsed = consumerSchema.safeParse(item, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, [where], 'consumer', ALLOWED_KEYS, report);
      itemsOk = false;
      return;
    }
    const resolved = resolveConsumer(parsed.data, baseDir, where, report);
    consumers.push(resolved.consumer);
    itemsOk &&= resolved.ok;
  });

  const duplicatesOk = [
    reportDuplicates('publisher', namesOf(publisherItems), report),
    reportDuplicates('consumer', namesOf(consumerItems), report),
    reportSharedStages(publishers, report),
    publishersOk ? resolveConnections(consumers, publishers, report) : true,
  ].every(Boolean);

  if (!top.success || !itemsOk || !duplicatesOk) return null;
  return { scan: top.data.scan, digest: top.data.digest ?? null, publishers, consumers, admins: top.data.admins };
}

/**
 * A publishDir: a URL of a remote store (checked for shape here; reachability shows in /healthz,
 * a NameNode may be down at start-up) or a local directory, resolved against the file's folder.
 */
function resolvePublishDir(value: string, baseDir: string, where: string, report: Report): PublishLocation | undefined {
  const parsed = parsePublishLocation(value);
  if ('problem' in parsed) {
    report(where, parsed.problem);
    return undefined;
  }
  if (parsed.store !== 'local') return parsed;
  const resolved = path.resolve(baseDir, value);
  const dirProblem = checkPath(resolved, 'directory');
  if (dirProblem) {
    report(where, dirProblem);
    return undefined;
  }
  return { store: 'local', path: resolved };
}

function resolvePublisher(
  p: z.infer<typeof publisherSchema>,
  baseDir: string,
  where: string,
  report: Report,
): { publisher: PublisherConfig; ok: boolean } {
  let ok = true;
  const location = resolvePublishDir(p.publishDir, baseDir, `${where}.publishDir`, report);
  if (location === undefined) ok = false;
  const publishDir = location === undefined ? p.publishDir : locationText(location);

  const stages = [...(p.stages ?? [])];
  let appConf: string | undefined;
  if (p.appConf !== undefined) {
    appConf = path.resolve(baseDir, p.appConf);
    const fileProblem = checkPath(appConf, 'file');
    if (fileProblem) {
      report(`${where}.appConf`, fileProblem);
      ok = false;
    } else {
      try {
        stages.push(...readStagesFromAppConf(readFileSync(appConf, 'utf8')));
      } catch (err) {
        report(`${where}.appConf`, `${appConf} cannot be read as SMV app conf: ${(err as Error).message}`);
        ok = false;
      }
    }
  }
  const uniqueStages = [...new Set(stages)];
  if (ok && uniqueStages.length === 0) {
    report(
      where,
      p.appConf === undefined
        ? 'has no stages: list them under `stages:` (e.g. [com.acme.geo]) or set `appConf:` to the SMV app conf that defines smv.stages'
        : `has no stages: ${appConf} defines no smv.stages; list them under \`stages:\` or fix smv.stages in that file`,
    );
    ok = false;
  }
  const publisher: PublisherConfig = {
    name: p.name,
    publishDir,
    ...(appConf !== undefined && { appConf }),
    stages: uniqueStages,
    channels: p.channels,
    settleSeconds: p.settleSeconds,
    owners: p.owners,
  };
  return { publisher, ok };
}

function resolveConsumer(
  c: z.infer<typeof consumerSchema>,
  baseDir: string,
  where: string,
  report: Report,
): { consumer: ConsumerConfig; ok: boolean } {
  let ok = true;
  let repo = c.repo;
  if (/^ssh:\/\/[^/@\s]*:[^/@\s]*@/i.test(repo)) {
    // git would hand `user:password@host` to ssh on its command line, and ssh cannot use it anyway.
    report(`${where}.repo`, 'an ssh:// URL cannot carry a password; remove it and give the bot an SSH key (README "Giving smvbot access to the consumer repo")');
    ok = false;
  }
  if (!isGitUrl(repo)) {
    repo = path.resolve(baseDir, repo);
    const repoProblem = checkPath(repo, 'directory');
    if (repoProblem) {
      report(
        `${where}.repo`,
        `${repoProblem.split(';')[0]}; give the path of a local git repository (relative to the topology file's folder) ` +
          'or a git URL (git@host:team/repo.git, ssh://…, https://…, file://…)',
      );
      ok = false;
    }
  }
  let publishDir: string | undefined;
  let location: PublishLocation | undefined;
  if (c.publishDir !== undefined) {
    location = resolvePublishDir(c.publishDir, baseDir, `${where}.publishDir`, report);
    if (location === undefined) ok = false;
    publishDir = location === undefined ? c.publishDir : locationText(location);
  }
  const release = resolveRelease(c, where, report);
  if (!release) ok = false;
  const connectionStyle = release?.pins === 'connection';
  const confPath = path.posix.normalize(c.confPath.replaceAll('\\', '/'));
  for (const key of ['connections', 'connectionsPath', 'smvPublishDir'] as const) {
    if (release && !connectionStyle && c[key] !== undefined) {
      report(`${where}.${key}`, `only applies to connection pins (SMV v2r6 and later); SMV ${release.tag} pins stage versions: remove this key or set \`smvVersion\` to the release the consumer runs`);
      ok = false;
    }
  }
  const smvPublishDir = c.smvPublishDir ?? (location ? defaultSmvPublishDir(location) : publishDir);
  if (connectionStyle && smvPublishDir === undefined && location?.store === 's3') {
    report(
      `${where}.smvPublishDir`,
      'is required when publishDir is on S3: give the publish dir as SMV reads it (s3a://bucket/prefix, or s3://bucket/prefix on EMR); pins are written as <smvPublishDir>/<version>',
    );
    ok = false;
  } else if (connectionStyle && smvPublishDir === undefined) {
    report(
      where,
      'connection pins need `smvPublishDir` (the publish dir as SMV names it, e.g. "hdfs:///data/team-c/publish") ' +
        'or `publishDir` (used as smvPublishDir when that is not given): pins are written as <smvPublishDir>/<version>',
    );
    ok = false;
  }
  if (connectionStyle && c.connections === undefined) {
    report(`${where}.connections`, 'is required for connection pins: map the stages the consumer reads (base name or FQN) to the SMV connection its input modules read, e.g. { geo: pdd_geo }');
    ok = false;
  }
  const connectionsPath =
    connectionStyle && release ? path.posix.normalize((c.connectionsPath ?? defaultConnectionsPath(confPath, release)).replaceAll('\\', '/')) : undefined;
  if (connectionsPath !== undefined && release && !pinFileIsRead(connectionsPath, confPath, release)) {
    report(
      `${where}.connectionsPath`,
      `SMV ${release.tag} does not read ${JSON.stringify(connectionsPath)}: it merges ${readFilesOf(confPath, release).join(', ')}` +
        `${release.layers.includes('connections') ? '' : ' (conf/connections.props is read from v2r8 on)'}; point connectionsPath at one of them or remove it`,
    );
    ok = false;
  }
  const consumer: ConsumerConfig = {
    name: c.name,
    repo,
    branch: c.branch,
    confPath,
    ...(publishDir !== undefined && { publishDir }),
    channels: c.channels,
    adopters: c.adopters,
    mode: c.mode,
    minAgeHours: c.minAgeHours,
    smvVersion: release?.tag ?? c.smvVersion ?? DEFAULT_SMV_VERSION,
    ...(connectionStyle && { pinStyle: 'connection' as const, connectionsPath }),
    ...(connectionStyle && c.connections !== undefined && { connections: { ...c.connections } }),
    ...(connectionStyle && smvPublishDir !== undefined && { smvPublishDir }),
  };
  return { consumer, ok };
}

/** The consumer's SMV release from `smvVersion` (and `pinStyle`, which must agree with it); null after reporting why not. */
function resolveRelease(c: z.infer<typeof consumerSchema>, where: string, report: Report): SmvRelease | null {
  const tag = c.smvVersion ?? (c.pinStyle === 'connection' ? DEFAULT_CONNECTION_SMV_VERSION : DEFAULT_SMV_VERSION);
  const found = smvReleaseOf(tag);
  if (!found.ok) {
    report(`${where}.smvVersion`, found.problem);
    return null;
  }
  const style = found.release.pins === 'connection' ? 'connection' : 'stageVersion';
  if (c.pinStyle !== undefined && c.pinStyle !== style) {
    report(
      `${where}.pinStyle`,
      `is ${c.pinStyle}, but SMV ${tag} reads ${style === 'connection' ? 'connection paths (smv.conn.<name>.path)' : 'stage versions (smv.stages.<stage>.version)'}; ` +
        'remove pinStyle (smvVersion decides it) or fix smvVersion',
    );
    return null;
  }
  return found.release;
}

/** The repo files of the release that are known before reading the repo (a runtime config file is named inside the app conf). */
function readFilesOf(confPath: string, release: SmvRelease): string[] {
  const files = [appConfPathFor(confPath)];
  if (release.layers.includes('runtime')) files.push('the file named by smv.runtimeConfigFile');
  if (release.layers.includes('connections')) files.push(connectionsPropsPathFor(confPath));
  return [...files, confPath];
}

/** Whether the release reads the pin file (any file may be the runtime config file from v2r12; checked again at adopt). */
function pinFileIsRead(file: string, confPath: string, release: SmvRelease): boolean {
  return release.layers.includes('runtime') || readFilesOf(confPath, release).includes(file);
}

/**
 * Connection consumers: every `connections` key names one known stage (base name or FQN), no
 * stage is mapped twice and no connection serves two stages. A consumer maps only the stages it
 * reads; adopting an unmapped one is refused then, naming the line to add.
 * Keys are turned into FQNs in place. True when all is well.
 */
function resolveConnections(consumers: ConsumerConfig[], publishers: PublisherConfig[], report: Report): boolean {
  const stages = [...new Set(publishers.flatMap((p) => p.stages))];
  let ok = true;
  consumers.forEach((consumer) => {
    if (consumer.pinStyle !== 'connection' || consumer.connections === undefined) return;
    const where = `consumer ${consumer.name}: connections`;
    const byFqn = new Map<string, { typed: string; connection: string }>();
    const stagesOf = new Map<string, string[]>();
    for (const [typed, connection] of Object.entries(consumer.connections)) {
      const exact = stages.includes(typed) ? [typed] : stages.filter((fqn) => fqn.slice(fqn.lastIndexOf('.') + 1) === typed);
      if (exact.length === 0) {
        report(`${where}.${typed}`, `is not a known stage; known stages: ${stages.join(', ') || '(none)'}. Use a stage base name or FQN`);
        ok = false;
        continue;
      }
      if (exact.length > 1) {
        report(`${where}.${typed}`, `is the base name of several stages (${exact.join(', ')}); use their FQNs as keys instead`);
        ok = false;
        continue;
      }
      const fqn = exact[0]!;
      const earlier = byFqn.get(fqn);
      if (earlier) {
        report(`${where}.${typed}`, `stage ${fqn} is already mapped (as ${earlier.typed}); give each stage one entry`);
        ok = false;
        continue;
      }
      byFqn.set(fqn, { typed, connection });
      stagesOf.set(connection, [...(stagesOf.get(connection) ?? []), fqn]);
    }
    for (const [connection, fqns] of stagesOf) {
      if (fqns.length > 1) {
        report(where, `connection ${connection} is given to more than one stage (${fqns.join(', ')}); each stage needs its own connection (one path = one version)`);
        ok = false;
      }
    }
    consumer.connections = Object.fromEntries([...byFqn].map(([fqn, { connection }]) => [fqn, connection]));
  });
  return ok;
}

/** Reports names used twice; true when there were none. */
function reportDuplicates(kind: 'publisher' | 'consumer', names: string[], report: Report): boolean {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([name]) => name);
  for (const name of repeated) {
    report(`${kind}s`, `the ${kind} name "${name}" is used more than once; give each ${kind} its own name`);
  }
  return repeated.length === 0;
}

/** Reports stages claimed by several publishers; true when there were none. */
function reportSharedStages(publishers: PublisherConfig[], report: Report): boolean {
  const owners = new Map<string, string[]>();
  for (const p of publishers) for (const s of p.stages) owners.set(s, [...(owners.get(s) ?? []), p.name]);
  let ok = true;
  for (const [stage, names] of owners) {
    if (names.length > 1) {
      report('publishers', `stage ${stage} belongs to more than one publisher (${names.join(', ')}); each stage must have exactly one publisher`);
      ok = false;
    }
  }
  return ok;
}
