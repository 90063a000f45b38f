// Every refusal in words (SPEC §4: what was wrong and what to type instead): one case per code,
// checked exhaustively. The words are the same everywhere; the style decides how foreign text is
// made inert and how a person is named (Slack mrkdwn in Slack, plain text on the CLI's terminal).
import { adviceFor } from '../../domain/gitFailure.ts';
import type { EditProblem, PropsLine, Refusal, SyncDifference, VersionProblem } from '../../domain/refusals.ts';
import type { EffectivePin, PropsSource } from '../../domain/types.ts';
import { formatTime, mrkdwnMessage, type SlackMessage } from './format.ts';
import { frozenByText } from './freezeWords.ts';
import { code, esc } from './mrkdwn.ts';

/** How text the bot did not write, and a person, appear in one kind of output. */
export interface TextStyle {
  /** Foreign text made inert. */
  esc(text: string): string;
  /** Foreign text as inline code. */
  code(text: string): string;
  /** A person, by Slack user id. */
  mention(userId: string): string;
}

/** Slack mrkdwn: `&`, `<`, `>` escaped, user ids as live mentions. */
export const MRKDWN: TextStyle = { esc, code, mention: (userId) => `<@${userId}>` };

/** A line break or other control character in foreign text could forge a line of its own: shown as U+FFFD. */
function inert(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '\uFFFD');
}

/** Plain text for a terminal: nothing to escape but control characters; ids as they are. */
export const PLAIN_TEXT: TextStyle = {
  esc: inert,
  code: (text) => `\`${inert(text).replaceAll('`', 'ˋ')}\``,
  mention: (userId) => userId,
};

/** A refusal as an ephemeral Slack answer. */
export function renderRefusal(refusal: Refusal): SlackMessage {
  return mrkdwnMessage(refusalText(refusal));
}

const FILE_LABEL: Record<PropsSource, string> = {
  app: 'app conf',
  runtime: 'runtime config file',
  connections: 'connections file',
  user: 'user conf',
};

const VERSION_EXAMPLE = 'TCD.20160802.geo';
const MAX_LISTED = 5;

/**
 * A command that copies one version dir between two publish dirs, by where they are: rsync
 * between mounted dirs, `aws s3 sync` within S3, else Hadoop's distcp (which reads webhdfs://
 * with one NameNode, s3a:// and file://).
 */
export function syncCommand(from: string, to: string): string {
  const onS3 = (u: string) => u.startsWith('s3://');
  const onHdfs = (u: string) => /^s?webhdfs:\/\//.test(u);
  if (onS3(from) && onS3(to)) return `aws s3 sync ${from}/ ${to}/`;
  if (![from, to].some((u) => onS3(u) || onHdfs(u))) return `rsync -a ${from}/ ${to}/`;
  const forDistcp = (u: string) => (onS3(u) ? `s3a://${u.slice(5)}` : onHdfs(u) ? u.replace(/^(s?webhdfs:\/\/[^,/]+)(?:,[^/]*)?/, '$1') : `file://${u}`);
  return `hadoop distcp -update ${forDistcp(from)} ${forDistcp(to)}`;
}

