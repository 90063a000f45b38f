// Each consumer's clone (one per consumer, under the data dir), the workspaces that run changes
// one at a time per consumer (across replicas with `lock`), and the last failed fetch of each
// repo for /healthz.
import path from 'node:path';
import { propsEncodingOf } from '../../core/consumerPins.ts';
import { NO_METRICS, type Metrics } from '../../core/metrics.ts';
import type { Problem } from '../../core/problemBoard.ts';
import type { Topology } from '../../core/topology.ts';
import { ConsumerWorkspaces, RepoAccessError, type ConsumerLock } from '../../core/workspaces.ts';
import type { GitFailure } from '../../domain/gitFailure.ts';
import { redactUrlCredentials } from '../../domain/redact.ts';
import type { AppConfig } from '../config/index.ts';
import { ConsumerRepo } from './consumerRepo.ts';
import { createGitRunner, measuredGitRunner } from './gitRunner.ts';

export interface ConsumerRepos {
  workspaces: ConsumerWorkspaces;
  /** Where a consumer's clone lives. */
  dirOf(consumer: { name: string }): string;
  /** Each consumer repo whose last fetch failed, with git's gist. */
  problems(topology: Topology): Problem[];
}

export function openConsumerRepos(config: Pick<AppConfig, 'dataDir' | 'git'>, scrub: (text: string) => string, lock: ConsumerLock, metrics: Pick<Metrics, 'gitOperation'> = NO_METRICS): ConsumerRepos {
  const dirOf = (consumer: { name: string }) => path.join(config.dataDir, 'repos', safeDirName(consumer.name));
  const git = measuredGitRunner(createGitRunner(config.git.env, { timeoutMs: config.git.timeoutSeconds * 1000 }), (kind, outcome, seconds) => metrics.gitOperation(kind, outcome, seconds));
  const repos = new Map<string, ConsumerRepo>();
  const fetchFailures = new Map<string, GitFailure>();
  const workspaces = new ConsumerWorkspaces((consumer) => {
    let repo = repos.get(consumer.name);
    if (!repo) {
      repo = new ConsumerRepo(git, dirOf(consumer), consumer.repo, consumer.branch, {
        propsEncoding: propsEncodingOf(consumer),
        onFetchResult: (error) => {
          // The gist is shown in /healthz: scrubbed like any output.
          if (error instanceof RepoAccessError) fetchFailures.set(consumer.name, { kind: error.failure.kind, gist: scrub(error.failure.gist) });
          else fetchFailures.delete(consumer.name);
        },
      });
      repos.set(consumer.name, repo);
    }
    return repo;
  }, lock);
  const problems = (topology: Topology): Problem[] =>
    topology.consumers.flatMap((c) => {
      const failure = fetchFailures.get(c.name);
      if (!failure) return [];
      const where = `${c.name} (${redactUrlCredentials(c.repo)}, branch ${c.branch})`;
      return [{ kind: 'consumer-repo-unreachable', detail: `${where}: last fetch failed (${failure.kind}): ${failure.gist}` }];
    });
  return { workspaces, dirOf, problems };
}

function safeDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
