// The smvbot.yml schemas (SPEC §3): what each key may hold, with the words a person reads when it
// does not. The checks across items live in topology.ts.
import { validate as isValidCron, validateDetailed as explainCron } from 'node-cron';
import { z } from 'zod';
import { isInsideRepo, isUsableBranchName } from './checks.ts';

export const DEFAULT_SCAN_SCHEDULE = '*/1 * * * *';
export const DEFAULT_CONF_PATH = 'conf/smv-user-conf.props';

export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const STAGE_FQN = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
export const CONNECTION_NAME = /^[A-Za-z0-9_]+([.-][A-Za-z0-9_]+)*$/;

export const nameSchema = z.string().regex(NAME, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a usable name: use letters, digits, ".", "_" or "-" (it is typed in commands)`,
});
export const channelIdSchema = z.string().regex(CHANNEL_ID, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack channel id (like C0123ABCD); ` +
    "copy the Channel ID from the bottom of the channel's About tab",
});
export const userIdSchema = z.string().regex(USER_ID, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD); ` +
    "copy it from the person's profile (⋮ → Copy member ID)",
});
export const adopterSchema = z.string().refine((s) => s === '*' || USER_ID.test(s), {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a Slack user id (like U0123ABCD) or "*" (anyone); ` +
    "copy ids from people's profiles (⋮ → Copy member ID)",
});
export const pathSchema = z.string().min(1, { error: 'must not be empty' });
export const cronSchema = z.string().refine(isValidCron, {
  error: (iss) => {
    const why = explainCron(String(iss.input)).errors.map((e) => e.message).join('; ');
    return (
      `${JSON.stringify(iss.input)} is not a valid cron expression${why ? ` (${why})` : ''}; ` +
      `use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. "${DEFAULT_SCAN_SCHEDULE}"`
    );
  },
});
export const branchSchema = z.string().refine(isUsableBranchName, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a valid git branch name`,
});
export const confPathSchema = z.string().refine(isInsideRepo, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} must be a relative path inside the repo, e.g. "${DEFAULT_CONF_PATH}"`,
});
export const connectionNameSchema = z.string().regex(CONNECTION_NAME, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a usable SMV connection name: use letters, digits, "_", "-" or "." (it becomes smv.conn.<name>.path)`,
});
export const smvPathSchema = z.string().refine((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s), {
  error: 'must be the publish dir as SMV names it, e.g. "hdfs:///data/team-c/publish" (not empty, no control characters)',
});
export const stageFqnSchema = z.string().regex(STAGE_FQN, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a stage FQN (a package name like com.acme.geo)`,
});

export const scanSchema = z.strictObject({ schedule: cronSchema.default(DEFAULT_SCAN_SCHEDULE) });
export const digestSchema = z.strictObject({ schedule: cronSchema });
export const publisherSchema = z.strictObject({
  name: nameSchema,
  publishDir: pathSchema,
  appConf: pathSchema.optional(),
  stages: z.array(stageFqnSchema).optional(),
  channels: z.array(channelIdSchema),
  settleSeconds: z.number().int().min(0).default(30),
  owners: z.array(userIdSchema).default([]),
});
export const consumerSchema = z.strictObject({
  name: nameSchema,
  repo: z.string().trim().min(1, {
    error: 'must not be empty: give a git URL (git@host:team/repo.git, ssh://…, https://…, file://…) or a local path',
  }),
  branch: branchSchema.default('main'),
  confPath: confPathSchema.default(DEFAULT_CONF_PATH),
  publishDir: pathSchema.optional(),
  channels: z.array(channelIdSchema).default([]),
  adopters: z.array(adopterSchema).default([]),
  mode: z.enum(['push', 'branch']).default('push'),
  minAgeHours: z.number().min(0).max(24 * 365).default(0),
  smvVersion: z.union([z.string(), z.number()]).transform(String).optional(),
  pinStyle: z.enum(['stageVersion', 'connection']).optional(),
  connectionsPath: confPathSchema.optional(),
  connections: z.record(z.string(), connectionNameSchema).optional(),
  smvPublishDir: smvPathSchema.optional(),
});
// Items are checked one by one below, so one bad publisher doesn't hide the others' problems.
export const topSchema = z.strictObject({
  scan: scanSchema.default({ schedule: DEFAULT_SCAN_SCHEDULE }),
  digest: digestSchema.optional(),
  publishers: z.array(z.unknown()).min(1, { error: 'at least one publisher is needed' }),
  consumers: z.array(z.unknown()).default([]),
  admins: z.array(userIdSchema).default([]),
});

export const ALLOWED_KEYS: Record<string, readonly string[]> = {
  top: Object.keys(topSchema.shape),
  scan: Object.keys(scanSchema.shape),
  digest: Object.keys(digestSchema.shape),
  publisher: Object.keys(publisherSchema.shape),
  consumer: Object.keys(consumerSchema.shape),
};

/** Reads and checks smvbot.yml; null when anything is wrong (every problem is in `problems`). */
