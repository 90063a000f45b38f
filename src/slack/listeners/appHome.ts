import type { HomeView } from '@slack/types';
import { dashboardFor } from '../../core/dashboard.ts';
import { listReleases } from '../../core/releases.ts';
import { USAGE } from '../commands/index.ts';
import { releasesAnswerFull, renderReleases } from '../render/answers.ts';
import { renderDashboard, renderStrangerHome } from '../render/home.ts';
import type { BotServices } from '../services.ts';

/**
 * The App Home tab, built afresh on every open: the pins dashboard of the consumers the user may
 * adopt for (every consumer for admins); for anyone else why not, and the releases, read-only.
 * `notice` goes on top (the outcome of an Adopt clicked there).
 */
export async function homeView(services: BotServices, userId: string, notice?: string): Promise<HomeView> {
  const { topology } = services;
  const now = services.now?.() ?? new Date();
  if (!topology.consumers.some((c) => topology.mayAdopt(c, userId))) {
    const { list, unlisted } = await listReleases(topology, services.catalog, { full: releasesAnswerFull });
    const releases = renderReleases(list, null, undefined, unlisted);
    return renderStrangerHome(userId, topology.admins, releases, USAGE.slice(0, 2900), notice, topology.consumers.length === 0);
  }
  const dashboard = await dashboardFor(
    {
      topology,
      report: (consumer, opts) => services.pins.report(consumer, opts),
      catalog: services.catalog,
      now: () => now,
      log: services.log,
    },
    userId,
  );
  return renderDashboard(dashboard, now, notice);
}