/** The refusal's sentences, in the given style (Slack mrkdwn by default). */
export function refusalText(r: Refusal, style: TextStyle = MRKDWN): string {
  const { esc, code, mention } = style;
  const ticked = (items: readonly string[]) => items.map((i) => `\`${i}\``).join(', ');
  const mentions = (ids: readonly string[]) => ids.map(mention).join(', ');
  /** "a, b, c and 4 more": names and reasons found on disk, escaped. */
  const listCapped = (items: readonly string[], max = MAX_LISTED) =>
    items.length <= max ? items.map(esc).join(', ') : `${items.slice(0, max).map(esc).join(', ')} and ${items.length - max} more`;
  /** User input inside a message: quoted, long input cut. */
  const quoted = (text: string) => esc(JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text));
  const newestOf = (stage: string, newest: readonly string[]) =>
    newest.length === 0
      ? `No complete version of ${stage} has been published yet.`
      : `Newest complete versions of ${stage}: ${listCapped(newest)}. See \`/smv releases ${stage}\` for more.`;
  const howToSync = (r: { version: string; consumerDir: string; publisherDir: string }) =>
    `Sync it, e.g. \`${esc(syncCommand(`${r.publisherDir}/${r.version}`, `${r.consumerDir}/${r.version}`))}\`, then try again.`;
  const waits = (hours: number) => `${hours} ${hours === 1 ? 'hour' : 'hours'}`;

  switch (r.code) {
    case 'missing-stage':
      return `Which stage? Type a stage base name or FQN, e.g. \`${r.known[0] ?? 'geo'}\`. Known stages: ${knownStages(r.known)}.`;
    case 'ambiguous-stage':
      return (
        `Stage ${code(r.typed)} is ambiguous: it is the base name of ${ticked(r.fqns)}. ` +
        `Type one of those FQNs instead, e.g. \`${r.fqns[0]}\`.`
      );
    case 'unknown-stage':
      return r.known.length === 0
        ? `Unknown stage ${code(r.typed)}: no stages are configured. List them in the publisher's \`stages\` in smvbot.yml or in \`smv.stages\` of its app conf.`
        : `Unknown stage ${code(r.typed)}. Known stages: ${knownStages(r.known)}. Type one of them (base name or FQN), e.g. \`${r.known[0]}\`.`;

    case 'invalid-version':
      if (r.problem.kind === 'nothing-to-pin') return `The version to pin is empty. Type a published version, e.g. \`${VERSION_EXAMPLE}\`, or \`latest\`.`;
      return (
        `Version ${quoted(r.version)} ${whyInvalid(r.problem, esc)}. A version is the name of a directory under the ` +
        `publish dir: letters, digits and . _ + - only, starting with a letter or digit, e.g. ${VERSION_EXAMPLE}.`
      );
    case 'unknown-version':
      if (r.for === 'diff') {
        return (
          `${r.versions.map((v) => `\`${v}\``).join(' and ')} ${r.versions.length > 1 ? 'are' : 'is'} not in ${r.publisher}'s publish dir. ` +
          `See \`/smv releases ${r.stage}\` for the versions there.`
        );
      }
      if (r.for === 'deprecate') {
        const newest = r.newest.slice(0, 3).map((v) => `\`${esc(v)}\``);
        return (
          `${r.stage} has no recorded version ${esc(r.version)}, so there is nothing to deprecate.` +
          (newest.length ? ` Its newest: ${newest.join(', ')}; \`/smv releases ${r.stage}\` lists more.` : '')
        );
      }
      return `There is no published version ${quoted(r.version)} for ${r.stage}. ${newestOf(r.stage, r.newest)}`;
    case 'version-incomplete':
      return (
        `Version ${esc(r.version)} is not complete yet${r.holdsStage ? '' : ` (and it holds no ${r.stage} modules yet)`}: ${listCapped(r.reasons, 3)}. ` +
        `Wait for the publish to finish (it is announced when complete) and try again. ${newestOf(r.stage, r.newest)}`
      );
    case 'version-lacks-stage': {
      const holds = r.holds.length === 0 ? 'holds no modules of any configured stage' : `holds ${listCapped(r.holds)} only`;
      return `Version ${esc(r.version)} ${holds}, not ${esc(r.stage)}. ${newestOf(r.stage, r.newest)}`;
    }

    case 'not-synced':
      return `Version ${esc(r.version)} is not in the consumer's publish dir ${esc(r.consumerDir)} yet. ${howToSync(r)}`;
    case 'sync-differs':
      return (
        `The copy of ${esc(r.version)} in ${esc(r.consumerDir)} does not match what was published for ${esc(r.stage)}: ` +
        `${listCapped(r.differences.map(differenceText))}. ${howToSync(r)}`
      );
    case 'sync-incomplete':
      return (
        `The copy of ${esc(r.version)} in ${esc(r.consumerDir)} is not complete yet: ` +
        `${listCapped(r.reasons, 3)}. Wait for the sync to finish and try again.`
      );

    case 'props-syntax-error':
      return `\`${r.file}\` cannot be loaded by ${r.parser}: ${esc(r.error)}. Fix that line in the repository, then try again.`;
    case 'ambiguous-base-pin': {
      const stage = r.stages[0]!.fqn;
      const consequence =
        r.consequence === 'unpins-others'
          ? 'removing it would unpin the others too'
          : r.consequence === 'release-reads-no-fqn-key'
            ? `this SMV release (which reads no FQN key) cannot pin \`${stage}\` on its own`
            : `\`${stage}\` cannot be pinned on its own`;
      return (
        `\`${r.key}\` (in the ${FILE_LABEL[r.in]}) applies to every stage named \`${r.baseName}\` (${ticked(r.stages.map((s) => s.fqn))}), ` +
        `and SMV reads it before any FQN key, so ${consequence}. Replace that line by hand with one FQN key per stage (${ticked(r.stages.map((s) => s.fqnKey))}), then try again.`
      );
    }
    case 'edit-verification-failed':
      return (
        `Editing \`${r.file}\` would change what ${r.parser} reads besides the pin: ${editProblemText(r.problem, style)}. Nothing was changed. ` +
        'Fix that line by hand (a comment or value ending in `\\` joins the next line), then try again.'
      );
    case 'stage-not-listed': {
      const now = r.listed.length > 0 ? `${r.listed.join(', ')}, ` : '';
      return (
        `\`${r.stage}\` is not in the consumer's \`smv.stages\`${r.setIn ? ` (set in \`${r.setIn}\`)` : ' (set nowhere)'}, ` +
        `so SMV would read no version for it, whatever is pinned. Add it there first: \`smv.stages = ${now}${r.stage}\` in \`${r.file}\`, then try again. Nothing was changed.`
      );
    }
    case 'pin-side-effect':
      return (
        `That edit would also change the pin of \`${r.stage}\` (${describePin(r.before, style)} → ${describePin(r.after, style)}), so nothing was changed. ` +
        `Give each stage its own FQN key (\`${r.fqnKey}\`) in the props files by hand, then try again.`
      );
    case 'pin-not-effective':
      return (
        `Writing \`${r.key}\`${r.file !== undefined ? ` into \`${r.file}\`` : ''} would not take effect: SMV would still use ${describePin(r.now, style)}. ` +
        'Nothing was changed; remove that key by hand, then try again.'
      );
    case 'connection-type':
      return (
        `\`${r.key}\` is ${JSON.stringify(r.type)} in \`${r.file}\`, so SMV does not read connection \`${r.connection}\` as a directory. ` +
        'Set it to `hdfs` there, or map the stage to another connection in smvbot.yml, then try again. Nothing was changed.'
      );
    case 'pin-shadowed':
      return (
        `\`${r.key}\` is also set in \`${r.file}\` (line ${r.line}), which SMV reads after \`${r.into}\`, ` +
        `so a pin written to \`${r.into}\` would not take effect. Remove that line from \`${r.file}\` (or move it to \`${r.into}\`), then try again. Nothing was changed.`
      );

    case 'unknown-consumer':
      return r.known.length
        ? `There is no consumer called ${code(r.typed)}. Known consumers: ${ticked(r.known)}.`
        : `There is no consumer called ${code(r.typed)}: no consumers are configured in smvbot.yml.`;
    case 'no-consumers':
      return 'No consumers are configured. Add one under `consumers:` in smvbot.yml.';
    case 'which-consumer':
      return (
        `Which consumer? ${r.bound === 'several' ? 'This channel is bound to several' : 'This channel is not bound to one'}: ` +
        `${ticked(r.candidates)}. Add the consumer name at the end, e.g. \`… ${r.candidates[0]}\`.`
      );

    case 'pin-file-not-read':
      return (
        `SMV ${r.release} does not read \`${r.file}\`: it merges ${ticked(r.layers)} (and ~/.smv), so a pin written there would not take effect. ` +
        `Point \`connectionsPath\` of \`${r.consumer}\` in smvbot.yml at one of those files, then restart the bot. Nothing was changed.`
      );
    case 'no-connection':
      return r.by === 'adopt'
        ? `\`${r.consumer}\` pins SMV connections (pinStyle connection), but smvbot.yml names no connection for ${r.stage} ` +
            `(or no smvPublishDir). Add \`${r.stage}: <connection>\` under \`connections\` of \`${r.consumer}\` and restart the bot. Nothing was changed.`
        : `\`${r.consumer}\` pins SMV connections, but smvbot.yml names no connection for ${r.stage}. ` +
            `Add \`${r.stage}: <connection>\` under \`connections\` of \`${r.consumer}\` and restart the bot. Nothing was changed.`;
    case 'not-authorised':
      if ('publisher' in r) {
        return (
          `Only the owners of \`${r.publisher}\` (its \`owners\` in smvbot.yml) or an admin may ${r.action} its versions. ` +
          (r.ask.length ? `Ask ${mentions(r.ask)}.` : `None is configured: an admin can add your Slack user id (${r.user}) to \`owners\` of \`${r.publisher}\`.`) +
          ' Nothing was changed.'
        );
      }
      if (r.action === 'freeze' || r.action === 'unfreeze') {
        return (
          `You are not allowed to freeze or unfreeze \`${r.consumer}\`: its adopters and admins may. ` +
          (r.ask.length ? `Ask ${mentions(r.ask)} to run it, or ask` : 'Ask') +
          ` an admin to add your Slack user id (${r.user}) to \`adopters\` of \`${r.consumer}\` in smvbot.yml. Nothing was changed.`
        );
      }
      return (
        `You are not allowed to change pins for \`${r.consumer}\`. ` +
        (r.ask.length ? `Ask ${mentions(r.ask)} to run it, or ask` : 'Ask') +
        ` an admin to add your Slack user id (${r.user}) to \`adopters\` of \`${r.consumer}\` in smvbot.yml.`
      );
    case 'unsafe-repo-file':
      return esc(r.reason);
    case 'remote-busy':
      return (
        `\`${r.consumer}\`'s branch \`${r.branch}\` kept moving while I pushed (${r.attempts} attempts). ` +
        'Nothing was changed. Try the same command again in a minute.'
      );
    case 'git-failed': {
      const outcome =
        r.pushed === 'unknown'
          ? `The push may or may not have reached the remote: check \`${r.branch}\` (or \`/smv pins\`) before trying again. ` +
            'The bot checks it again at its next start and records it in `/smv history` if it landed.'
          : 'Nothing was changed on the remote.';
      const advice = adviceFor(r.git, { branch: r.branch }) || 'Check that the bot can fetch and push there, then try again.';
      return `Could not update \`${r.consumer}\` (${esc(r.repo)}, branch \`${r.branch}\`): ${esc(r.git.gist.replace(/[.\s]+$/, ''))}. ${outcome} ${advice}`;
    }
    case 'busy':
      return (
        `${r.waiting} changes for \`${r.consumer}\` are already waiting for its repository, so this one was not queued. ` +
        'Nothing was changed. Try the same command again in a few minutes.'
      );
    case 'conf-ignored':
      return (
        `\`${r.file}\` is git-ignored in \`${r.consumer}\`${r.key === 'confPath' ? " (SMV's project template ignores it)" : ''}, so a pin committed there ` +
        `would never reach anyone. Either track it (remove it from .gitignore and commit it), or point \`${r.key}\` in smvbot.yml ` +
        'at a tracked config file. Nothing was changed.'
      );
    case 'no-versions':
      return r.allDeprecated
        ? `Every published version of ${r.stage} is deprecated, so there is no latest to adopt. ` +
            `\`/smv releases ${r.stage}\` shows them with the reasons; ask the publisher for a new one.`
        : `No complete version of ${r.stage} has been published yet, so there is no latest to adopt. Try \`/smv releases\` later.`;
    case 'too-new':
      if (r.requested === 'latest') {
        return (
          `No version of ${r.stage} is old enough for \`${r.consumer}\` yet (it waits ${waits(r.minAgeHours)} after a version completes: minAgeHours). ` +
          `The newest, ${esc(r.newest)}, becomes adoptable at ${formatTime(r.adoptableAt)}. ` +
          'Try again then; an admin may adopt it now by naming the version.'
        );
      }
      return (
        `${esc(r.version)} completed ${formatTime(r.completedAt)}, and \`${r.consumer}\` waits ${waits(r.minAgeHours)} ` +
        `before adopting a new version (minAgeHours), so it becomes adoptable at ${formatTime(r.adoptableAt)}. Nothing was changed. ` +
        `Adopt it then, adopt an older version (\`/smv releases ${r.stage}\`)` +
        (r.admins.length ? `, or ask an admin (${mentions(r.admins)}) to adopt it now.` : '.')
      );
    case 'deprecated': {
      const d = r.deprecation;
      return (
        `${esc(r.version)} was deprecated by ${esc(d.by.name)} on ${formatTime(d.at)}` +
        (d.reason ? `: ${esc(d.reason)}` : '') +
        `. It cannot be adopted. Try \`/smv adopt ${r.stage} latest\` for the newest good version. Nothing was changed.`
      );
    }
    case 'dqm-failed': {
      const what = r.failed
        .slice(0, 5)
        .map((m) => `${esc(m.fqn)}${m.rules.length ? ` (${m.rules.slice(0, 5).map(esc).join(', ')})` : ''}`)
        .join('; ');
      // An unread verdict is not a pass: said as what it is, with the reason.
      const why = [
        ...(r.failed.length ? [`failed its data-quality rules in ${what}`] : []),
        ...(r.unread.length ? [`has a data-quality check that could not be read (${r.unread.slice(0, 5).map(esc).join('; ')})`] : []),
      ].join(', and ');
      return (
        `${esc(r.version)} ${why}, so only an admin may adopt it` +
        (r.admins.length ? ` (${mentions(r.admins)})` : '') +
        '. Nothing was changed. Adopt an earlier version, or ask the publisher for a fixed one.'
      );
    }
    case 'frozen': {
      const retry = r.retry.action === 'adopt' ? `/smv adopt ${r.retry.stage} ${r.retry.version} ${r.consumer} force` : `/smv unpin ${r.retry.stage} ${r.consumer} force`;
      return (
        `${esc(r.consumer)} is ${frozenByText(r.freeze, style)}: adopts and unpins are refused. ` +
        `An admin may add \`force\`: ${code(retry)}; or ${code(`/smv unfreeze ${r.consumer}`)}. Nothing was changed.`
      );
    }
    case 'force-not-admin':
      return (
        `Only admins may add \`force\` (it adopts or unpins despite a freeze)` +
        (r.admins.length ? `: ask ${mentions(r.admins)}.` : ', and none is configured (`admins` in smvbot.yml).') +
        (r.freeze ? ` ${esc(r.consumer)} is ${frozenByText(r.freeze, style)}.` : ` ${esc(r.consumer)} is not frozen: leave out \`force\`.`) +
        ' Nothing was changed.'
      );
    case 'freeze-in-past':
      return (
        `${code(`until ${r.day}`)} is in the past: a freeze through ${esc(r.day)} (UTC) ended at ${formatTime(r.until)}. ` +
        `Give a later day, e.g. ${code(`/smv freeze ${r.consumer} until ${r.today}`)} (through today), or a length: ${code(`/smv freeze ${r.consumer} for 2d`)}. Nothing was changed.`
      );
    case 'stage-twice':
      return `${esc(r.stage)} is named ${r.versions.length} times (${r.versions.map((v) => code(v)).join(', ')}): name each stage once, with the version to pin. Nothing was changed.`;
    case 'stages-refused': {
      // Each stage's own words, one line each: every problem is said at once, so one fix-up is enough.
      const lines = r.stages.map((s) => `• ${esc(s.stage)} ${code(s.version)}: ${refusalText(s.refusal, style)}`);
      return (
        `Nothing was adopted for \`${r.consumer}\`: the stages are adopted together or not at all, and ` +
        `${r.stages.length === 1 ? 'one cannot be adopted' : `${r.stages.length} cannot be adopted`}:\n${lines.join('\n')}`
      );
    }
    default:
      return unreachable(r);
  }
}

