// What needs attention about a pinned version, as the warning under its stage (`/smv pins`, App
// Home) and as a reason in the digest.
import type { PinIssue } from '../../core/pinsReport.ts';
import { formatTime } from './format.ts';
import { esc } from './mrkdwn.ts';
import { refusalText } from './refusals.ts';

export function pinIssueText(issue: PinIssue): string {
  switch (issue.kind) {
    case 'not-published':
      return issue.removed
        ? `${esc(issue.version)} is no longer in ${esc(issue.stage.publisher.name)}'s publish dir: SMV runs against it will fail. Adopt a current version.`
        : `${esc(issue.version)} is not a complete published version of ${esc(issue.stage.displayName)}.`;
    case 'not-synced':
      return issue.sync ? `not synced: ${refusalText(issue.sync)}` : `${esc(issue.version)} is not in ${esc(issue.consumer)}'s publish dir either.`;
    case 'deprecated': {
      const d = issue.deprecation;
      return `${esc(issue.version)} was deprecated by ${esc(d.by.name)} on ${formatTime(d.at)}${d.reason ? `: ${esc(d.reason)}` : ''}. Adopt a good version.`;
    }
  }
}
