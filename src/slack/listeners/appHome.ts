import type { HomeView } from '@slack/types';
import { listReleases } from '../../core/releases.ts';
import { USAGE } from '../commandParser.ts';
import { renderReleases } from '../render/answers.ts';
import type { BotServices } from '../services.ts';

/** The App Home tab: the latest releases per stage and how to use the bot. */
export async function homeView(services: BotServices): Promise<HomeView> {
  const releases = renderReleases(await listReleases(services.topology, services.catalog), null);
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'smvbot — SMV stage releases' } },
      ...(releases.blocks ?? []),
      { type: 'divider' },
      { type: 'section', text: { type: 'mrkdwn', text: USAGE.slice(0, 2900) } },
    ],
  };
}