function unreachable(r: never): never {
  throw new Error(`no words for refusal ${JSON.stringify(r)}`);
}

/** How each configured stage is typed, or that there are none. */
function knownStages(known: readonly string[]): string {
  return known.length > 0 ? known.join(', ') : '(none configured)';
}

function whyInvalid(problem: VersionProblem, esc: (text: string) => string): string {
  switch (problem.kind) {
    case 'empty':
      return 'is empty';
    case 'too-long':
      return `is ${problem.length} characters long (at most 200)`;
    case 'path-separator':
      return 'contains a path separator';
    case 'whitespace':
      return 'contains whitespace or a line break';
    case 'bad-start':
      return 'must start with a letter or digit';
    case 'bad-character':
      return `contains ${esc(JSON.stringify(problem.character))}`;
  }
}

/** One difference of a synced copy (escaped by the list that shows it). */
function differenceText(d: SyncDifference): string {
  switch (d.kind) {
    case 'missing':
      return `${d.entry} missing`;
    case 'size':
      return `${d.entry} is ${d.bytes} bytes, published ${d.published}`;
    case 'incomplete':
      return `${d.entry} incomplete`;
  }
}

function editProblemText(problem: EditProblem, { esc, code }: TextStyle): string {
  const at = (line: PropsLine | null) =>
    line ? ` (SMV would read line ${line.number}, ${code(line.text.length > 80 ? `${line.text.slice(0, 77)}...` : line.text)})` : '';
  switch (problem.kind) {
    case 'would-not-load':
      return `it would not load: ${esc(problem.error)}`;
    case 'key-disappears':
      return `key ${code(problem.key)} would disappear`;
    case 'key-changes':
      return `key ${code(problem.key)} would read ${esc(JSON.stringify(problem.now))} instead of ${esc(JSON.stringify(problem.was))}${at(problem.line)}`;
    case 'key-appears':
      return `a new key ${code(problem.key)} would appear${at(problem.line)}`;
  }
}

/** How a pin reads inside a refusal, e.g. `TCD.1 (\`smv.stages.geo.version\` in the app conf)`. */
export function describePin(pin: EffectivePin, { esc, code }: TextStyle = MRKDWN): string {
  if (pin.unlisted) return 'not read (the stage is not in the consumer\'s `smv.stages`)';
  if (pin.key === null) return 'not pinned';
  const where = pin.file !== undefined ? code(pin.file) : `the ${FILE_LABEL[pin.source ?? 'user']}`;
  if (pin.unmanaged) return `${pin.path === '' ? 'an empty path' : code(pin.path ?? '')}, not managed by smvbot (${code(pin.key ?? '')} in ${where})`;
  return `${pin.version === '' ? 'an empty value' : esc(pin.version ?? '')} (${code(pin.key ?? '')} in ${where})`;
}
