// Pins that SMV itself reads (issue 23): each repro found by feeding smvbot's edits to SMV's own
// config code, and a differential run over generated consumer projects, checked against an
// independent model of each release's rules (test/support/smvModel.ts) and, for Scala SMV,
// against java.util.Properties itself.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerLayersOf, HOME_CONF, pinReaderFor, readPinFiles, type RepoTexts } from '../src/core/consumerPins.ts';
import { planPinEdit, type PinChange, type PinEdit } from '../src/core/pinPlan.ts';
import { Topology, releaseOf, type ConsumerSpec, type KnownStage } from '../src/core/topology.ts';
import type { EffectivePin, Refusal } from '../src/domain/types.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { javaMap, loadWithJava, type JavaPropsResult } from './support/javaProps.ts';
import { prng, type Rng } from './support/prng.ts';
import { connectionPathModel, jpropsModel, mergedModel, modelRelease, stageVersionModel, type ModelFile } from './support/smvModel.ts';

const APP = 'conf/smv-app-conf.props';
const USER = 'conf/smv-user-conf.props';
const CONN = 'conf/connections.props';
const RUNTIME = 'conf/runtime.props';
const FILE_OF: Record<ModelFile, string> = { app: APP, user: USER, connections: CONN, runtime: RUNTIME };
const PUB = 'hdfs:///pub';
const CONNECTIONS: Record<string, string> = { 'com.acme.geo': 'pdd_geo', 'com.acme.cms': 'pdd_cms' };

const publisher = { name: 'public-data', publishDir: '/srv/publish', stages: ['com.acme.geo', 'com.acme.cms', 'org.other.geo'], channels: [], settleSeconds: 0 };
function consumerOn(smvVersion: string, extra: Partial<ConsumerSpec> = {}): ConsumerSpec {
  const base: ConsumerSpec = { name: 'team-c', repo: '/srv/repo.git', branch: 'main', confPath: USER, channels: [], adopters: ['*'], mode: 'push', smvVersion };
  return releaseOf(base).pins === 'connection' ? { ...base, pinStyle: 'connection', connections: CONNECTIONS, smvPublishDir: PUB, ...extra } : { ...base, ...extra };
}
const topology = new Topology([publisher], [], []);
const stage = (fqn: string): KnownStage => topology.stage(fqn)!;
const actor = { id: 'U0BEA', name: 'Bea' };

async function readAll(consumer: ConsumerSpec, files: Record<string, string | null>): Promise<RepoTexts> {
  return readPinFiles(consumer, async (paths) => paths.map((p) => files[p] ?? null));
}

async function plan(consumer: ConsumerSpec, fqn: string, to: string | null, files: Record<string, string | null>) {
  const change: PinChange = { action: to === null ? 'unpin' : 'adopt', consumer, stage: stage(fqn), to, actor };
  return planPinEdit(change, await readAll(consumer, files), topology.stages);
}

function applied(files: Record<string, string | null>, edit: PinEdit): Record<string, string | null> {
  return { ...files, [edit.file]: edit.text };
}

/** What Python SMV of `tag` merges from the repo files (the jprops model). */
function pythonReads(tag: string, files: Record<string, string | null>): Map<string, string> {
  const release = modelRelease(tag);
  const runtimeNamed = jpropsModel(files[APP] ?? '').get('smv.runtimeConfigFile');
  return mergedModel(release.files, (f) => {
    if (f === 'runtime') return runtimeNamed === undefined ? null : jpropsModel(files[path.posix.normalize(runtimeNamed)] ?? '');
    return jpropsModel(files[FILE_OF[f]] ?? '');
  });
}

function ok<T extends { ok: boolean }>(result: T | Refusal): T {
  if (!result.ok) throw new Error(`refused: ${refusalText(result as Refusal)}`);
  return result as T;
}

