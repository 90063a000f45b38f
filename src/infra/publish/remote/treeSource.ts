// A PublishSource over any StoreTree (HDFS over WebHDFS, S3): the store-neutral half of a
// remote publish dir. It does what publishScanner does on a mounted dir, from listings instead
// of stat calls:
// - listVersions streams the root listing: dirs only, hidden names (`.`/`_`) skipped, invalid
//   version names noted; a store that cannot be listed (to the end) says why, with listedAll
//   false, so no version is taken as gone.
// - describeVersion walks the version (within the entry and depth caps) into a RawVersionDir:
//   per top-level entry its kind, data bytes (names not starting with `.`/`_`), newest mtime of
//   it and everything below (an S3 prefix has none: its objects' LastModified decide), `_SUCCESS`
//   directly inside, and every in-progress dir at or below it: Hadoop's `_temporary` and the
//   S3A magic committer's `__magic…`. Nothing below an in-progress dir counts but its mtime.
// - `.meta` part files are read (and `.schema` ones when the `.meta` gives no columns) only
//   when the listing says they fit the 4 MB text cap together; a 1 GB `.meta` is never fetched.
import { isHiddenName, parseEntryName, parseMetaColumns, type RawEntry, type RawVersionDir } from '../../../domain/publishLayout.ts';
import { VERSION_PATTERN } from '../../../domain/validation.ts';
import type { Described, DescribeOptions, ListOutcome, PublishSource, SkippedEntry, SourceTrouble, SourceTroubleKind } from '../../../core/publishSource.ts';
import { StoreError, type StoreItem, type StoreTree } from './storeTree.ts';

export interface TreeSourceLimits {
  /** Directory levels below a version's module output (as the local walker's maxDepth). */
  maxDepth: number;
  /** Items read per version, in all its directories together. */
  maxEntries: number;
  /** `.meta`/`.schema` text read for columns (an entry's part files together). */
  maxTextBytes: number;
  /** Invalid version names noted per listing; the rest are counted. */
  maxNotes: number;
}

export const DEFAULT_TREE_LIMITS: TreeSourceLimits = {
  maxDepth: 8,
  maxEntries: 20_000,
  maxTextBytes: 4 * 1024 * 1024,
  maxNotes: 100,
};

/** Dirs a writer is still filling: Hadoop's output committers and the S3A magic committer. */
export function isInProgressName(name: string): boolean {
  return name === '_temporary' || name.startsWith('__magic');
}

