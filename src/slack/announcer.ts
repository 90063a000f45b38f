// What the bot says on its own, as the use cases need it: announcements, their updates, the
// digest and late "it did land" notes, with Slack's refusals classified and put in words.
import type { Topology } from '../core/topology.ts';
import type { Announcer } from '../core/useCases.ts';
import type { SlackNotifier } from './notifier.ts';
import { classifyPostFailure, describeFailure } from './postFailures.ts';
import { renderRecoveredAdoption } from './render/answers.ts';
import { MAX_VERSIONS_PER_MESSAGE } from './render/announcement.ts';
import { renderDigest } from './render/digest.ts';

export function slackAnnouncer(notifier: SlackNotifier, topology: Topology): Announcer {
  return {
    announce: (channel, batch) => notifier.announce(channel, batch),
    updateAnnouncement: (channel, ts, batch) => notifier.updateAnnouncement(channel, ts, batch),
    findPosted: (channel, versions, since) => notifier.findAnnouncement(channel, versions, since),
    checkAuth: () => notifier.checkAuth(),
    classifyPostFailure,
    describeFailure,
    maxVersionsPerMessage: MAX_VERSIONS_PER_MESSAGE,
    tellLanded: (channel, records) => notifier.say(channel, renderRecoveredAdoption(records, topology)),
    postDigest: (channel, digest) => notifier.say(channel, renderDigest(digest)),
  };
}