describe('repros: each edit is what SMV reads, or refused', () => {
  it('R1: a comment ending in `\\` before the end of connections.props does not swallow the new pin (jprops continues comments)', async () => {
    const consumer = consumerOn('2.4r1');
    const files = { [CONN]: 'smv.conn.pdd_geo.type = hdfs\n# data was in C:\\data\\\n' };
    const edit = ok(await plan(consumer, 'com.acme.geo', 'V2', files));
    expect(edit.changed).toBe(true);
    expect(connectionPathModel(pythonReads('2.4r1', applied(files, edit)), 'pdd_geo')).toBe(`${PUB}/V2`);
    expect(edit.text).toContain('# data was in C:\\data\\');
  });

  it('R2: a value continued over a blank line keeps what SMV reads, and the pin is read', async () => {
    const consumer = consumerOn('2.4r1');
    const files = { [CONN]: 'smv.conn.pdd_geo.type = hdfs\nsmv.dataDir = /data/c \\\n\n' };
    const before = pythonReads('2.4r1', files);
    const edit = ok(await plan(consumer, 'com.acme.geo', 'V2', files));
    const after = pythonReads('2.4r1', applied(files, edit));
    expect(connectionPathModel(after, 'pdd_geo')).toBe(`${PUB}/V2`);
    expect(after.get('smv.dataDir')).toBe(before.get('smv.dataDir'));

    // An unpin never removes a line jprops reads as part of another key's value.
    const swallowed = { [CONN]: 'smv.conn.pdd_geo.type = hdfs\nsmv.stages = a \\\n\nsmv.conn.pdd_geo.path = hdfs:///pub/V1\nsmv.appName = x\n' };
    const unpin = ok(await plan(consumer, 'com.acme.geo', null, swallowed));
    expect(unpin.changed).toBe(false);
    expect(pythonReads('2.4r1', swallowed).get('smv.appName')).toBe('x');
  });

  it('R3: a pin indented with NBSP is the pin SMV reads, and unpin removes it', async () => {
    const consumer = consumerOn('2.4r1');
    const files = { [CONN]: 'smv.conn.pdd_geo.type = hdfs\n\u00a0smv.conn.pdd_geo.path = hdfs:///pub/V1\n' };
    expect(pinReaderFor(consumer, await readAll(consumer, files))(stage('com.acme.geo'))).toMatchObject({ version: 'V1' });
    const edit = ok(await plan(consumer, 'com.acme.geo', null, files));
    expect(edit.changed).toBe(true);
    expect(connectionPathModel(pythonReads('2.4r1', applied(files, edit)), 'pdd_geo')).toBeUndefined();
  });

  it('R4: a Windows path that Java rejects (\\u) is fine for Python SMV, so the adopt goes through', async () => {
    const consumer = consumerOn('2.4r1');
    const files = { [APP]: 'smv.config.winPath = C:\\users\\me\n', [CONN]: 'smv.conn.pdd_geo.type = hdfs\n' };
    const edit = ok(await plan(consumer, 'com.acme.geo', 'V2', files));
    const after = pythonReads('2.4r1', applied(files, edit));
    expect(after.get('smv.config.winPath')).toBe('C:usersme');
    expect(connectionPathModel(after, 'pdd_geo')).toBe(`${PUB}/V2`);
  });

  it('R5: the runtime config file named by the app conf counts (v2r12+): unpin says it still pins, adopt under it is refused', async () => {
    const files = {
      [APP]: 'smv.runtimeConfigFile = conf/runtime.props\n',
      [RUNTIME]: 'smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = /rt/V0\n',
      [CONN]: 'smv.conn.pdd_geo.path = hdfs:///pub/V1\n',
    };
    const unpin = ok(await plan(consumerOn('2.4r1'), 'com.acme.geo', null, files));
    expect(unpin.changed).toBe(true);
    expect(unpin.stillPinnedBy).toMatchObject({ path: '/rt/V0', file: RUNTIME, unmanaged: true });
    expect(connectionPathModel(pythonReads('2.4r1', applied(files, unpin)), 'pdd_geo')).toBe('/rt/V0');

    const intoApp = await plan(consumerOn('2.4r1', { connectionsPath: APP }), 'com.acme.geo', 'V2', { ...files, [CONN]: null });
    expect(intoApp).toMatchObject({ ok: false, code: 'pin-shadowed' });
    expect(!intoApp.ok && refusalText(intoApp)).toContain(`is also set in \`${RUNTIME}\``);

    // v2r8 … v2r11 read no runtime config file: the connections file decides there.
    const v2r8 = pinReaderFor(consumerOn('v2r8'), await readAll(consumerOn('v2r8'), { ...files, [CONN]: 'smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = hdfs:///pub/V1\n' }));
    expect(v2r8(stage('com.acme.geo'))).toMatchObject({ version: 'V1', file: CONN });
  });

  it('R6: a stage the consumer does not list in smv.stages is refused, naming the key to add', async () => {
    const consumer = consumerOn('2.1.1.3');
    const files = { [APP]: 'smv.stages = com.acme.cms\n' };
    const result = await plan(consumer, 'com.acme.geo', 'TCD.20160802.geo', files);
    expect(result).toMatchObject({ ok: false, code: 'stage-not-listed' });
    expect(!result.ok && refusalText(result)).toContain('`smv.stages = com.acme.cms, com.acme.geo` in `conf/smv-app-conf.props`');
    expect(pinReaderFor(consumer, await readAll(consumer, { ...files, [USER]: 'smv.stages.geo.version = V1\n' }))(stage('com.acme.geo'))).toMatchObject({ version: null, unlisted: true });
  });

  it('SMV up to 1.3.0-2 reads the base-name key only: an FQN pin is not a pin, adopt writes the base key, a shared base name is refused', async () => {
    const consumer = consumerOn('1.3.0-1');
    const files = { [APP]: 'smv.stages = com.acme.geo, com.acme.cms\n', [USER]: 'smv.stages.com.acme.geo.version = OLD\n' };
    expect(pinReaderFor(consumer, await readAll(consumer, files))(stage('com.acme.geo')).version).toBeNull();
    const edit = ok(await plan(consumer, 'com.acme.geo', 'V2', files));
    expect(edit.text).toBe('smv.stages.com.acme.geo.version = OLD\nsmv.stages.geo.version = V2\n');

    const shared = await plan(consumer, 'com.acme.geo', 'V2', { [APP]: 'smv.stages = com.acme.geo, org.other.geo\n' });
    expect(shared).toMatchObject({ ok: false, code: 'ambiguous-base-pin' });
    // 2.1.1.3 reads FQN keys: there the FQN key pins one of two stages sharing a base name.
    const later = ok(await plan(consumerOn('2.1.1.3'), 'com.acme.geo', 'V2', { [APP]: 'smv.stages = com.acme.geo, org.other.geo\n' }));
    expect(later.text).toBe('smv.stages.com.acme.geo.version = V2\n');
  });

  it('2.2.0.0 and 2.3.0.0 pin stage versions; v2r6 and v2r7 pin connections in the user conf', async () => {
    for (const tag of ['2.2.0.0', '2.3.0.0']) {
      const edit = ok(await plan(consumerOn(tag), 'com.acme.geo', 'V2', { [APP]: 'smv.stages = com.acme.geo\n' }));
      expect(edit).toMatchObject({ file: USER, text: 'smv.stages.geo.version = V2\n' });
    }
    const edit = ok(await plan(consumerOn('v2r6'), 'com.acme.geo', 'V2', { [APP]: 'smv.conn.pdd_geo.type = hdfs\n', [CONN]: 'smv.conn.pdd_geo.path = /ignored\n' }));
    expect(edit.file).toBe(USER);
    expect(connectionPathModel(pythonReads('v2r6', applied({ [APP]: 'smv.conn.pdd_geo.type = hdfs\n' }, edit)), 'pdd_geo')).toBe(`${PUB}/V2`);
  });

  it('a stage a connection consumer does not map is refused with the line to add', async () => {
    const result = await plan(consumerOn('2.4r1'), 'org.other.geo', 'V2', {});
    expect(result).toMatchObject({ ok: false, code: 'no-connection' });
    expect(!result.ok && refusalText(result)).toContain('Add `org.other.geo: <connection>` under `connections` of `team-c`');
  });
});

