import { AnnouncementDelivery, type DeliveryPorts, type DeliverySummary } from './announcementDelivery.ts';
import { VersionScan, type ScanStatus, type VersionScanPorts, type VersionScanSummary } from './versionScan.ts';

export type ScanPorts = VersionScanPorts & DeliveryPorts & { state: VersionScanPorts['state'] & DeliveryPorts['state'] };

export type ScanSummary = VersionScanSummary & DeliverySummary;

/**
 * Scan, then deliver: what the schedule, the watcher and start-up ask for. The two run apart
 * (each one pass at a time), so a scan triggered while a paced burst is being posted runs at once.
 */
export class ScanAndAnnounce {
  private readonly scan: VersionScan;
  private readonly delivery: AnnouncementDelivery;

  constructor(ports: ScanPorts) {
    this.scan = new VersionScan(ports);
    this.delivery = new AnnouncementDelivery(ports);
  }

  /**
   * Scan (or join the scan running), then post what is pending (or join the delivery running).
   * `post: false` stops after the scan: its announcements wait in state, pending.
   */
  async trigger(opts: { post?: boolean } = {}): Promise<ScanSummary> {
    const scanned = await this.scan.trigger();
    return { ...scanned, ...(opts.post === false ? { announced: 0, failedPosts: 0 } : await this.delivery.trigger()) };
  }

  /**
   * This replica just became the leader: what another leader recorded meanwhile is read afresh,
   * and posts the previous leader left in flight are settled before anything is posted.
   */
  leadershipTaken(): void {
    this.scan.leadershipTaken();
    this.delivery.leadershipTaken();
  }

  status(): ScanStatus {
    return this.scan.status();
  }

  /** Why posting is stopped (Slack refused the token), or null while the bot may post. */
  postingStopped(): string | null {
    return this.delivery.postingStopped();
  }

  /** Resolves when neither a scan nor a delivery runs. */
  async idle(): Promise<void> {
    // A scan that ends starts a delivery, and a trigger may start a scan meanwhile: wait until both rest.
    do {
      await this.scan.idle();
      await this.delivery.idle();
    } while (this.scan.busy || this.delivery.busy);
  }
}
