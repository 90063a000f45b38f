// The announcement status machine and the fan-out rule (SPEC §4), as the pure table both state
// stores build their guarded changes from; the matrix below is written out, not derived from it.
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCEMENT_STATUSES,
  ANNOUNCEMENT_TRANSITIONS,
  announcementChannels,
  firstStatus,
  nextStatus,
  type AnnouncementEvent,
} from '../src/domain/announcementStatus.ts';
import { ADOPTION_SETTLEMENTS, settles } from '../src/domain/adoptionSettlement.ts';
import type { AnnouncementStatus } from '../src/domain/records.ts';

const STATUSES: AnnouncementStatus[] = ['silent', 'pending', 'in_flight', 'posted', 'failed', 'unknown'];
const every = (to: AnnouncementStatus) => Object.fromEntries(STATUSES.map((from) => [from, to])) as Record<AnnouncementStatus, AnnouncementStatus>;

/** event → (from → to); a status not listed is refused. */
const EXPECTED: Record<AnnouncementEvent, Partial<Record<AnnouncementStatus, AnnouncementStatus>>> = {
  claim: { pending: 'in_flight' },
  posted: every('posted'),
  retry: every('pending'),
  failed: every('failed'),
  unknown: { in_flight: 'unknown', unknown: 'unknown' },
  interrupted: { in_flight: 'unknown' },
  'found-in-history': { unknown: 'posted' },
  'absent-from-history': { unknown: 'pending' },
  reopen: { failed: 'pending' },
};

const cases = (Object.keys(EXPECTED) as AnnouncementEvent[]).flatMap((event) => STATUSES.map((from) => ({ event, from, to: EXPECTED[event][from] })));

describe('announcement status transitions', () => {
  it('knows every status and every event', () => {
    expect([...ANNOUNCEMENT_STATUSES].sort()).toEqual([...STATUSES].sort());
    expect(Object.keys(ANNOUNCEMENT_TRANSITIONS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(cases.filter((c) => c.to !== undefined))('$event: $from → $to', ({ event, from, to }) => {
    expect(nextStatus(from, event)).toEqual({ ok: true, status: to });
  });

  it.each(cases.filter((c) => c.to === undefined))('$event: refused from $from', ({ event, from }) => {
    const step = nextStatus(from, event);
    expect(step).toEqual({ ok: false, refusal: { event, status: from, allowedFrom: expect.any(Array) } });
    if (!step.ok) expect([...step.refusal.allowedFrom].sort()).toEqual(Object.keys(EXPECTED[event]).sort());
  });

  it('never makes a post that may be in Slack claimable without its history being read', () => {
    // Only a transient error (the sender's own answer), a history without it, or a refusal tried again lead to pending.
    const toPending = cases.filter((c) => c.to === 'pending' && c.from !== 'pending').map((c) => c.event);
    expect(new Set(toPending)).toEqual(new Set(['retry', 'absent-from-history', 'reopen']));
    expect(nextStatus('unknown', 'reopen').ok).toBe(false);
    expect(nextStatus('in_flight', 'claim').ok).toBe(false);
  });

  it('a new announcement starts pending, or silent on a first sight', () => {
    expect(firstStatus(false)).toBe('pending');
    expect(firstStatus(true)).toBe('silent');
  });
});

describe('fan-out: the channels a version is announced in', () => {
  const sub = (channel: string, stage: string) => ({ channel, stage });

  it('the configured channels in their order, then subscribers of its stages or of *, sorted', () => {
    const subscriptions = [sub('C0ZZ', 'com.acme.geo'), sub('C0AA', '*'), sub('C0MM', 'com.acme.cms'), sub('C0OTHER', 'com.acme.trial')];
    expect(announcementChannels(['C0B', 'C0A'], subscriptions, ['com.acme.cms', 'com.acme.geo'])).toEqual(['C0B', 'C0A', 'C0AA', 'C0MM', 'C0ZZ']);
  });

  it('each channel once: a subscriber that is configured, or subscribed to several of its stages and to *', () => {
    const subscriptions = [sub('C0SUB', 'com.acme.geo'), sub('C0SUB', 'com.acme.cms'), sub('C0SUB', '*'), sub('C0ANNOUNCE', '*')];
    expect(announcementChannels(['C0ANNOUNCE', 'C0ANNOUNCE'], subscriptions, ['com.acme.cms', 'com.acme.geo'])).toEqual(['C0ANNOUNCE', 'C0SUB']);
  });

  it('no subscriber of another stage; none at all without configured channels or subscriptions', () => {
    expect(announcementChannels([], [sub('C0CMS', 'com.acme.cms')], ['com.acme.geo'])).toEqual([]);
    expect(announcementChannels(['C0ANNOUNCE'], [], [])).toEqual(['C0ANNOUNCE']);
    // `*` matches every stage, not a stage named like a pattern.
    expect(announcementChannels([], [sub('C0ALL', '*')], [])).toEqual(['C0ALL']);
    expect(announcementChannels([], [sub('C0GEO', 'com.acme.geo')], ['*'])).toEqual([]);
  });

  it('does not change its inputs', () => {
    const configured = ['C0B'];
    const subscriptions = [sub('C0Z', '*'), sub('C0A', '*')];
    announcementChannels(configured, subscriptions, []);
    expect(configured).toEqual(['C0B']);
    expect(subscriptions.map((s) => s.channel)).toEqual(['C0Z', 'C0A']);
  });
});

describe('adoption settlement', () => {
  it.each([
    ['intended', 'landed', true],
    ['intended', 'abandoned', true],
    ['abandoned', 'landed', true],
    ['abandoned', 'abandoned', false],
    ['landed', 'landed', false],
    ['landed', 'abandoned', false],
  ] as const)('%s settled as %s: %s', (from, outcome, moves) => {
    expect(settles(from, outcome)).toBe(moves);
    expect(ADOPTION_SETTLEMENTS[outcome].includes(from)).toBe(moves);
  });
});
