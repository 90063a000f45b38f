// Java is the oracle for connection-pin edits: a seeded corpus of connections.props files (CRLF,
// CR, continuations, duplicates, escapes, dangling backslashes), each with an app conf and a user
// conf that may set the same keys, is edited with setConnectionPin/removeConnectionPin. Every
// original, edited and unpinned file is loaded by java.util.Properties (test/java/PropsDump.java);
// Java must read the new path (and type) with every other key unchanged, and the pin must be
// effective when Java's maps are merged in SMV 2.4's order.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng, type Rng } from './support/prng.ts';
import {
  connectionKeys,
  connectionPathFor,
  effectiveConnectionPinIn,
  removeConnectionPin,
  setConnectionPin,
  JAVA_PROPS,
  type ConnectionLayer,
  type ConnectionSources,
} from '../src/domain/pins.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { javaMap, loadWithJava, sameMap, showMap as show, type JavaPropsResult } from './support/javaProps.ts';

const FILE_COUNT = 300;
const DIR = 'hdfs:///data/team-c/publish';
const CONNECTIONS = ['pdd_geo', 'pdd_cms', 'pdd.trial'];


const SEPARATORS = ['=', ' = ', ':', ' : ', ' ', '\t', '  =  ', '=\t'];
const INDENTS = ['', '', ' ', '\t', '  '];
const VALUES = [`${DIR}/TCD.20160701.geo`, `${DIR}/TCD.20160701.geo/`, '/mnt/manual/geo', 'hdfs', 'jdbc', '', 'a\\\\b', '\\u0041x', 'é中😀', 'x = y', '#not-comment'];

function key(r: Rng): string {
  const connection = r.pick(CONNECTIONS);
  if (r.chance(0.55)) return `smv.conn.${connection}.${r.pick(['path', 'path', 'type'])}`;
  if (r.chance(0.15)) return `smv.conn.${connection.replace('.', '\\u002e')}.path`; // escaped spelling of a pin key
  return r.pick(['smv.appName', 'smv.dataDir', 'smv.conn.other.path', 'k\\=v', 'k\\ s', 'spark.executor.memory']);
}

function line(r: Rng, eol: () => string): string {
  const indent = r.pick(INDENTS);
  switch (r.int(9)) {
    case 0:
      return indent + r.pick(['# comment', '! bang', `# smv.conn.pdd_geo.path = ${DIR}/X`, '# ends in \\']);
    case 1:
      return r.pick(['', ' ', '\t']);
    case 2: {
      // continued value, possibly over a CRLF and indented continuation lines
      let text = indent + key(r) + r.pick(SEPARATORS) + `${DIR}/`;
      for (let i = 1 + r.int(2); i > 0; i--) text += '\\' + eol() + r.pick(INDENTS) + r.pick(['TCD.', '20160701', '.geo', 'x']);
      return text;
    }
    case 3: // continued key
      return indent + 'smv.conn.\\' + eol() + r.pick(INDENTS) + `${r.pick(CONNECTIONS)}.path = ${r.pick(VALUES)}`;
    case 4: // empty value
      return indent + key(r) + r.pick(['', '=', ' : ']);
    default:
      return indent + key(r) + r.pick(SEPARATORS) + r.pick(VALUES);
  }
}

function generate(seed: number, lines: number): string {
  const r = prng(seed);
  const style = r.pick(['lf', 'lf', 'crlf', 'cr', 'mixed'] as const);
  const eol = () => (style === 'mixed' ? r.pick(['\n', '\r\n', '\r']) : style === 'lf' ? '\n' : style === 'crlf' ? '\r\n' : '\r');
  let text = '';
  for (let i = 0; i < lines; i++) text += line(r, eol) + (i < lines - 1 ? eol() : '');
  const ending = r.int(8);
  if (ending < 5) text += eol();
  else if (ending === 5) text += '\\';
  return text;
}

const SAMPLE_APP_CONFS: (string | null)[] = [
  null,
  '# application name\nsmv.appName = Modern Model\n\n# stage definitions\nsmv.stages = com.teamc.model, \\\n             com.teamc.score\n',
  `smv.conn.pdd_geo.type = hdfs\r\nsmv.conn.pdd_geo.path = ${DIR}/APP.geo\r\n`,
  `smv.conn.pdd_cms.type: hive\nsmv.conn.pdd_geo.path ${DIR}/APP.geo\n`,
];
const SAMPLE_USER_CONFS: (string | null)[] = [
  null,
  '# data dir\nsmv.dataDir = file:///srv/team-c/data\n',
  'smv.conn.pdd_cms.path = /mnt/user/cms\n',
  `smv.conn.pdd_geo.path = ${DIR}/USER.geo\n`,
];