// ---------------------------------------------------------------------------------------------
// Differential run over generated consumer projects.

const PROJECTS = 2400;
const RELEASES = ['1.3.0-1', '1.5.2.8', '2.1.1.3', '2.2.0.0', 'v2r1', 'v2r6', 'v2r7', 'v2r8', 'v2r11', 'v2r12', '2.4r1'];
const STAGES = ['com.acme.geo', 'com.acme.cms', 'org.other.geo'];
const LINES = [
  'smv.appName = Team C', 'smv.dataDir = /data/c \\', '', '   ', '# plain comment', '# data was in C:\\data\\', '! bang \\\\', '\u00a0smv.x = nbsp',
  '\fsmv.y = ff', 'smv.config.winPath = C:\\users\\me', 'smv.bad = \\u12G4', 'key\\ with\\ space = 1', 'smv.lone\\', 'a = \\u00e9', 'smv.appName : override',
  'smv.stages.geo.version = V0', 'smv.stages.com.acme.geo.version = V1', '\u00a0smv.stages.geo.version = V2', 'smv.stages.cms.version = V3', 'smv.stages.org.other.geo.version = V9',
  'smv.stages = com.acme.geo, com.acme.cms', 'smv.stages = com.acme.cms, \\', '    com.acme.geo', 'smv.stages = com.acme.geo : org.other.geo', 'smv.stages.geo.version =',
  'smv.conn.pdd_geo.type = hdfs', 'smv.conn.pdd_geo.path = hdfs:///pub/V4', '\u2003smv.conn.pdd_geo.path = hdfs:///pub/V5', 'smv.conn.pdd_geo.path = /manual/geo',
  'smv.conn.pdd_cms.type = hdfs', 'smv.conn.pdd_cms.path = hdfs:///pub/V6', 'smv.conn.pdd_geo.path \\', '  = hdfs:///pub/V7', 'smv.conn.pdd_\\u0067eo.type=hdfs',
];
const STAGE_LISTING = ['smv.stages = com.acme.geo, com.acme.cms', 'smv.stages = com.acme.geo:org.other.geo:com.acme.cms'];

