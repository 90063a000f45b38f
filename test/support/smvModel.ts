// An independent model of what SMV reads, written from SMV's source for the tests and sharing no
// code with src/: the props files each release merges, Python SMV's jprops read line by line with
// regular expressions as jprops.py does, Scala SMV's stage versions (SmvConfig.scala) and Python
// SMV's connection paths (conninfos.py). Java's own parser is not modelled: callers pass
// java.util.Properties' output (test/java/PropsDump.java).

/** Python's `\s` (str.isspace) as a regex class. */
const PY_WS = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LINE = new RegExp(`^${PY_WS}*(.*?)(\\\\*)$`, 'su');
const LEADING_WS = new RegExp(`^${PY_WS}+`, 'u');
const KEY_TERMINATORS = '=: \t\n\r\x0b\x0c';

function pyUnescape(raw: string): string {
  const once = raw.replace(/(\\+)u([0-9a-fA-F]{4})/g, (all, slashes: string, hex: string) => {
    if (slashes.length % 2 === 0) return all;
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return slashes + (c === '\\' ? '\\\\' : c);
  });
  const controls: Record<string, string> = { t: '\t', n: '\n', f: '\f', r: '\r' };
  return once.replace(/\\([^\n])/gu, (_, c: string) => controls[c] ?? c);
}

/** jprops.load_properties as smvconfig.py calls it (text mode, universal newlines). */
export function jpropsModel(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let buffer = '';
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const [, body0, slashes] = LINE.exec(raw)!;
    const continues = slashes!.length % 2 === 1;
    const body = body0! + (continues ? slashes!.slice(1) : slashes!);
    if (body === '') continue;
    buffer += body;
    if (continues) continue;
    const line = buffer;
    buffer = '';
    if (line[0] === '#' || line[0] === '!') continue;
    let i = 0;
    let escaped = false;
    while (i < line.length && (escaped || !KEY_TERMINATORS.includes(line[i]!))) {
      escaped = line[i] === '\\';
      i++;
    }
    if (i === line.length) {
      out.set(pyUnescape(line), '');
      continue;
    }
    let value = line.slice(i + 1).replace(LEADING_WS, '');
    if (line[i] !== '=' && line[i] !== ':' && (value[0] === '=' || value[0] === ':')) value = value.slice(1).replace(LEADING_WS, '');
    out.set(pyUnescape(line.slice(0, i)), pyUnescape(value));
  }
  return out;
}

export type ModelFile = 'app' | 'runtime' | 'connections' | 'user';

/** The release table of SPEC §2, restated: files merged (repo ones), parser, what a pin is. */
export function modelRelease(tag: string): { files: ModelFile[]; parser: 'java' | 'jprops'; pins: 'stage' | 'connection'; baseOnly: boolean } {
  const t = tag.replace(/^v/, '');
  const scala = (baseOnly: boolean) => ({ files: ['app', 'user'] as ModelFile[], parser: 'java' as const, pins: 'stage' as const, baseOnly });
  const python = (files: ModelFile[]) => ({ files, parser: 'jprops' as const, pins: 'connection' as const, baseOnly: false });
  if (['1.3.0-1', '1.3.0-2'].includes(t)) return scala(true);
  if (/^(1\.|2\.[0-3]\.)/.test(t) || t === '2r0' || t === '2r1') return scala(false);
  const r = /^2r(\d+)$/.exec(t);
  if (r && Number(r[1]) <= 7) return python(['app', 'user']);
  if (r && Number(r[1]) <= 11) return python(['app', 'connections', 'user']);
  return python(['app', 'runtime', 'connections', 'user']);
}

/** What SMV merges from the repo files (later wins), each read by `parse`. */
export function mergedModel(files: ModelFile[], read: (file: ModelFile) => Map<string, string> | null): Map<string, string> {
  const merged = new Map<string, string>();
  for (const file of files) for (const [k, v] of read(file) ?? []) merged.set(k, v);
  return merged;
}

/** SmvConfig.stageVersions for one stage: listed in smv.stages, base key before FQN key (base only up to 1.3.0-2). */
export function stageVersionModel(merged: ReadonlyMap<string, string>, fqn: string, baseOnly: boolean): string | undefined {
  const listed = merged.get('smv.stages') ?? '';
  const names = listed === '' ? [] : listed.split(/[,:]/).map((s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''));
  if (!names.includes(fqn)) return undefined;
  const base = fqn.slice(fqn.lastIndexOf('.') + 1);
  return merged.get(`smv.stages.${base}.version`) ?? (baseOnly ? undefined : merged.get(`smv.stages.${fqn}.version`));
}

/** The path an hdfs connection reads; undefined when the merged type is not hdfs or no path is set. */
export function connectionPathModel(merged: ReadonlyMap<string, string>, connection: string): string | undefined {
  if (merged.get(`smv.conn.${connection}.type`) !== 'hdfs') return undefined;
  return merged.get(`smv.conn.${connection}.path`);
}
