// What the stand-in's Slack holds: messages as they now stand, the views opened or published, the
// user and channel directories, the response URLs it issued, and the timestamps and ids it hands
// out (unique and increasing, as Slack's are).
import { randomBytes } from 'node:crypto';
import type { StoredMessage, StoredView } from './types.ts';

export class SlackStore {
  private readonly users = new Map<string, string>();
  private readonly channels = new Map<string, string>();
  private readonly storedMessages: StoredMessage[] = [];
  private readonly storedViews: StoredView[] = [];
  private readonly issuedResponseIds = new Set<string>();
  private counter = 0;
  private lastTsMicros = 0;

  constructor(users: Record<string, string> = {}, channels: Record<string, string> = {}) {
    for (const [id, name] of Object.entries(users)) this.users.set(id, name);
    for (const [id, name] of Object.entries(channels)) this.channels.set(id, name);
  }

  // ---------- directories ----------

  setUser(userId: string, realName: string): void {
    this.users.set(userId, realName);
  }

  realNameOf(userId: string): string {
    return this.users.get(userId) ?? userId;
  }

  channelName(channelId: string): string {
    return this.channels.get(channelId) ?? channelId.toLowerCase();
  }

  userHandle(userId: string): string {
    const realName = this.users.get(userId);
    return realName ? realName.toLowerCase().replace(/\s+/g, '.') : userId.toLowerCase();
  }

  // ---------- messages and views ----------

  /** Copies of the messages as they now stand, in posting order. */
  messages(channel?: string): StoredMessage[] {
    return this.storedMessages.filter((m) => channel === undefined || m.channel === channel).map((m) => ({ ...m }));
  }

  storeMessage(message: StoredMessage): void {
    this.storedMessages.push(message);
  }

  /** The message itself (not a copy: chat.update edits it), never an ephemeral one. */
  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.storedMessages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo);
  }

  views(): StoredView[] {
    return this.storedViews.map((v) => ({ ...v }));
  }

  findView(id: string): StoredView | undefined {
    return this.storedViews.find((v) => v.id === id);
  }

  /** The latest opened view with this `callback_id`. */
  latestViewWithCallback(callbackId: string): StoredView | undefined {
    return [...this.storedViews].reverse().find((v) => v.view.callback_id === callbackId);
  }

  /** Adds the view, or replaces the one with its id. */
  storeView(view: StoredView): void {
    const existing = this.storedViews.findIndex((v) => v.id === view.id);
    if (existing >= 0) this.storedViews[existing] = view;
    else this.storedViews.push(view);
  }

  // ---------- response URLs ----------

  /** A fresh, unique response URL id (served under `/response/<id>`). */
  issueResponseId(): string {
    const id = `R${this.nextCounter()}${randomBytes(6).toString('hex')}`;
    this.issuedResponseIds.add(id);
    return id;
  }

  isIssuedResponseId(id: string): boolean {
    return this.issuedResponseIds.has(id);
  }

  // ---------- timestamps and ids ----------

  /** Unique, increasing message timestamp like `1700000000.000100`. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  viewId(): string {
    return `V${String(this.nextCounter()).padStart(10, '0')}`;
  }

  triggerId(): string {
    return `${this.nextCounter()}.${Date.now()}.${randomBytes(16).toString('hex')}`;
  }

  nextCounter(): number {
    return ++this.counter;
  }
}
