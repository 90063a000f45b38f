// Figure 4, adopt. Latency: signed `/smv adopt <stage> <version>` → the in-channel answer on
// response_url, versus the same git steps as a shell script on its own clone (fetch, reset --hard
// to origin/main, sed one line, commit, push). Bot and floor samples alternate; each sample is a
// real change (versions alternate). Then 20 adopts for 20 stages sent at once: all must land.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import { againstFloor, type Figure } from './report.ts';
import { SignedClient } from './signedClient.ts';
import { median, round } from './stats.ts';
import { ADOPTER, CONF_PATH, GIT_ENV, SIGNING_SECRET, TEAM_CHANNEL, type BenchWorld } from './world.ts';

const FLOOR_SCRIPT = `#!/bin/sh
# What a person does to pin a version by hand: $1 = clone, $2 = stage base name, $3 = version.
set -e
cd "$1"
git fetch -q origin
git reset -q --hard origin/main
sed -i "s/^smv\\.stages\\.$2\\.version = .*/smv.stages.$2.version = $3/" ${CONF_PATH}
git commit -q -a -m "Adopt $2 $3 for client-model"
git push -q origin HEAD:main
`;

function runFloor(script: string, clone: string, base: string, version: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('sh', [script, clone, base, version], { env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`floor script failed (exit ${code}): ${stderr}`));
    });
  });
}

function replyText(body: unknown): string {
  return JSON.stringify(body);
}

export async function runAdoptPhase(
  world: BenchWorld,
  standIn: SlackStandIn,
  botUrl: string,
  opts: { samples: number; concurrent: number },
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const client = new SignedClient(botUrl, SIGNING_SECRET);
  const script = path.join(world.root, 'floor-adopt.sh');
  fs.writeFileSync(script, FLOOR_SCRIPT, { mode: 0o755 });
  const last = world.size.versionsPerStage - 1;

  const adopt = async (stage: number, version: string): Promise<{ ms: number; text: string }> => {
    const req = standIn.slashCommand({ text: `adopt ${world.baseName(stage)} ${version}`, userId: ADOPTER, channelId: TEAM_CHANNEL });
    const sentAt = Date.now();
    const ack = await client.send(req);
    if (ack.status !== 200) throw new Error(`bot answered /smv adopt with HTTP ${ack.status}: ${ack.text}`);
    if (ack.text.trim()) throw new Error(`/smv adopt was refused in the ack: ${ack.text}`);
    const answer = await standIn.waitForResponse(req.responseUrl, 120_000);
    const text = replyText(answer.body);
    if (!text.includes('adopted') || !text.includes('in_channel')) throw new Error(`/smv adopt did not land: ${text.slice(0, 400)}`);
    return { ms: answer.atMs - sentAt, text };
  };

  try {
    // Latency: bot on stage 0, floor on stage 1, alternating versions so every run changes the file.
    const botMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = -1; i < opts.samples; i++) {
      const v = world.versionName(0, i % 2 === 0 ? last : last - 1);
      const f = world.versionName(1, i % 2 === 0 ? last : last - 1);
      const b = await adopt(0, v);
      const fl = await runFloor(script, world.floorClone, world.baseName(1), f);
      if (i >= 0) {
        botMs.push(b.ms);
        floorMs.push(fl);
      }
    }
    progress(`adopt: bot p50 ${median(botMs).toFixed(0)} ms, floor p50 ${median(floorMs).toFixed(0)} ms`);

    // Concurrency: distinct stages from 2 on, each to its newest version, all sent at once.
    const stages = Array.from({ length: Math.min(opts.concurrent, world.stages.length - 2) }, (_, i) => i + 2);
    const commitsBefore = world.remoteCommitCount();
    const start = performance.now();
    const results = await Promise.allSettled(stages.map((s) => adopt(s, world.versionName(s, last))));
    const totalMs = performance.now() - start;
    const failed = results.filter((r) => r.status === 'rejected');
    const conf = world.remoteFile();
    const pinned = stages.filter((s) => conf.includes(`smv.stages.${world.baseName(s)}.version = ${world.versionName(s, last)}`));
    const commits = world.remoteCommitCount() - commitsBefore;
    const landed = failed.length === 0 && pinned.length === stages.length && commits === stages.length;
    progress(
      `concurrent adopts: ${stages.length} sent, ${stages.length - failed.length} answered "adopted", ${pinned.length} pins on the remote, ${commits} commits, ${totalMs.toFixed(0)} ms` +
        (failed.length ? `; first failure: ${String((failed[0] as PromiseRejectedResult).reason)}` : ''),
    );

    const floorP50 = median(floorMs);
    return [
      againstFloor('adopt_p50_ms', median(botMs), floorP50, 1.5, {
        samples: botMs.length,
        floorWhat: 'shell: fetch, reset --hard, sed, commit, push',
        extra: { bot_max_ms: round(Math.max(...botMs)), floor_max_ms: round(Math.max(...floorMs)) },
      }),
      {
        figure: `adopt_concurrent_${stages.length}_total_ms`,
        value: totalMs,
        unit: 'ms',
        floor: stages.length * floorP50,
        floorWhat: `${stages.length} × floor p50 (serial by hand; context)`,
        ratio: totalMs / (stages.length * floorP50),
        goal: `all ${stages.length} land`,
        met: landed,
        samples: 1,
        extra: { answered: stages.length - failed.length, pins_on_remote: pinned.length, new_commits: commits },
      },
    ];
  } finally {
    client.close();
  }
}