function generateFile(r: Rng, app: boolean): string | null {
  if (r.chance(0.15)) return null;
  const lines = Array.from({ length: r.int(9) }, () => r.pick(LINES));
  if (app && r.chance(0.8)) lines.splice(r.int(lines.length + 1), 0, r.pick(STAGE_LISTING));
  if (app && r.chance(0.3)) lines.push(r.chance(0.8) ? 'smv.runtimeConfigFile = conf/runtime.props' : 'smv.runtimeConfigFile = /etc/smv/runtime.props');
  const eol = r.pick(['\n', '\n', '\r\n', '\r']);
  let text = (r.chance(0.03) ? '\ufeff' : '') + lines.join(eol);
  const ending = r.int(8);
  if (ending < 5) text += eol;
  else if (ending === 5) text += '\\';
  else if (ending === 6) text += `\\${eol}`;
  return text;
}

interface Project {
  id: number;
  tag: string;
  consumer: ConsumerSpec;
  files: Record<string, string | null>;
  fqn: string;
  to: string | null;
  reads: Map<string, EffectivePin>;
  /** What smvbot says it cannot see. */
  unseen: string[];
  edit: Awaited<ReturnType<typeof plan>>;
}

const PIN_KEYS = (fqn: string, connection: string | undefined): string[] => {
  const base = fqn.slice(fqn.lastIndexOf('.') + 1);
  return connection ? [`smv.conn.${connection}.path`, `smv.conn.${connection}.type`] : [`smv.stages.${base}.version`, `smv.stages.${fqn}.version`];
};

