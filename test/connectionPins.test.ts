// Connection pins (Python SMV v2r6+): precedence across the repo files, and byte-preserving edits.
import { describe, expect, it } from 'vitest';
import {
  addedTypeMarker,
  connectionPathFor,
  connectionSources,
  effectiveConnectionPinIn,
  removeConnectionPin,
  setConnectionPin,
  versionOfConnectionPath,
  JAVA_PROPS,
  type ConnectionLayer,
} from '../src/domain/pins.ts';
import { parseProps, toMap } from '../src/domain/props.ts';
import { refusalText } from '../src/slack/render/refusals.ts';

const DIR = 'hdfs:///data/team-c/publish';
const REF = { connection: 'pdd_geo', smvPublishDir: DIR, dialect: JAVA_PROPS };
const V = 'TCD.20160802.geo';
const PATH_KEY = 'smv.conn.pdd_geo.path';
const TYPE_KEY = 'smv.conn.pdd_geo.type';

const APP = 'conf/smv-app-conf.props';
const CONN = 'conf/connections.props';
const USER = 'conf/smv-user-conf.props';

function layers(app: string | null, connections: string | null, user: string | null): ConnectionLayer[] {
  return [
    { source: 'app', path: APP, text: app },
    { source: 'connections', path: CONN, text: connections },
    { source: 'user', path: USER, text: user },
  ];
}

describe('connection paths', () => {
  it('are <smvPublishDir>/<version>, with or without a final slash on either', () => {
    expect(connectionPathFor(DIR, V)).toBe(`${DIR}/${V}`);
    expect(connectionPathFor(`${DIR}/`, V)).toBe(`${DIR}/${V}`);
    expect(versionOfConnectionPath(`${DIR}/${V}`, DIR)).toBe(V);
    expect(versionOfConnectionPath(`${DIR}/${V}/`, `${DIR}/`)).toBe(V);
  });

  it('are not versions when they point anywhere else', () => {
    for (const value of [DIR, `${DIR}/`, `${DIR}/a/b`, `hdfs:///data/other/${V}`, `${DIR}x/${V}`, '', `${DIR}/-bad`]) {
      expect(versionOfConnectionPath(value, DIR), value).toBeNull();
    }
  });
});

describe('effectiveConnectionPinIn follows SMV 2.4 precedence (app conf < connections.props < user conf)', () => {
  const at = (file: string) => `${PATH_KEY} = ${DIR}/${file}\n`;
  it.each([
    ['unpinned', null, null, null, null, null],
    ['app conf only', at('APP'), null, null, 'APP', APP],
    ['connections.props over the app conf', at('APP'), at('CONN'), null, 'CONN', CONN],
    ['user conf over connections.props', null, at('CONN'), at('USER'), 'USER', USER],
    ['user conf over both', at('APP'), at('CONN'), at('USER'), 'USER', USER],
    ['user conf over the app conf', at('APP'), null, at('USER'), 'USER', USER],
    ['last duplicate in one file', null, `${at('ONE')}${at('TWO')}`, null, 'TWO', CONN],
    ['a commented-out key does not count', null, `#${at('X')}`, null, null, null],
    ['continued key and value', null, `smv.conn.\\\n  pdd_geo.path = ${DIR}/TCD.\\\r\n   1\r\n`, null, 'TCD.1', CONN],
  ] as const)('%s', (_name, app, connections, user, version, file) => {
    // SMV reads a path only for a connection of type hdfs (set here in the app conf).
    const typed = `${TYPE_KEY} = hdfs\n${app ?? ''}`;
    const pin = effectiveConnectionPinIn(REF, connectionSources(layers(typed, connections, user), JAVA_PROPS));
    expect(pin.version).toBe(version);
    expect(pin.file).toBe(file ?? undefined);
    expect(pin.connection).toBe('pdd_geo');
  });

  it('reads no version where the merged files give the connection no hdfs type', () => {
    for (const [type, expected] of [[null, null], ['hive', 'hive']] as const) {
      const app = type === null ? null : `${TYPE_KEY} = ${type}\n`;
      const pin = effectiveConnectionPinIn(REF, connectionSources(layers(app, `${PATH_KEY} = ${DIR}/${V}\n`, null), JAVA_PROPS));
      expect(pin).toMatchObject({ version: null, unmanaged: true, path: `${DIR}/${V}`, connectionType: expected });
    }
  });

  it('shows a path outside smvPublishDir as it is, not as a version', () => {
    const pin = effectiveConnectionPinIn(REF, connectionSources(layers(null, `${PATH_KEY} = /mnt/manual/geo\n`, null), JAVA_PROPS));
    expect(pin).toMatchObject({ version: null, unmanaged: true, path: '/mnt/manual/geo', key: PATH_KEY, file: CONN });
  });
});

