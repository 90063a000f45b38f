// What a remote store (HDFS over WebHDFS, S3) gives the shared tree source: listings and bounded
// reads under one root, by '/'-separated paths relative to it. The store's own client maps its
// errors to StoreError kinds; nothing here knows which store it is.
import type { SourceTroubleKind } from '../../../core/publishSource.ts';

export interface StoreItem {
  /** '/'-separated path relative to the listed dir (`list`: a plain name; `walk`: may hold '/'). */
  path: string;
  kind: 'dir' | 'file';
  /** Files: bytes; dirs: 0. */
  size: number;
  /** Epoch ms of the last change; 0 where the store keeps none (an S3 prefix). */
  mtimeMs: number;
}

export interface WalkBudget {
  /** Items yielded in all, at most (the rest is not read; `walk` stops). */
  maxEntries: number;
  /**
   * Directory levels below the walked dir, at most: its children are level 1, theirs level 2…;
   * items down to level `maxDepth` are yielded, and a dir at that level is not listed.
   */
  maxDepth: number;
}

export interface StoreTree {
  /** The root as configured, credentials removed. */
  readonly where: string;
  /** `walk('')` is one listing of every key in key order, so one version's items come together (S3). */
  readonly listsInKeyOrder?: boolean;
  /** Children of `rel` ('' = the root), page by page. A missing dir throws StoreError('not-found'). */
  list(rel: string): AsyncIterable<StoreItem[]>;
  /**
   * Everything below `rel` (dirs too, so an empty `_temporary` is seen), page by page, paths
   * relative to `rel`. Missing `rel`: StoreError('not-found').
   */
  walk(rel: string, budget: WalkBudget): AsyncIterable<StoreItem[]>;
  /** The file's bytes when it holds at most `maxBytes`; else StoreError('too-large') without reading it whole. */
  read(rel: string, maxBytes: number): Promise<Buffer>;
}

export type StoreErrorKind = SourceTroubleKind | 'too-large';

/** A store request that failed, with the kind /healthz shows; the message holds no credential. */
export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    /**
     * `walk`: the dir (relative to the walked one; '' = itself) whose listing failed, when known,
     * so one unreadable output dir is blamed alone rather than its whole version.
     */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