interface Case {
  name: string;
  app: string | null;
  connections: string;
  user: string | null;
  connection: string;
  version: string;
}


describe('connection-pin edits agree with java.util.Properties', () => {
  let root: string;
  const dir = (name: string) => path.join(root, name);
  const cases: Case[] = [];
  let java: Map<string, JavaPropsResult>;
  const pinned = new Map<string, ReturnType<typeof setConnectionPin>>();
  const unpinned = new Map<string, ReturnType<typeof removeConnectionPin>>();
  const layersOf = (c: Case, connections: string): ConnectionLayer[] => [
    { source: 'app', path: 'conf/smv-app-conf.props', text: c.app },
    { source: 'connections', path: 'conf/connections.props', text: connections },
    { source: 'user', path: 'conf/smv-user-conf.props', text: c.user },
  ];
  /** The three layers as Java reads them, in SMV's merge order. */
  const javaSources = (c: Case, connectionsFile: string): ConnectionSources | null => {
    const maps = [javaMap(java.get(dir(`app/${c.name}`))), javaMap(java.get(connectionsFile)), javaMap(java.get(dir(`user/${c.name}`)))];
    if (maps.some((m) => m === null)) return null;
    return { layers: maps.map((map, i) => ({ source: (['app', 'connections', 'user'] as const)[i]!, path: String(i), map: map! })) };
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'smvbot-connprops-'));
    for (const d of ['original', 'pinned', 'unpinned', 'app', 'user']) mkdirSync(dir(d));
    for (let i = 0; i < FILE_COUNT; i++) {
      const r = prng(7_000_000 + i);
      cases.push({
        name: `conn-${String(i).padStart(4, '0')}`,
        connections: generate(i + 11, 1 + r.int(12)),
        app: r.pick(SAMPLE_APP_CONFS),
        user: r.chance(0.8) ? r.pick(SAMPLE_USER_CONFS.slice(0, 3)) : r.pick(SAMPLE_USER_CONFS),
        connection: r.pick(CONNECTIONS),
        version: `TCD.2016${String(r.int(1200)).padStart(4, '0')}.geo`,
      });
    }
    for (const c of cases) {
      writeFileSync(dir(`original/${c.name}`), c.connections, 'utf8');
      writeFileSync(dir(`app/${c.name}`), c.app ?? '', 'utf8');
      writeFileSync(dir(`user/${c.name}`), c.user ?? '', 'utf8');
      const ref = { connection: c.connection, smvPublishDir: DIR, dialect: JAVA_PROPS };
      const pin = setConnectionPin({ ...ref, layers: layersOf(c, c.connections), target: 1, version: c.version });
      pinned.set(c.name, pin);
      if (pin.ok) writeFileSync(dir(`pinned/${c.name}`), pin.text, 'utf8');
      // Unpin what the bot pinned (so a type it added goes too), else the original.
      const unpinFrom = pin.ok ? pin.text : c.connections;
      const unpin = removeConnectionPin({ ...ref, layers: layersOf(c, unpinFrom), target: 1 });
      unpinned.set(c.name, unpin);
      if (unpin.ok) writeFileSync(dir(`unpinned/${c.name}`), unpin.text, 'utf8');
    }
    java = loadWithJava(['original', 'pinned', 'unpinned', 'app', 'user'].map(dir));
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`setConnectionPin output (${FILE_COUNT} files) is read by Java with the new path, the type, and every other key unchanged`, () => {
    const problems: string[] = [];
    const counts = { edited: 0, refused: 0, unchanged: 0, typeAdded: 0 };
    for (const c of cases) {
      const outcome = pinned.get(c.name)!;
      const before = javaMap(java.get(dir(`original/${c.name}`)));
      const where = `${c.name} (${c.connection} = ${c.version})\nconnections: ${JSON.stringify(c.connections)}\napp: ${JSON.stringify(c.app)}\nuser: ${JSON.stringify(c.user)}`;
      const { path: pathKey, type: typeKey } = connectionKeys(c.connection);
      if (!outcome.ok) {
        counts.refused++;
        const typeSet = [c.app, c.connections, c.user].map((t) => javaMap(java.get(dir(`${t === c.app ? 'app' : t === c.user ? 'user' : 'original'}/${c.name}`))));
        const legit =
          (outcome.code === 'props-syntax-error' && before === null) ||
          (outcome.code === 'pin-shadowed' && (c.user ?? '').includes(`${pathKey} `)) ||
          (outcome.code === 'connection-type' && typeSet.some((m) => m?.has(typeKey) && m.get(typeKey) !== 'hdfs'));
        if (!legit) problems.push(`${where}\nunexpected refusal ${outcome.code}: ${refusalText(outcome)}`);
        continue;
      }
      if (before === null) {
        problems.push(`${where}\nJava rejects the original but setConnectionPin did not refuse`);
        continue;
      }
      if (!outcome.changed) {
        counts.unchanged++;
        if (outcome.text !== c.connections) problems.push(`${where}\nchanged:false but text differs`);
        continue;
      }
      counts.edited++;
      if (outcome.addedType) counts.typeAdded++;
      const after = javaMap(java.get(dir(`pinned/${c.name}`)));
      const expected = new Map(before).set(pathKey, connectionPathFor(DIR, c.version));
      if (outcome.addedType) expected.set(typeKey, 'hdfs');
      if (after === null || !sameMap(after, expected)) {
        problems.push(`${where}\nedited:  ${JSON.stringify(outcome.text)}\njava:    ${show(after)}\nexpected ${show(expected)}`);
        continue;
      }
      const sources = javaSources(c, dir(`pinned/${c.name}`));
      const pin = sources && effectiveConnectionPinIn({ connection: c.connection, smvPublishDir: DIR }, sources);
      const type = sources && [...sources.layers].reverse().find((l) => l.map.has(typeKey))?.map.get(typeKey);
      if (pin?.version !== c.version || type !== 'hdfs') problems.push(`${where}\nnot effective in Java's merge: ${JSON.stringify(pin)} type=${type}`);
    }
    expect(problems.length, `${problems.length} problems; first:\n${problems[0]}`).toBe(0);
    // The corpus must mostly exercise real edits (some with a type added), and some refusals.
    expect(counts.edited).toBeGreaterThan(FILE_COUNT * 0.5);
    expect(counts.typeAdded).toBeGreaterThan(20);
    expect(counts.refused).toBeGreaterThan(0);
  });

  it('removeConnectionPin output is read by Java without the path (and the added type), every other key unchanged', () => {
    const problems: string[] = [];
    let removed = 0;
    for (const c of cases) {
      const outcome = unpinned.get(c.name)!;
      const pin = pinned.get(c.name)!;
      const source = pin.ok ? dir(`pinned/${c.name}`) : dir(`original/${c.name}`);
      const before = javaMap(java.get(source));
      const where = `${c.name} (unpin ${c.connection})`;
      if (!outcome.ok) {
        if (!(outcome.code === 'props-syntax-error' && before === null)) problems.push(`${where}\nunexpected refusal ${outcome.code}: ${refusalText(outcome)}`);
        continue;
      }
      if (!outcome.changed) continue;
      removed++;
      const after = javaMap(java.get(dir(`unpinned/${c.name}`)));
      const expected = new Map(before);
      for (const key of outcome.removedKeys) expected.delete(key);
      if (after === null || !sameMap(after, expected) || after.has(connectionKeys(c.connection).path)) {
        problems.push(`${where}\nedited:  ${JSON.stringify(outcome.text)}\njava:    ${show(after)}\nexpected ${show(expected)}`);
      }
      // What the bot added it also takes away: unpinning its own pin restores the original keys.
      if (pin.ok && pin.changed && pin.addedType && outcome.stillPinnedBy.key === null) {
        const original = javaMap(java.get(dir(`original/${c.name}`)));
        const originalWithoutPath = new Map(original);
        originalWithoutPath.delete(connectionKeys(c.connection).path);
        if (after === null || !sameMap(after, originalWithoutPath)) problems.push(`${where}\nthe added type was not removed: ${show(after)}`);
      }
    }
    expect(problems.length, `${problems.length} problems; first:\n${problems[0]}`).toBe(0);
    expect(removed).toBeGreaterThan(FILE_COUNT * 0.5);
  });
});