/** `4 MB` for whole mebibytes, else `4096-byte` (the local walker's words). */
function sizeLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes}-byte`;
}

function troubleKind(err: unknown): SourceTroubleKind {
  if (!(err instanceof StoreError)) return 'unreadable';
  return err.kind === 'too-large' ? 'unreadable' : err.kind;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface DataFile {
  /** Relative to the version dir. */
  rel: string;
  size: number;
}

interface EntryState {
  entry: RawEntry;
  /** Files whose concatenation is the entry's text (the plain file, or a directory's part files). */
  dataFiles: DataFile[];
}

/**
 * One version's items, as a store lists them (paths relative to the version dir), folded into
 * its top-level entries: the rules of describeVersion, whichever listing the items came from.
 */
class VersionAssembly {
  readonly skipped: SkippedEntry[] = [];
  readonly states = new Map<string, EntryState>();
  mtimeMs = 0;
  stoppedAt: { path: string; err: unknown } | undefined;
  /** The walk's levels start at the version dir: its entries are level 1, what is in them level 2. */
  readonly walkDepth: number;
  private seen = 0;
  private readonly tooDeep = new Set<string>();

  constructor(
    readonly version: string,
    private readonly limits: TreeSourceLimits,
  ) {
    this.walkDepth = limits.maxDepth + 2;
  }

  stateOf(name: string): EntryState {
    let state = this.states.get(name);
    if (state === undefined) {
      // A nested item seen before its top-level dir (a store listing keys, not dirs).
      state = { entry: { name, kind: 'dir', bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: [] }, dataFiles: [] };
      if (isInProgressName(name)) state.entry.temporaryPaths.push(name);
      this.states.set(name, state);
    }
    return state;
  }

  /** Takes one item at `rel`; false once the entry cap is passed (the rest is not read). */
  add(rel: string, item: StoreItem): boolean {
    const { maxEntries, maxDepth } = this.limits;
    if (++this.seen > maxEntries) {
      this.skipped.push({ path: this.version, reason: `more than ${maxEntries} entries in this version; the rest was not read` });
      return false;
    }
    this.mtimeMs = Math.max(this.mtimeMs, item.mtimeMs);
    const segments = rel.split('/');
    const top = segments[0]!;
    const state = this.stateOf(top);
    const entry = state.entry;
    entry.mtimeMs = Math.max(entry.mtimeMs, item.mtimeMs);
    if (segments.length === 1) {
      if (item.kind === 'file') {
        entry.kind = 'file';
        entry.bytes = item.size;
        entry.temporaryPaths.length = 0;
        state.dataFiles = [{ rel: top, size: item.size }];
      }
      return true;
    }
    if (entry.kind !== 'dir' || isInProgressName(top)) return true;
    // The outermost in-progress dir on the way (a store listing objects shows it only in
    // their keys): recorded once; nothing below it counts but time, it is not output yet.
    const name = segments[segments.length - 1]!;
    const inProgressAt = segments.findIndex((seg, i) => i > 0 && isInProgressName(seg) && (i < segments.length - 1 || item.kind === 'dir'));
    if (inProgressAt > 0) {
      const at = segments.slice(0, inProgressAt + 1).join('/');
      if (!entry.temporaryPaths.includes(at)) entry.temporaryPaths.push(at);
      return true;
    }
    const walkDepth = this.walkDepth;
    if (segments.length > walkDepth || (segments.length === walkDepth && item.kind === 'dir')) {
      // Not listed (or not to be counted): the version is not read to the end.
      const at = segments.slice(0, walkDepth).join('/');
      if (!this.tooDeep.has(at)) {
        this.tooDeep.add(at);
        this.skipped.push({ path: `${this.version}/${at}`, reason: `is deeper than ${maxDepth} levels; not read` });
      }
      return true;
    }
    if (segments.length === 2 && name === '_SUCCESS') entry.hasSuccess = true;
    if (item.kind === 'dir' || isHiddenName(name)) return true;
    entry.bytes += item.size;
    if (segments.length === 2) state.dataFiles.push({ rel, size: item.size });
    return true;
  }
}

class TreeSource implements PublishSource {
  readonly where: string;

  constructor(
    private readonly tree: StoreTree,
    private readonly limits: TreeSourceLimits,
  ) {
    this.where = tree.where;
  }

  async listVersions(onName: (version: string) => void): Promise<ListOutcome> {
    const notes: string[] = [];
    const troubles: SourceTrouble[] = [];
    let invalid = 0;
    let listedAll = true;
    try {
      for await (const page of this.tree.list('')) {
        for (const item of page) {
          const name = item.path;
          if (isHiddenName(name) || item.kind !== 'dir') continue;
          if (!VERSION_PATTERN.test(name)) {
            if (++invalid <= this.limits.maxNotes) notes.push(`ignored ${this.where}/${name}: ${JSON.stringify(name)} is not a valid version name`);
            continue;
          }
          onName(name);
        }
      }
    } catch (err) {
      listedAll = false;
      troubles.push(this.listTrouble(err));
    }
    if (invalid > this.limits.maxNotes) notes.push(`ignored ${invalid - this.limits.maxNotes} more entries of ${this.where} whose names are not valid version names`);
    return { listedAll, troubles, notes, skipped: [] };
  }

  async describeVersion(version: string, opts: DescribeOptions): Promise<Described> {
    // Only names a version may have: nothing to leave the publish dir with.
    if (!VERSION_PATTERN.test(version)) return { skipped: [] };
    const assembly = new VersionAssembly(version, this.limits);
    try {
      walk: for await (const page of this.tree.walk(version, { maxEntries: this.limits.maxEntries + 1, maxDepth: assembly.walkDepth })) {
        for (const item of page) if (!assembly.add(item.path, item)) break walk;
      }
    } catch (err) {
      const at = err instanceof StoreError ? (err.path ?? '') : '';
      // The version itself is not there (never was, or gone since listing).
      if (at === '' && err instanceof StoreError && err.kind === 'not-found') return { skipped: [] };
      if (at === '') return { raw: { version, mtimeMs: 0, entries: [], readErrors: [`${version} could not be read: ${errorText(err)}`] }, skipped: assembly.skipped };
      assembly.stoppedAt = { path: at, err };
    }
    return this.finish(assembly, opts);
  }

  /**
   * Where the store lists a whole tree in key order, page by page (S3), many versions are read
   * from one listing of the publish dir instead of one listing each: a first scan of 10,000
   * versions costs the listing's pages, not 10,000 requests. Versions not described (the listing
   * failed part-way) are left to describeVersion.
   */
  get describeMany(): PublishSource['describeMany'] {
    if (!this.tree.listsInKeyOrder) return undefined;
    return async (versions, opts, onEach) => {
      const left = new Set(versions);
      try {
        await this.readFlat((name) => left.has(name) && VERSION_PATTERN.test(name), opts, (version, described) => {
          left.delete(version);
          onEach(version, described);
        });
      } catch {
        // The rest is read version by version (and any trouble reported there).
      }
      return [...left];
    };
  }

  /**
   * A first scan where the store lists a whole tree in key order (S3): the one listing of every
   * key names the versions (as listVersions does: dirs only, hidden names skipped, invalid names
   * noted) and reads those `onName` wants, so 10,000 new versions cost that listing's pages and
   * no listing of the version prefixes before it.
   */
  get listAndDescribe(): PublishSource['listAndDescribe'] {
    if (!this.tree.listsInKeyOrder) return undefined;
    return async (onName, opts, onEach) => {
      const notes: string[] = [];
      const troubles: SourceTrouble[] = [];
      let invalid = 0;
      let listedAll = true;
      /** The version being read when the listing failed: left to describeVersion. */
      let reading: string | undefined;
      try {
        await this.readFlat(
          (name) => {
            reading = undefined;
            if (isHiddenName(name)) return false;
            if (!VERSION_PATTERN.test(name)) {
              if (++invalid <= this.limits.maxNotes) notes.push(`ignored ${this.where}/${name}: ${JSON.stringify(name)} is not a valid version name`);
              return false;
            }
            if (!onName(name)) return false;
            reading = name;
            return true;
          },
          opts,
          (version, described) => {
            reading = undefined;
            onEach(version, described);
          },
        );
      } catch (err) {
        listedAll = false;
        troubles.push(this.listTrouble(err));
      }
      if (invalid > this.limits.maxNotes) notes.push(`ignored ${invalid - this.limits.maxNotes} more entries of ${this.where} whose names are not valid version names`);
      return { listedAll, troubles, notes, skipped: [], undescribed: reading === undefined ? [] : [reading] };
    };
  }

  /**
   * One flat listing of the publish dir in key order: each top-level dir is offered to `wanted`
   * as it first appears (files at the top are not versions), and the items below a wanted one are
   * folded into its assembly, told to `onEach` once the listing has moved past it. Throws when
   * the listing fails; the version being read then is not told.
   */
  private async readFlat(wanted: (name: string) => boolean, opts: DescribeOptions, onEach: (version: string, described: Described) => void): Promise<void> {
    let current: VersionAssembly | undefined;
    let full = false;
    const flush = async () => {
      if (current === undefined) return;
      const done = current;
      current = undefined;
      onEach(done.version, await this.finish(done, opts));
    };
    const depth = new VersionAssembly('', this.limits).walkDepth + 1;
    // The listing gives a dir before anything in it, and everything in a dir together.
    for await (const page of this.tree.walk('', { maxEntries: Number.MAX_SAFE_INTEGER, maxDepth: depth })) {
      for (const item of page) {
        const slash = item.path.indexOf('/');
        if (slash < 0) {
          if (item.kind !== 'dir') continue;
          await flush();
          if (wanted(item.path)) {
            current = new VersionAssembly(item.path, this.limits);
            full = false;
          }
          continue;
        }
        if (current === undefined || full || item.path.slice(0, slash) !== current.version) continue;
        full = !current.add(item.path.slice(slash + 1), item);
      }
    }
    await flush();
  }

  private listTrouble(err: unknown): SourceTrouble {
    const kind = troubleKind(err);
    return {
      kind,
      detail: kind === 'not-found' ? `publishDir ${this.where} does not exist (yet)` : `publishDir ${this.where} could not be listed: ${errorText(err)}`,
    };
  }

  private async finish(assembly: VersionAssembly, opts: DescribeOptions): Promise<Described> {
    const { version, skipped } = assembly;
    const readErrors: string[] = [];
    if (assembly.stoppedAt !== undefined) {
      const { path: at, err } = assembly.stoppedAt;
      const state = assembly.stateOf(at.split('/')[0]!);
      state.entry.readError = `${at}: ${errorText(err)}`;
      // What was not walked yet may hold anything: the version is not read to the end.
      skipped.push({ path: `${version}/${at}`, reason: `could not be read (${troubleKind(err)}); the rest of the version was not read` });
    }
    const described = [...assembly.states.values()];
    if (opts.columns) await this.attachColumnTexts(version, described);
    const raw: RawVersionDir = { version, mtimeMs: assembly.mtimeMs, entries: described.map((st) => st.entry), readErrors };
    if (skipped.length) raw.unsafe = skipped.map((sk) => `${sk.path === version ? '(version dir)' : sk.path.slice(version.length + 1)} ${sk.reason}`);
    return { raw, skipped };
  }

  /** Reads `.meta` texts, and `.schema` texts only for modules whose `.meta` gives no columns. */
  private async attachColumnTexts(version: string, states: EntryState[]): Promise<void> {
    const byFqn = new Map<string, { meta?: EntryState; schema?: EntryState }>();
    for (const state of states) {
      if (isHiddenName(state.entry.name)) continue;
      const parsed = parseEntryName(state.entry.name);
      if (parsed === null || (parsed.ext !== 'meta' && parsed.ext !== 'schema')) continue;
      const slot = byFqn.get(parsed.fqn) ?? {};
      slot[parsed.ext] = state;
      byFqn.set(parsed.fqn, slot);
    }
    for (const { meta, schema } of byFqn.values()) {
      if (meta !== undefined) await this.attachText(version, meta);
      const metaGaveColumns = meta?.entry.text !== undefined && 'columns' in parseMetaColumns(meta.entry.text);
      if (schema !== undefined && !metaGaveColumns) await this.attachText(version, schema);
    }
  }

  private async attachText(version: string, { entry, dataFiles }: EntryState): Promise<void> {
    if (entry.readError !== undefined || dataFiles.length === 0 || entry.temporaryPaths.length > 0) return;
    const max = this.limits.maxTextBytes;
    const total = dataFiles.reduce((n, f) => n + f.size, 0);
    // Refused by the sizes the listing gave: nothing is fetched.
    if (total > max) {
      entry.textError = `over the ${sizeLimit(max)} limit for reading (${total} bytes); not read`;
      return;
    }
    const sorted = [...dataFiles].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    const chunks: Buffer[] = [];
    let budget = max;
    for (const file of sorted) {
      try {
        const bytes = await this.tree.read(`${version}/${file.rel}`, budget);
        budget -= bytes.length;
        chunks.push(bytes);
      } catch (err) {
        const kind = err instanceof StoreError ? err.kind : 'unreadable';
        entry.textError =
          kind === 'too-large'
            ? `grew over the ${sizeLimit(max)} limit for reading while being read; not read`
            : kind === 'not-found'
              ? 'changed while being read; not read'
              : `${kind}: ${errorText(err)}`;
        return;
      }
    }
    entry.text = Buffer.concat(chunks).toString('utf8');
  }
}

/** The PublishSource of a remote publish dir whose store gives `tree`; `limits` for tests. */
export function treeSource(tree: StoreTree, limits: Partial<TreeSourceLimits> = {}): PublishSource {
  return new TreeSource(tree, { ...DEFAULT_TREE_LIMITS, ...limits });
}
