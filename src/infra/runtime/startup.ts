// Start-up refusals with a message for the operator and the exit code to leave with (SPEC §6:
// a locked data dir, an unreadable state, a data dir that cannot be written).
import path from 'node:path';
import { StateCorruptError, StateUnwritableError } from '../../core/statePort.ts';
import type { AppConfig } from '../config/index.ts';
import { acquireDataDirLock, DataDirLockedError, type DataDirLock } from '../state/dataDirLock.ts';
import { openState, StateOpenError, type OpenedState, type OpenStateOptions } from '../state/open.ts';
import type { Logger } from './logger.ts';

/** Exit code when another process holds the data dir or the state file is unreadable. */
export const STARTUP_FAILURE_EXIT_CODE = 1;

export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  try {
    return await acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    throw unwritableDataDir(error, dataDir) ?? error;
  }
}

/** The configured state, or a StartupError saying what to fix. */
export async function openStateForStart(config: Pick<AppConfig, 'database' | 'dataDir'>, log: Logger, opts: OpenStateOptions): Promise<OpenedState> {
  try {
    return await openState(config, log, opts);
  } catch (error) {
    if (error instanceof StateCorruptError || error instanceof StateUnwritableError || error instanceof StateOpenError) {
      throw new StartupError(error.message, STARTUP_FAILURE_EXIT_CODE);
    }
    throw unwritableDataDir(error, config.dataDir) ?? error;
  }
}

/** A data dir that cannot be written (full disk, read-only, permissions): one line for the operator. */
export function unwritableDataDir(error: unknown, dataDir: string): StartupError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM' && code !== 'EDQUOT') return null;
  return new StartupError(
    `Cannot write the data dir ${path.resolve(dataDir)} (${code}: ${(error as Error).message}). Free space there or fix its permissions (SMVBOT_DATA_DIR), then start smvbot again.`,
    STARTUP_FAILURE_EXIT_CODE,
  );
}
