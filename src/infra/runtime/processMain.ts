// `npm start` as a process: read the config (exit 2 listing every problem), start, and stop
// cleanly on SIGTERM/SIGINT (exit 0), or leave with a start-up refusal's exit code.
import { CONFIG_EXIT_CODE, formatConfigProblems, loadConfig, type AppConfig } from '../config/index.ts';
import { StartupError } from './startup.ts';

export async function runAsProcess(start: (config: AppConfig) => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const loaded = loadConfig({ requireSlack: true });
  if (!loaded.ok) {
    process.stderr.write(formatConfigProblems(loaded.problems) + '\n');
    process.exit(CONFIG_EXIT_CODE);
  }
  // Signals are handled from the start: a stop asked for during start-up (e.g. while the first
  // scan is posting) waits for it to finish, so no post is left in flight and the lock is freed.
  let bot: { stop(): Promise<void> } | undefined;
  let stopAsked = false;
  const stop = (running: { stop(): Promise<void> }) => {
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`smvbot: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    stopAsked = true;
    process.stderr.write(`smvbot: ${signal} received, stopping${bot ? '' : ' once start-up has finished'}\n`);
    if (bot) stop(bot);
  };
  // `once`: a second signal gets Node's default handling, so an impatient operator can still force it.
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    bot = await start(loaded.config);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`smvbot cannot start: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
  if (stopAsked) stop(bot);
}