describe(`differential: smvbot's reads and edits against SMV's rules over ${PROJECTS} generated consumer projects`, () => {
  let root: string;
  const projects: Project[] = [];
  let java: Map<string, JavaPropsResult>;
  const diskName = (p: Project, file: string, when: 'before' | 'after') => path.join(root, when, `${p.id}-${file.replaceAll('/', '_')}`);

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'smvbot-fidelity-'));
    mkdirSync(path.join(root, 'before'));
    mkdirSync(path.join(root, 'after'));
    for (let id = 0; id < PROJECTS; id++) {
      const r = prng(23_000 + id);
      const tag = r.pick(RELEASES);
      const consumer = consumerOn(tag);
      const files: Record<string, string | null> = { [APP]: generateFile(r, true), [USER]: generateFile(r, false), [CONN]: generateFile(r, false), [RUNTIME]: generateFile(r, false) };
      const connection = releaseOf(consumer).pins === 'connection';
      const fqn = connection ? r.pick(STAGES.slice(0, 2)) : r.pick(STAGES);
      const to = r.chance(0.7) ? `TCD.${id}.x` : null;
      const texts = await readAll(consumer, files);
      const reader = pinReaderFor(consumer, texts);
      const reads = new Map(STAGES.map((s) => [s, reader(stage(s))]));
      const unseen = consumerLayersOf(consumer, texts).unseen;
      const project: Project = { id, tag, consumer, files, fqn, to, reads, unseen, edit: await plan(consumer, fqn, to, files) };
      projects.push(project);
      if (connection) continue;
      for (const file of [APP, USER]) if (files[file] !== null) writeFileSync(diskName(project, file, 'before'), files[file]!, 'utf8');
      if (project.edit.ok && project.edit.changed) writeFileSync(diskName(project, project.edit.file, 'after'), project.edit.text, 'utf8');
    }
    java = loadWithJava([path.join(root, 'before'), path.join(root, 'after')]);
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** What SMV of the project's release merges from its files (before or after the edit); null when Scala SMV's Java cannot load one. */
  function smvReads(p: Project, when: 'before' | 'after'): Map<string, string> | null {
    const release = modelRelease(p.tag);
    const files = when === 'after' && p.edit.ok ? applied(p.files, p.edit) : p.files;
    if (release.parser === 'jprops') return pythonReads(p.tag, files);
    const maps = new Map<ModelFile, Map<string, string> | null>();
    for (const f of release.files) {
      const file = FILE_OF[f];
      if (files[file] === null || files[file] === undefined) continue;
      const edited = when === 'after' && p.edit.ok && p.edit.changed && p.edit.file === file;
      const result = java.get(diskName(p, file, edited ? 'after' : 'before'));
      if (!result) throw new Error(`Java did not load ${file} of project ${p.id}`);
      maps.set(f, javaMap(result));
    }
    if ([...maps.values()].some((m) => m === null)) return null;
    return mergedModel(release.files, (f) => maps.get(f) ?? null);
  }

  /** The version or path SMV reads for a stage, in smvbot's terms (version for stage pins, path for connections). */
  function smvPin(p: Project, merged: Map<string, string>, fqn: string): string | undefined {
    const release = modelRelease(p.tag);
    if (release.pins === 'stage') return stageVersionModel(merged, fqn, release.baseOnly);
    return CONNECTIONS[fqn] ? connectionPathModel(merged, CONNECTIONS[fqn]) : undefined;
  }

  function botPin(p: Project, pin: EffectivePin): string | undefined {
    if (modelRelease(p.tag).pins === 'stage') return pin.version ?? undefined;
    return pin.key !== null && pin.connectionType === undefined ? pin.path : undefined;
  }

  it('reads every stage pin as SMV of that release does (/smv pins)', () => {
    const wrong: string[] = [];
    let reads = 0;
    for (const p of projects) {
      const merged = smvReads(p, 'before');
      if (merged === null) continue; // Scala SMV would not start; the bot refuses edits there (checked below).
      for (const fqn of STAGES) {
        reads++;
        const expected = smvPin(p, merged, fqn);
        const actual = botPin(p, p.reads.get(fqn)!);
        if (expected !== actual) wrong.push(`project ${p.id} (${p.tag}) ${fqn}: SMV reads ${JSON.stringify(expected)}, smvbot says ${JSON.stringify(actual)}\n${JSON.stringify(p.files)}`);
      }
    }
    expect(reads).toBeGreaterThan(PROJECTS * 2);
    // ~/.smv is always named as unseen, and so is a runtime config file outside the repo where SMV reads one.
    for (const p of projects) {
      const outside = modelRelease(p.tag).files.includes('runtime') && jpropsModel(p.files[APP] ?? '').get('smv.runtimeConfigFile')?.startsWith('/');
      const expected = outside ? [HOME_CONF, jpropsModel(p.files[APP] ?? '').get('smv.runtimeConfigFile')!] : [HOME_CONF];
      if (JSON.stringify(p.unseen) !== JSON.stringify(expected)) wrong.push(`project ${p.id} (${p.tag}): unseen ${JSON.stringify(p.unseen)}, expected ${JSON.stringify(expected)}`);
    }
    expect(wrong.length, `${wrong.length} of ${reads} reads differ; first:\n${wrong[0]}`).toBe(0);
  });

  it('every applied adopt or unpin is read by SMV as said, and changes nothing else SMV reads; refusals are justified', () => {
    const counts: Record<string, number> = {};
    const wrong: string[] = [];
    for (const p of projects) {
      const action = p.to === null ? 'unpin' : 'adopt';
      const before = smvReads(p, 'before');
      const where = `project ${p.id} (${p.tag}, ${action} ${p.fqn} ${p.to ?? ''})\n${JSON.stringify(p.files)}`;
      if (!p.edit.ok) {
        counts[`${action} refused: ${p.edit.code}`] = (counts[`${action} refused: ${p.edit.code}`] ?? 0) + 1;
        if (p.edit.code === 'props-syntax-error' && before !== null) wrong.push(`${where}\nrefused as unloadable, but Java loads every file`);
        if (p.edit.code === 'stage-not-listed' && before !== null && (before.get('smv.stages') ?? '').split(/[,:]/).map((s) => s.trim()).includes(p.fqn)) {
          wrong.push(`${where}\nrefused as unlisted, but SMV lists ${p.fqn}`);
        }
        continue;
      }
      if (before === null) {
        wrong.push(`${where}\nScala SMV cannot load these files, but the bot did not refuse`);
        continue;
      }
      const connection = modelRelease(p.tag).pins === 'connection' ? CONNECTIONS[p.fqn] : undefined;
      const target = p.to === null ? undefined : connection ? `${PUB}/${p.to}` : p.to;
      if (!p.edit.changed) {
        counts[`${action} unchanged`] = (counts[`${action} unchanged`] ?? 0) + 1;
        if (p.to !== null && smvPin(p, before, p.fqn) !== target) wrong.push(`${where}\n"already pinned", but SMV reads ${smvPin(p, before, p.fqn)}`);
        continue;
      }
      counts[`${action} applied`] = (counts[`${action} applied`] ?? 0) + 1;
      const after = smvReads(p, 'after');
      if (after === null) {
        wrong.push(`${where}\nSMV cannot load the edited file:\n${JSON.stringify(p.edit.text)}`);
        continue;
      }
      const now = smvPin(p, after, p.fqn);
      const said = p.to === null ? botPin(p, p.edit.stillPinnedBy!) : target;
      if (now !== said) wrong.push(`${where}\nsmvbot says SMV now reads ${JSON.stringify(said)}, SMV reads ${JSON.stringify(now)}\nedited: ${JSON.stringify(p.edit.text)}`);
      const pinKeys = new Set(PIN_KEYS(p.fqn, connection));
      for (const key of new Set([...before.keys(), ...after.keys()])) {
        if (pinKeys.has(key)) continue;
        if (before.get(key) !== after.get(key)) wrong.push(`${where}\n${key} changed for SMV: ${JSON.stringify(before.get(key))} → ${JSON.stringify(after.get(key))}\nedited: ${JSON.stringify(p.edit.text)}`);
      }
      for (const other of STAGES) {
        if (other !== p.fqn && smvPin(p, before, other) !== smvPin(p, after, other)) wrong.push(`${where}\nthe pin of ${other} moved`);
      }
    }
    console.info(`issue 23 differential (${PROJECTS} projects):\n${Object.entries(counts).sort().map(([k, n]) => `  ${k}: ${n}`).join('\n')}`);
    expect(wrong.length, `${wrong.length} wrong; first:\n${wrong[0]}`).toBe(0);
    expect((counts['adopt applied'] ?? 0) + (counts['unpin applied'] ?? 0)).toBeGreaterThan(PROJECTS / 3);
  });
});