describe('setConnectionPin', () => {
  const typed = (eol = '\n') => `${addedTypeMarker('pdd_geo')}${eol}${TYPE_KEY} = hdfs${eol}`;

  it('creates connections.props with the type and the path', () => {
    const result = setConnectionPin({ ...REF, layers: layers(null, null, null), target: 1, version: V });
    expect(result).toMatchObject({ ok: true, changed: true, addedType: true, text: `${typed()}${PATH_KEY} = ${DIR}/${V}\n` });
  });

  it('rewrites only the last path line, keeping CRLF, comments and every other byte', () => {
    const before = `# connections\r\nsmv.conn.pdd_geo.type = hdfs\r\n${PATH_KEY} = ${DIR}/OLD1\r\nsmv.conn.pdd_cms.path = x\r\n${PATH_KEY}=${DIR}/OLD2\r\n! end`;
    const result = setConnectionPin({ ...REF, layers: layers(null, before, null), target: 1, version: V });
    expect(result).toMatchObject({ ok: true, changed: true, addedType: false });
    if (!result.ok) return;
    expect(result.text).toBe(before.replace(`${PATH_KEY}=${DIR}/OLD2`, `${PATH_KEY}=${DIR}/${V}`));
    expect(result.previous.version).toBe('OLD2');
  });

  it('collapses a continued path value into one line', () => {
    const before = `a = 1\n${PATH_KEY} = ${DIR}/\\\n    OLD\nb = 2\n`;
    const result = setConnectionPin({ ...REF, layers: layers(`${TYPE_KEY} = hdfs\n`, before, null), target: 1, version: V });
    expect(result.ok && result.text).toBe(`a = 1\n${PATH_KEY} = ${DIR}/${V}\nb = 2\n`);
  });

  it('adds the type just above an existing path when no file has one', () => {
    const before = `x = 1\r\n${PATH_KEY} = /old\r\n`;
    const result = setConnectionPin({ ...REF, layers: layers(null, before, null), target: 1, version: V });
    expect(result.ok && result.text).toBe(`x = 1\r\n${typed('\r\n')}${PATH_KEY} = ${DIR}/${V}\r\n`);
  });

  it('writes connections.props when only the app conf has the key, and that pin wins', () => {
    const app = `smv.conn.pdd_geo.type = hdfs\n${PATH_KEY} = ${DIR}/APP\n`;
    const result = setConnectionPin({ ...REF, layers: layers(app, 'a = 1', null), target: 1, version: V });
    expect(result.ok && result.text).toBe(`a = 1\n${PATH_KEY} = ${DIR}/${V}\n`);
    if (!result.ok) return;
    expect(effectiveConnectionPinIn(REF, connectionSources(layers(app, result.text, null), JAVA_PROPS)).version).toBe(V);
    expect(result.previous).toMatchObject({ version: 'APP', file: APP });
  });

  it('refuses, naming the file and line, when the user conf sets the same key', () => {
    const user = `smv.dataDir = /d\n${PATH_KEY} = ${DIR}/USER\n`;
    const result = setConnectionPin({ ...REF, layers: layers(null, `${TYPE_KEY}=hdfs\n`, user), target: 1, version: V });
    expect(result).toMatchObject({ ok: false, code: 'pin-shadowed' });
    if (result.ok) return;
    expect(refusalText(result)).toContain(`\`${USER}\` (line 2)`);
    expect(refusalText(result)).toContain('Nothing was changed');
  });

  it('answers unchanged when the effective pin already is that version (even from the user conf)', () => {
    const user = `${TYPE_KEY}=hdfs\n${PATH_KEY} = ${DIR}/${V}/\n`;
    const result = setConnectionPin({ ...REF, layers: layers(null, 'c = 1\n', user), target: 1, version: V });
    expect(result).toMatchObject({ ok: true, changed: false, text: 'c = 1\n' });
  });

  it('refuses a connection typed as something other than hdfs', () => {
    const result = setConnectionPin({ ...REF, layers: layers(`${TYPE_KEY} = hive\n`, null, null), target: 1, version: V });
    expect(result).toMatchObject({ ok: false, code: 'connection-type' });
  });

  it('refuses a file Java cannot load', () => {
    const result = setConnectionPin({ ...REF, layers: layers(null, 'k = \\u12\n', null), target: 1, version: V });
    expect(result).toMatchObject({ ok: false, code: 'props-syntax-error' });
    if (!result.ok) expect(refusalText(result)).toContain(CONN);
  });

  it('goes before a dangling continuation at the end of the file', () => {
    const result = setConnectionPin({ ...REF, layers: layers(`${TYPE_KEY}=hdfs`, 'a = 1\nb = 2\\', null), target: 1, version: V });
    expect(result.ok && result.text).toBe(`a = 1\n${PATH_KEY} = ${DIR}/${V}\nb = 2\\`);
  });
});

