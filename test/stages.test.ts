import { describe, expect, it } from 'vitest';
import {
  ambiguousBaseNames,
  parseStagesList,
  readStagesFromAppConf,
  resolveStage,
  stageLabels,
  stageOfModule,
  toStage,
} from '../src/domain/stages.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { SMV_SAMPLES } from './support/javaPropsSamples.ts';


describe('smv.stages lists', () => {
  it.each([
    ['s1,s2,s3', ['s1', 's2', 's3']],
    ['stage1, stage2', ['stage1', 'stage2']],
    ['com.acme.geo:com.acme.cms', ['com.acme.geo', 'com.acme.cms']],
    [' a , ,b,, : c ', ['a', 'b', 'c']],
    ['a,a,b', ['a', 'b']],
    ['', []],
    ['\t', []],
  ])('%j → %j', (value, expected) => {
    expect(parseStagesList(value)).toEqual(expected);
  });

  it("reads SMV's enterprise template, where smv.stages continues with a backslash", () => {
    expect(readStagesFromAppConf(SMV_SAMPLES['enterprise/smv-app-conf.props'])).toEqual(['stage1', 'stage2']);
  });

  it("reads SMV's test config list and ignores a missing key", () => {
    expect(readStagesFromAppConf(SMV_SAMPLES['testSmvConfig/smv-user-conf.props'])).toEqual(['s1', 's2', 's3']);
    expect(readStagesFromAppConf(SMV_SAMPLES['testSmvConfig/smv-app-conf.props'])).toEqual([]);
  });

  it('uses the last smv.stages, with : separators and CRLF', () => {
    expect(readStagesFromAppConf('smv.stages = old\r\nsmv.stages : com.a.x : \\\r\n   com.b.y\r\n')).toEqual(['com.a.x', 'com.b.y']);
  });
});

describe('stage names', () => {
  it('base name is the last segment', () => {
    expect(toStage('com.acme.geo')).toEqual({ fqn: 'com.acme.geo', baseName: 'geo' });
    expect(toStage('geo')).toEqual({ fqn: 'geo', baseName: 'geo' });
  });

  it.each([
    ['com.acme.geo.Zip', 'com.acme.geo'],
    ['com.acme.geo.sub.Zip', 'com.acme.geo.sub'],
    ['com.acme.geography.Zip', null],
    ['com.acme.geo', null],
    ['org.other.Thing', null],
  ])('module %s belongs to %s', (moduleFqn, stage) => {
    expect(stageOfModule(moduleFqn, ['com.acme.geo', 'com.acme.geo.sub', 'com.acme.cms'])).toBe(stage);
  });

  it('finds base names shared by several stages', () => {
    const stages = ['com.acme.geo', 'org.other.geo', 'com.acme.cms'].map(toStage);
    expect(ambiguousBaseNames(stages)).toEqual(new Map([['geo', ['com.acme.geo', 'org.other.geo']]]));
    expect(stageLabels(stages)).toEqual(['com.acme.geo', 'org.other.geo', 'cms']);
  });
});

describe('resolveStage', () => {
  const stages = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'].map(toStage);
  const withClash = [...stages, toStage('org.other.geo')];

  it('accepts a base name or an FQN', () => {
    expect(resolveStage('geo', stages)).toEqual({ ok: true, stage: toStage('com.acme.geo') });
    expect(resolveStage(' com.acme.cms ', stages)).toEqual({ ok: true, stage: toStage('com.acme.cms') });
    expect(resolveStage('org.other.geo', withClash)).toEqual({ ok: true, stage: toStage('org.other.geo') });
  });

  it('an exact FQN wins over a shared base name', () => {
    expect(resolveStage('geo', [toStage('geo'), toStage('com.acme.geo')])).toEqual({ ok: true, stage: toStage('geo') });
  });

  it('refuses an unknown stage, listing the known ones and an example', () => {
    const result = resolveStage('geography', stages);
    expect(result).toMatchObject({ ok: false, code: 'unknown-stage' });
    expect(!result.ok && refusalText(result)).toBe('Unknown stage `geography`. Known stages: geo, cms, trial. Type one of them (base name or FQN), e.g. `geo`.');
  });

  it('refuses an ambiguous base name, listing the FQNs to type instead', () => {
    const result = resolveStage('geo', withClash);
    expect(result).toMatchObject({ ok: false, code: 'ambiguous-stage' });
    expect(!result.ok && refusalText(result)).toBe(
      'Stage `geo` is ambiguous: it is the base name of `com.acme.geo`, `org.other.geo`. Type one of those FQNs instead, e.g. `com.acme.geo`.',
    );
  });

  it('lists FQNs for shared base names among the known stages', () => {
    const result = resolveStage('nope', withClash);
    expect(!result.ok && refusalText(result)).toContain('Known stages: com.acme.geo, cms, trial, org.other.geo.');
  });

  it('refuses empty input and an empty stage list with what to do', () => {
    expect(resolveStage('  ', stages)).toMatchObject({ ok: false, code: 'missing-stage' });
    const none = resolveStage('geo', []);
    expect(none).toMatchObject({ ok: false, code: 'unknown-stage' });
    expect(!none.ok && refusalText(none)).toContain('no stages are configured');
  });
});
