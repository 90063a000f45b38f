// Checks a version may be pinned (SPEC §5.2): safe name, published for the stage, complete,
// and (when the consumer keeps a copy) fully synced. Each refusal carries what the answer needs
// to say what to do instead.
import type { SyncDifference, SyncRefusal, VersionProblem, VersionRefusal } from './refusals.ts';
import type { OutputEntry, PublishedVersion } from './types.ts';

/** SPEC §5.2: no path separators, whitespace, newlines or props syntax. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** The first rule a version string breaks. */
function whyInvalid(version: string): VersionProblem {
  if (version.length === 0) return { kind: 'empty' };
  if (version.length > 200) return { kind: 'too-long', length: version.length };
  if (/[/\\]/.test(version)) return { kind: 'path-separator' };
  if (/\s/.test(version)) return { kind: 'whitespace' };
  if (!/^[A-Za-z0-9]/.test(version)) return { kind: 'bad-start' };
  return { kind: 'bad-character', character: [...version].find((ch) => !/[A-Za-z0-9._+-]/.test(ch)) ?? '' };
}

/** Refuses anything that is not a plain version directory name. */
export function validateVersionString(version: string): VersionRefusal | null {
  if (VERSION_PATTERN.test(version)) return null;
  return { ok: false, code: 'invalid-version', version, problem: whyInvalid(version) };
}

/**
 * The version must exist, hold modules of the stage and be complete.
 * `newest` lists the stage's newest complete versions, newest first, for the hint.
 */
export function checkVersionForStage(
  stageFqn: string,
  version: string,
  found: PublishedVersion | undefined,
  newest: readonly string[] = [],
): VersionRefusal | null {
  const stage = stageFqn;
  if (found === undefined) return { ok: false, code: 'unknown-version', for: 'adopt', stage, version, newest: [...newest] };
  const holdsStage = found.stages.includes(stageFqn);
  if (!found.complete) {
    return { ok: false, code: 'version-incomplete', stage, version, reasons: found.incompleteReasons, holdsStage, newest: [...newest] };
  }
  if (!holdsStage) return { ok: false, code: 'version-lacks-stage', stage, version, holds: found.stages, newest: [...newest] };
  return null;
}

function entryIndex(version: PublishedVersion): Map<string, OutputEntry> {
  const index = new Map<string, OutputEntry>();
  for (const mod of version.modules) for (const entry of mod.entries) index.set(entry.name, entry);
  return index;
}

/**
 * The consumer's copy of the version must hold every output entry the publisher has for the
 * stage, same names and sizes, complete. Extra files in the copy are harmless and allowed.
 */
export function checkConsumerSync(
  publisher: PublishedVersion,
  consumerCopy: PublishedVersion | undefined,
  stageFqn: string,
  consumerPublishDir: string,
  publisherPublishDir = '<publisher publishDir>',
): SyncRefusal | null {
  const version = publisher.version;
  const dirs = { consumerDir: consumerPublishDir, publisherDir: publisherPublishDir };
  if (consumerCopy === undefined) return { ok: false, code: 'not-synced', version, ...dirs };
  const copy = entryIndex(consumerCopy);
  const differences: SyncDifference[] = [];
  for (const mod of publisher.modules) {
    if (mod.stage !== stageFqn) continue;
    for (const entry of mod.entries) {
      const theirs = copy.get(entry.name);
      if (theirs === undefined) differences.push({ entry: entry.name, kind: 'missing' });
      else if (theirs.bytes !== entry.bytes) differences.push({ entry: entry.name, kind: 'size', bytes: theirs.bytes, published: entry.bytes });
      else if (entry.complete && !theirs.complete) differences.push({ entry: entry.name, kind: 'incomplete' });
    }
  }
  if (differences.length > 0) return { ok: false, code: 'sync-differs', version, stage: stageFqn, ...dirs, differences };
  if (!consumerCopy.complete) return { ok: false, code: 'sync-incomplete', version, consumerDir: consumerPublishDir, reasons: consumerCopy.incompleteReasons };
  return null;
}