describe('removeConnectionPin', () => {
  it('removes the path and the type the bot added, and nothing else', () => {
    const base = '# team C connections\nsmv.conn.pdd_cms.type = hdfs\nsmv.conn.pdd_cms.path = /x\n';
    const pinned = setConnectionPin({ ...REF, layers: layers(null, base, null), target: 1, version: V });
    if (!pinned.ok) throw new Error(refusalText(pinned));
    const result = removeConnectionPin({ ...REF, layers: layers(null, pinned.text, null), target: 1 });
    expect(result).toMatchObject({ ok: true, changed: true, text: base, removedKeys: [PATH_KEY, TYPE_KEY] });
    expect(result.ok && result.stillPinnedBy.key).toBeNull();
  });

  it('keeps a type a person wrote', () => {
    const before = `${TYPE_KEY} = hdfs\r\n${PATH_KEY} = ${DIR}/${V}\r\n`;
    const result = removeConnectionPin({ ...REF, layers: layers(null, before, null), target: 1 });
    expect(result).toMatchObject({ ok: true, changed: true, text: `${TYPE_KEY} = hdfs\r\n`, removedKeys: [PATH_KEY] });
  });

  it('keeps the added type while the app conf still gives the connection a path, and says so', () => {
    const pinned = setConnectionPin({ ...REF, layers: layers(null, null, null), target: 1, version: V });
    if (!pinned.ok) throw new Error(refusalText(pinned));
    const app = `${PATH_KEY} = ${DIR}/APP\n`;
    const result = removeConnectionPin({ ...REF, layers: layers(app, pinned.text, null), target: 1 });
    expect(result.ok && toMap(parseProps(result.text)).get(TYPE_KEY)).toBe('hdfs');
    expect(result.ok && result.stillPinnedBy).toMatchObject({ version: 'APP', file: APP });
  });

  it('changes nothing when connections.props has no path, reporting the user conf pin', () => {
    const user = `${PATH_KEY} = ${DIR}/USER\n`;
    const result = removeConnectionPin({ ...REF, layers: layers(`${TYPE_KEY} = hdfs\n`, 'a = 1\n', user), target: 1 });
    expect(result).toMatchObject({ ok: true, changed: false, text: 'a = 1\n' });
    expect(result.ok && result.stillPinnedBy).toMatchObject({ version: 'USER', file: USER });
  });
});
