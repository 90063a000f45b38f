// Topology half of the configuration (SPEC §3): the smvbot.yml schemas and the checks across
// items (names, stages, connections), producing the typed publishers and consumers.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { validate as isValidCron, validateDetailed as explainCron } from 'node-cron';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { appConfPathFor, connectionsPropsPathFor, defaultConnectionsPath, type ConsumerSpec, type PublisherSpec } from '../../core/topology.ts';
import { smvReleaseOf, DEFAULT_CONNECTION_SMV_VERSION, DEFAULT_SMV_VERSION, type SmvRelease } from '../../domain/smvRelease.ts';
import { readStagesFromAppConf } from '../../domain/stages.ts';
import { reporterFor, reportIssue, type Report } from './problems.ts';
import { defaultSmvPublishDir, locationText, parsePublishLocation, type PublishLocation } from '../publish/locations.ts';

const DEFAULT_SCAN_SCHEDULE = '*/1 * * * *';
const DEFAULT_CONF_PATH = 'conf/smv-user-conf.props';

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

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const STAGE_FQN = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const CONNECTION_NAME = /^[A-Za-z0-9_]+([.-][A-Za-z0-9_]+)*$/;

const nameSchema = z.string().regex(NAME, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a usable name: use letters, digits, ".", "_" or "-" (it is typed in commands)`,
});
const channelIdSchema = z.string().regex(CHANNEL_ID, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack channel id (like C0123ABCD); ` +
    "copy the Channel ID from the bottom of the channel's About tab",
});
const userIdSchema = z.string().regex(USER_ID, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD); ` +
    "copy it from the person's profile (⋮ → Copy member ID)",
});
const adopterSchema = z.string().refine((s) => s === '*' || USER_ID.test(s), {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD) or "*" (anyone); ` +
    "copy ids from people's profiles (⋮ → Copy member ID)",
});
const pathSchema = z.string().min(1, { error: 'must not be empty' });
const cronSchema = z.string().refine(isValidCron, {
  error: (iss) => {
    const why = explainCron(String(iss.input)).errors.map((e) => e.message).join('; ');
    return (
      `${JSON.stringify(iss.input)} is not a valid cron expression${why ? ` (${why})` : ''}; ` +
      `use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "${DEFAULT_SCAN_SCHEDULE}"`
    );
  },
});
const branchSchema = z.string().refine(isUsableBranchName, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a valid git branch name`,
});
const confPathSchema = z.string().refine(isInsideRepo, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} must be a relative path inside the repo, e.g. "${DEFAULT_CONF_PATH}"`,
});
const connectionNameSchema = z.string().regex(CONNECTION_NAME, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a usable SMV connection name: use letters, digits, "_", "-" or "." (it becomes smv.conn.<name>.path)`,
});
const smvPathSchema = z.string().refine((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s), {
  error: 'must be the publish dir as SMV names it, e.g. "hdfs:///data/team-c/publish" (not empty, no control characters)',
});
const stageFqnSchema = z.string().regex(STAGE_FQN, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a stage FQN (a package name like com.acme.geo)`,
});

const scanSchema = z.strictObject({ schedule: cronSchema.default(DEFAULT_SCAN_SCHEDULE) });
const digestSchema = z.strictObject({ schedule: cronSchema });
const publisherSchema = z.strictObject({
  name: nameSchema,
  publishDir: pathSchema,
  appConf: pathSchema.optional(),
  stages: z.array(stageFqnSchema).optional(),
  channels: z.array(channelIdSchema),
  settleSeconds: z.number().int().min(0).default(30),
  owners: z.array(userIdSchema).default([]),
});
const consumerSchema = z.strictObject({
  name: nameSchema,
  repo: z.string().trim().min(1, {
    error: 'must not be empty: give a git URL (git@host:team/repo.git, ssh://…, https://…, file://…) or a local path',
  }),
  branch: branchSchema.default('main'),
  confPath: confPathSchema.default(DEFAULT_CONF_PATH),
  publishDir: pathSchema.optional(),
  channels: z.array(channelIdSchema).default([]),
  adopters: z.array(adopterSchema).default([]),
  mode: z.enum(['push', 'branch']).default('push'),
  minAgeHours: z.number().min(0).max(24 * 365).default(0),
  smvVersion: z.union([z.string(), z.number()]).transform(String).optional(),
  pinStyle: z.enum(['stageVersion', 'connection']).optional(),
  connectionsPath: confPathSchema.optional(),
  connections: z.record(z.string(), connectionNameSchema).optional(),
  smvPublishDir: smvPathSchema.optional(),
});
// Items are checked one by one below, so one bad publisher doesn't hide the others' problems.
const topSchema = z.strictObject({
  scan: scanSchema.default({ schedule: DEFAULT_SCAN_SCHEDULE }),
  digest: digestSchema.optional(),
  publishers: z.array(z.unknown()).min(1, { error: 'at least one publisher is needed' }),
  consumers: z.array(z.unknown()).default([]),
  admins: z.array(userIdSchema).default([]),
});

const ALLOWED_KEYS: Record<string, readonly string[]> = {
  top: Object.keys(topSchema.shape),
  scan: Object.keys(scanSchema.shape),
  digest: Object.keys(digestSchema.shape),
  publisher: Object.keys(publisherSchema.shape),
  consumer: Object.keys(consumerSchema.shape),
};

/** Reads and checks smvbot.yml; null when anything is wrong (every problem is in `problems`). */
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

/** Problem text when the path is not an existing file/directory, else null. */
function checkPath(absolute: string, kind: 'file' | 'directory'): string | null {
  let isDir: boolean;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${absolute} does not exist; create it or fix the path (relative paths are resolved against the folder of the topology file)`
      : `${absolute} cannot be accessed (${code ?? 'error'})`;
  }
  if (kind === 'directory' && !isDir) return `${absolute} is not a directory`;
  if (kind === 'file' && isDir) return `${absolute} is a directory, expected a file`;
  return null;
}

/** `scheme://…` or scp-style `user@host:path` / `host:path` (a colon before any slash), as git reads them. */
function isGitUrl(repo: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(repo)) return true;
  const colon = repo.indexOf(':');
  const slash = repo.indexOf('/');
  return colon > 0 && (slash === -1 || colon < slash);
}

function isUsableBranchName(name: string): boolean {
  // git check-ref-format rules that matter here; a leading "-" would read as an option.
  return (
    name.length > 0 &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.includes('//') &&
    !/[\s~^:?*[\\\x00-\x1f\x7f]/.test(name)
  );
}

function isInsideRepo(confPath: string): boolean {
  const normalized = path.posix.normalize(confPath.replaceAll('\\', '/'));
  return (
    confPath.length > 0 &&
    !path.isAbsolute(confPath) &&
    !/^[A-Za-z]:/.test(confPath) &&
    normalized !== '.' &&
    normalized !== '..' &&
    !normalized.startsWith('../') &&
    !normalized.endsWith('/')
  );
}

/** Names of items, including items with other problems, so duplicates show up in the same run. */
function namesOf(items: unknown[]): string[] {
  return items.flatMap((item) => {
    const name = (item as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? [name] : [];
  });
}

function arrayOrEmpty(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** YAML `key:` with no value means "not given", so defaults apply. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? withoutNulls(v) : v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNulls(v);
  return out;
}

function displayPath(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}
