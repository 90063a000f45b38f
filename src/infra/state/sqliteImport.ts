// The one-time import of an earlier release's JSON state into the embedded store (SPEC §6).
import { nextStatus } from '../../domain/announcementStatus.ts';
import type { LegacyState } from './legacyState.ts';
import type { Statements } from './sqliteStatements.ts';

/** Copy an earlier release's state in (inside the caller's transaction). */
export function importState(st: Statements, legacy: LegacyState, files: string[], at: string): { versions: number; adoptions: number } {
  let versions = 0;
  for (const [publisher, { versions: byName }] of Object.entries(legacy.publishers)) {
    st.addPublisher.run(publisher, at);
    for (const v of Object.values(byName)) {
      st.addVersion.run(publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, v.recordedAt);
      st.setRemovedImported.run(v.removedAt ?? null, v.recordedAt, publisher, v.version);
      for (const stage of v.stages) st.addVersionStage.run(stage, publisher, v.version, v.completedAt);
      for (const [channel, a] of Object.entries(v.announcements)) {
        // The old release died mid-post: Slack may have the message, so it is not sent again.
        const interrupted = nextStatus(a.status, 'interrupted');
        st.setAnnouncementImported.run(
          publisher,
          v.version,
          channel,
          interrupted.ok ? interrupted.status : a.status,
          a.ts ?? null,
          a.attempts,
          interrupted.ok ? 'in flight when the earlier release stopped; not re-posted to avoid a duplicate' : (a.lastError ?? null),
          a.updatedAt,
        );
      }
      versions++;
    }
  }
  for (const a of legacy.adoptions) {
    st.importAdoption.run({
      id: a.id,
      at: a.at,
      action: a.action,
      consumer: a.consumer,
      stage: a.stage,
      from_version: a.from,
      to_version: a.to,
      commit_sha: a.commit,
      mode: a.mode,
      target: a.branch ?? '',
      user_id: a.user.id,
      user_name: a.user.name,
    });
  }
  if (legacy.initializedAt) st.setMetaIfAbsent.run('initialized_at', legacy.initializedAt);
  st.setMeta.run('imported_at', at);
  st.setMeta.run('imported_from', JSON.stringify(files));
  return { versions, adoptions: legacy.adoptions.length };
}
