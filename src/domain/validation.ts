// Checks a version may be pinned (SPEC §5.2): safe name, published for the stage, complete,
// and (when the consumer keeps a copy) fully synced. Each refusal says what to do instead.
import { esc } from './mrkdwn.ts';
import { refuse } from './types.ts';
import type { OutputEntry, PublishedVersion, TextRefusal as Refusal } from './types.ts';

/** SPEC §5.2: no path separators, whitespace, newlines or props syntax. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

const VERSION_EXAMPLE = 'TCD.20160802.geo';
const MAX_LISTED = 5;

/** Shows user input safely inside a message: control characters escaped, long input cut. */
function quoted(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return esc(JSON.stringify(cut));
}

/** "a, b, c and 4 more" */
export function listCapped(items: readonly string[], max = MAX_LISTED): string {
  // Items are names and reasons found on disk: escaped for Slack here, once.
  if (items.length <= max) return items.map(esc).join(', ');
  return `${items.slice(0, max).map(esc).join(', ')} and ${items.length - max} more`;
}

function whyInvalid(version: string): string {
  if (version.length === 0) return 'is empty';
  if (version.length > 200) return `is ${version.length} characters long (at most 200)`;
  if (/[/\\]/.test(version)) return 'contains a path separator';
  if (/\s/.test(version)) return 'contains whitespace or a line break';
  if (!/^[A-Za-z0-9]/.test(version)) return 'must start with a letter or digit';
  const bad = [...version].find((ch) => !/[A-Za-z0-9._+-]/.test(ch)) ?? '';
  return `contains ${esc(JSON.stringify(bad))}`;
}

/** Refuses anything that is not a plain version directory name. */
export function validateVersionString(version: string): Refusal | null {
  if (VERSION_PATTERN.test(version)) return null;
  return refuse(
    'invalid-version',
    `Version ${quoted(version)} ${whyInvalid(version)}. A version is the name of a directory under the ` +
      `publish dir: letters, digits and . _ + - only, starting with a letter or digit, e.g. ${VERSION_EXAMPLE}.`,
  );
}

function suggestion(stageFqn: string, newest: readonly string[]): string {
  if (newest.length === 0) return `No complete version of ${stageFqn} has been published yet.`;
  return (
    `Newest complete versions of ${stageFqn}: ${listCapped(newest)}. ` +
    `See \`/smv releases ${stageFqn}\` for more.`
  );
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
): Refusal | null {
  if (found === undefined) {
    return refuse(
      'unknown-version',
      `There is no published version ${quoted(version)} for ${stageFqn}. ${suggestion(stageFqn, newest)}`,
    );
  }
  const holdsStage = found.stages.includes(stageFqn);
  if (!found.complete) {
    const notYet = holdsStage ? '' : ` (and it holds no ${stageFqn} modules yet)`;
    return refuse(
      'version-incomplete',
      `Version ${esc(version)} is not complete yet${notYet}: ${listCapped(found.incompleteReasons, 3)}. ` +
        `Wait for the publish to finish (it is announced when complete) and try again. ${suggestion(stageFqn, newest)}`,
    );
  }
  if (!holdsStage) {
    const holds =
      found.stages.length === 0 ? 'holds no modules of any configured stage' : `holds ${listCapped(found.stages)} only`;
    return refuse(
      'version-lacks-stage',
      `Version ${esc(version)} ${holds}, not ${esc(stageFqn)}. ${suggestion(stageFqn, newest)}`,
    );
  }
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
): Refusal | null {
  const version = publisher.version;
  const howToSync =
    `Sync it, e.g. \`rsync -a ${esc(publisherPublishDir)}/${esc(version)}/ ${esc(consumerPublishDir)}/${esc(version)}/\`, ` +
    `then try again.`;
  if (consumerCopy === undefined) {
    return refuse(
      'not-synced',
      `Version ${esc(version)} is not in the consumer's publish dir ${esc(consumerPublishDir)} yet. ${howToSync}`,
    );
  }
  const copy = entryIndex(consumerCopy);
  const differences: string[] = [];
  for (const mod of publisher.modules) {
    if (mod.stage !== stageFqn) continue;
    for (const entry of mod.entries) {
      const theirs = copy.get(entry.name);
      if (theirs === undefined) differences.push(`${entry.name} missing`);
      else if (theirs.bytes !== entry.bytes) {
        differences.push(`${entry.name} is ${theirs.bytes} bytes, published ${entry.bytes}`);
      } else if (entry.complete && !theirs.complete) differences.push(`${entry.name} incomplete`);
    }
  }
  if (differences.length > 0) {
    return refuse(
      'sync-differs',
      `The copy of ${esc(version)} in ${esc(consumerPublishDir)} does not match what was published for ${esc(stageFqn)}: ` +
        `${listCapped(differences)}. ${howToSync}`,
    );
  }
  if (!consumerCopy.complete) {
    return refuse(
      'sync-incomplete',
      `The copy of ${esc(version)} in ${esc(consumerPublishDir)} is not complete yet: ` +
        `${listCapped(consumerCopy.incompleteReasons, 3)}. Wait for the sync to finish and try again.`,
    );
  }
  return null;
}
