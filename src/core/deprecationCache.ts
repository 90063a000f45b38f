// Deprecations are read by answers that must be quick (`/smv releases` in the ack, for every
// stage) and change rarely: cached per stage, dropped when one changes here or, with several
// replicas, when another replica says the recorded versions changed.
import type { Deprecation } from '../domain/records.ts';
import type { StatePort } from './statePort.ts';

export class DeprecationCache {
  private readonly byStage = new Map<string, Promise<readonly Deprecation[]>>();

  constructor(private readonly state: Pick<StatePort, 'deprecationsOf'>) {}

  /** The stage's deprecations, newest first. */
  of(stageFqn: string): Promise<readonly Deprecation[]> {
    let cached = this.byStage.get(stageFqn);
    if (!cached) {
      cached = this.state.deprecationsOf(stageFqn);
      this.byStage.set(stageFqn, cached);
      // A failed read is not remembered.
      cached.catch(() => this.byStage.delete(stageFqn));
    }
    return cached;
  }

  invalidate(): void {
    this.byStage.clear();
  }
}
