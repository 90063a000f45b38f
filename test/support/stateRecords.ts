// Records the state-store tests write: one version of com.acme.geo with two modules, one adoption intent.
import type { AdoptionIntent, NewVersion } from '../../src/domain/records.ts';

export const AT = '2024-08-02T10:01:00.000Z';
export const KEY = { publisher: 'public-data', version: 'TCD.20160802.geo', channel: 'C0ANNOUNCE' };

export function newVersion(version: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return {
    version,
    stages: ['com.acme.geo'],
    modules: [
      { fqn: 'com.acme.geo.Zip', stage: 'com.acme.geo', bytes: 100 },
      { fqn: 'com.acme.geo.County', stage: 'com.acme.geo', bytes: 200 },
    ],
    bytes: 300,
    completedAt: '2024-08-02T10:00:00.000Z',
    ...overrides,
  };
}

export function intent(id: string, overrides: Partial<AdoptionIntent> = {}): AdoptionIntent {
  return {
    id,
    intendedAt: AT,
    action: 'adopt',
    consumer: 'client-model',
    stage: 'com.acme.geo',
    from: 'TCD.20160701.geo',
    to: 'TCD.20160802.geo',
    commit: `${id.padEnd(40, '0')}`,
    parent: 'f'.repeat(40),
    mode: 'push',
    target: 'main',
    user: { id: 'U0ADOPTER', name: 'Bea Adopter' },
    channel: 'C0TEAMB',
    ...overrides,
  };
}
