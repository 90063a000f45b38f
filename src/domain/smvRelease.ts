// What each SMV release reads (SPEC §2 "Which SMV reads what"), from SMV's own source:
// - ≤ 1.3.0-2: SmvStage reads `smv.stages.<base>.version` only;
// - later 1.x … v2r1 (SmvConfig.scala stageVersions): the base key, else the FQN key, for the
//   stages of the merged `smv.stages`; app conf, ~/.smv, user conf; java.util.Properties (UTF-8);
// - v2r2 … v2r5: stage versions removed (commit 9fbb2ab5), connections not there yet;
// - v2r6 … (smvconfig.py, conn/conninfos.py): `smv.conn.<name>.path` of an hdfs connection, files
//   read with the vendored jprops; conf/connections.props merged from v2r8, the file named by the
//   app conf's `smv.runtimeConfigFile` from v2r12.

/** A props file SMV merges; `home` (~/.smv/smv-user-conf.props) is on the machine that runs SMV. */
export type LayerKind = 'app' | 'runtime' | 'connections' | 'home' | 'user';

export interface SmvRelease {
  /** The release as configured (`2.1.1.3`, `v2r8`, `2.4r1`). */
  tag: string;
  pins: 'stage' | 'connection';
  /** Stage pins: the keys SMV reads, in its order. */
  stageKeys: 'base' | 'base-then-fqn';
  /** The props parser of that release. */
  dialect: 'java' | 'jprops';
  /** The files SMV merges, lowest priority first. */
  layers: readonly LayerKind[];
}

export const DEFAULT_SMV_VERSION = '2.1.1.3';
/** What `pinStyle: connection` without `smvVersion` means. */
export const DEFAULT_CONNECTION_SMV_VERSION = '2.4r1';

const STAGE_LAYERS: readonly LayerKind[] = ['app', 'home', 'user'];

/** A release as numbers to compare: numeric tags as they are, SMV2 tags (`v2rN`, `2.4rN`) after every 2.x. */
type Parsed = { kind: 'numeric'; parts: number[]; build: number | null } | { kind: 'smv2'; r: number } | { kind: '2.4r'; r: number };

function parseTag(tag: string): Parsed | null {
  const t = tag.trim().replace(/^v/i, '');
  let m = /^2r(\d{1,3})$/.exec(t);
  if (m) return { kind: 'smv2', r: Number(m[1]) };
  m = /^2\.4r(\d{1,3})$/.exec(t);
  if (m) return { kind: '2.4r', r: Number(m[1]) };
  m = /^(\d{1,3}(?:\.\d{1,3}){1,3})(?:-(\d{1,3}))?$/.exec(t);
  if (m) return { kind: 'numeric', parts: m[1]!.split('.').map(Number), build: m[2] === undefined ? null : Number(m[2]) };
  return null;
}

/** -1, 0 or 1 as `a` is before, at or after `b` (missing parts count as 0, a missing `-N` as before `-1`). */
function compareNumeric(a: { parts: number[]; build: number | null }, b: { parts: number[]; build: number | null }): number {
  for (let i = 0; i < Math.max(a.parts.length, b.parts.length); i++) {
    const d = (a.parts[i] ?? 0) - (b.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return Math.sign((a.build ?? 0) - (b.build ?? 0));
}

const KNOWN_FORMS =
  'an SMV release tag as SMV names it: 1.x (e.g. 1.3.0-1, 1.5.2.8), 2.1.x, 2.2.0.0, 2.3.0.0, v2r0 … v2r12, or 2.4r1 (a leading "v" is optional)';

/** The release's reading rules, or a sentence saying why the bot cannot pin for it. */
export function smvReleaseOf(tag: string): { ok: true; release: SmvRelease } | { ok: false; problem: string } {
  const parsed = parseTag(tag);
  const stage = (stageKeys: SmvRelease['stageKeys']): { ok: true; release: SmvRelease } => ({
    ok: true,
    release: { tag, pins: 'stage', stageKeys, dialect: 'java', layers: STAGE_LAYERS },
  });
  const connection = (layers: readonly LayerKind[]): { ok: true; release: SmvRelease } => ({
    ok: true,
    release: { tag, pins: 'connection', stageKeys: 'base-then-fqn', dialect: 'jprops', layers },
  });
  if (parsed === null) return { ok: false, problem: `${JSON.stringify(tag)} is not ${KNOWN_FORMS}` };
  if (parsed.kind === 'numeric') {
    const major = parsed.parts[0]!;
    if (major === 1) return stage(compareNumeric(parsed, { parts: [1, 3, 0], build: 2 }) <= 0 ? 'base' : 'base-then-fqn');
    if (major === 2 && (parsed.parts[1] ?? 0) <= 3) return stage('base-then-fqn');
    return { ok: false, problem: `${JSON.stringify(tag)} is not a known SMV release; use ${KNOWN_FORMS}` };
  }
  if (parsed.kind === '2.4r') {
    if (parsed.r < 1) return { ok: false, problem: `${JSON.stringify(tag)} is not a known SMV release; use ${KNOWN_FORMS}` };
    return connection(['app', 'runtime', 'connections', 'home', 'user']);
  }
  const r = parsed.r;
  if (r <= 1) return stage('base-then-fqn');
  if (r <= 5) {
    return {
      ok: false,
      problem:
        `SMV ${tag} cannot be pinned: v2r2 to v2r5 removed stage versions (SMV commit 9fbb2ab5) and have no connections yet, ` +
        'so no key in the repo decides which published version SMV reads. Upgrade the consumer to v2r6 or later (connection pins) ' +
        'or give the SMV release it really runs',
    };
  }
  if (r <= 7) return connection(['app', 'home', 'user']);
  if (r <= 11) return connection(['app', 'connections', 'home', 'user']);
  return connection(['app', 'runtime', 'connections', 'home', 'user']);
}
