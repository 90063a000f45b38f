// The pin change as a pure plan: file texts in, the new text of one file and the commit's words
// out. No git, no disk: the same inputs give the same plan, which is what lets the publisher
// re-plan on a moved remote.
import { describe, expect, it } from 'vitest';
import { commitMessageOf, planPinEdit, pushTargetOf, type PinChange } from '../src/core/pinPlan.ts';
import { Topology, type ConsumerSpec, type PublisherSpec } from '../src/core/topology.ts';

const publisher: PublisherSpec = { name: 'public-data', publishDir: '/srv/publish', stages: ['com.acme.geo', 'com.acme.cms'], channels: [], settleSeconds: 30 };
const stageConsumer: ConsumerSpec = { name: 'client-model', repo: '/srv/repo.git', branch: 'main', confPath: 'conf/smv-user-conf.props', channels: [], adopters: ['*'], mode: 'push' };
const connectionConsumer: ConsumerSpec = {
  ...stageConsumer,
  name: 'team-c',
  pinStyle: 'connection',
  connections: { 'com.acme.geo': 'pdd_geo' },
  smvPublishDir: '/srv/team-c/publish',
};
const topology = new Topology([publisher], [stageConsumer, connectionConsumer], []);
const geo = topology.stage('com.acme.geo')!;
const actor = { id: 'U0BEA', name: 'Bea Lopez' };

const USER_CONF = '# our pins\nsmv.stages.geo.version = TCD.20160701.geo\nsmv.stages.cms.version : TCD.20160701.cms\n';
const APP_CONF = 'smv.stages = com.acme.geo, com.acme.cms\nsmv.stages.geo.version = TCD.20160601.geo\n';
/** SMV reads stage versions only for the stages its `smv.stages` lists. */
const LISTING = 'smv.stages = com.acme.geo, com.acme.cms\n';

function texts(files: Record<string, string | null>): ReadonlyMap<string, string | null> {
  return new Map(Object.entries(files));
}

describe('planPinEdit', () => {
  it('adopts by splicing the value in the user conf, keeping every other byte, and says what was pinned before', () => {
    const change: PinChange = { action: 'adopt', consumer: stageConsumer, stage: geo, to: 'TCD.20160802.geo', actor };
    const edit = planPinEdit(change, texts({ 'conf/smv-user-conf.props': USER_CONF, 'conf/smv-app-conf.props': APP_CONF }), topology.stages);

    expect(edit).toMatchObject({ ok: true, file: 'conf/smv-user-conf.props', changed: true, previous: { version: 'TCD.20160701.geo' }, stillPinnedBy: null });
    if (!edit.ok) throw new Error('unreachable');
    expect(edit.text).toBe(USER_CONF.replace('TCD.20160701.geo', 'TCD.20160802.geo'));
    expect(commitMessageOf(change, edit.previous)).toBe(
      'Adopt geo TCD.20160802.geo for client-model\n\nPrevious: TCD.20160701.geo\nAdopted-by: Bea Lopez (U0BEA)\n',
    );
  });

  it('plans nothing to commit when the pin already is the version', () => {
    const change: PinChange = { action: 'adopt', consumer: stageConsumer, stage: geo, to: 'TCD.20160701.geo', actor };
    const edit = planPinEdit(change, texts({ 'conf/smv-user-conf.props': USER_CONF, 'conf/smv-app-conf.props': LISTING }), topology.stages);
    expect(edit).toMatchObject({ ok: true, changed: false, text: USER_CONF });
  });

  it('unpins from the user conf and says the app conf still pins the stage', () => {
    const change: PinChange = { action: 'unpin', consumer: stageConsumer, stage: geo, to: null, actor };
    const edit = planPinEdit(change, texts({ 'conf/smv-user-conf.props': USER_CONF, 'conf/smv-app-conf.props': APP_CONF }), topology.stages);

    expect(edit).toMatchObject({ ok: true, changed: true, previous: { version: 'TCD.20160701.geo' }, stillPinnedBy: { version: 'TCD.20160601.geo' } });
    if (!edit.ok) throw new Error('unreachable');
    expect(edit.text).not.toContain('smv.stages.geo.version');
    expect(edit.text).toContain('smv.stages.cms.version : TCD.20160701.cms');
    expect(commitMessageOf(change, edit.previous)).toBe('Unpin geo for client-model\n\nPrevious: TCD.20160701.geo\nUnpinned-by: Bea Lopez (U0BEA)\n');
  });

  it('pins a connection consumer in its connections file', () => {
    const change: PinChange = { action: 'adopt', consumer: connectionConsumer, stage: geo, to: 'TCD.20160802.geo', actor };
    const connections = 'smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = /srv/team-c/publish/TCD.20160701.geo\n';
    const edit = planPinEdit(
      change,
      texts({ 'conf/smv-user-conf.props': null, 'conf/smv-app-conf.props': null, 'conf/connections.props': connections }),
      topology.stages,
    );
    expect(edit).toMatchObject({ ok: true, file: 'conf/connections.props', changed: true, previous: { version: 'TCD.20160701.geo' } });
    if (!edit.ok) throw new Error('unreachable');
    expect(edit.text).toBe(connections.replace('TCD.20160701.geo', 'TCD.20160802.geo'));
  });

  it('refuses a file it cannot parse, and plans no text', () => {
    const change: PinChange = { action: 'adopt', consumer: stageConsumer, stage: geo, to: 'TCD.20160802.geo', actor };
    const broken = 'smv.stages.geo.version = \\uXYZW\n';
    const edit = planPinEdit(change, texts({ 'conf/smv-user-conf.props': broken, 'conf/smv-app-conf.props': null }), topology.stages);
    expect(edit).toMatchObject({ ok: false, code: 'props-syntax-error' });
    expect(edit).not.toHaveProperty('text');
  });
});

describe('pushTargetOf', () => {
  it("pushes to the consumer's branch, or in branch mode to the bot's own review branch", () => {
    const adopt: PinChange = { action: 'adopt', consumer: stageConsumer, stage: geo, to: 'TCD.20160802.geo', actor };
    expect(pushTargetOf(adopt)).toEqual({ branch: 'main', review: false });
    const review = { ...adopt, consumer: { ...stageConsumer, mode: 'branch' as const } };
    expect(pushTargetOf(review)).toEqual({ branch: 'smvbot/adopt/geo/TCD.20160802.geo', review: true });
    expect(pushTargetOf({ ...review, action: 'unpin', to: null })).toEqual({ branch: 'smvbot/unpin/geo', review: true });
  });
});
