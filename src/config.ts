// Flags + environment -> one typed configuration object. Paths come from flags,
// the environment or the working directory, never from the module's own
// location (inside a compiled binary that directory is virtual).
import { dirname, resolve } from 'node:path'

/**
 * Every tunable of latch, with its default. The README's configuration table
 * lists them; change a default here and nowhere else.
 */
export interface Tunables {
  /** Request bodies larger than this are refused with 413 (identity meta may be 1 MB). */
  maxBodyBytes: number
  /** A request body must arrive in full within this many ms of the start of reading it, or 408. */
  bodyTimeoutMs: number
  /** JSON bodies nested deeper than this (arrays and objects) are refused with 400 before parsing. */
  maxJsonDepth: number
  /** Bun closes a connection that sends and receives nothing for this long (1..255 s; above bodyTimeoutMs so a 408 gets out first). */
  idleTimeoutSeconds: number
  /** How often batched writes (last-used times, verification events, credits) are flushed. */
  flushIntervalMs: number
  /** How often scheduled jobs (refills) run; they also run at start. */
  jobIntervalMs: number
  /** Verifiable keys held in memory; the oldest tenth is dropped at the cap. */
  keyCacheMaxEntries: number
  /** Root keys held in memory by hash; cleared at the cap. */
  rootKeyCacheMaxEntries: number
  /** Verification events buffered before a flush is forced. */
  verificationEventBuffer: number
  /** Ratelimit counters held in memory; the oldest is evicted at the cap. */
  ratelimitMaxCounters: number
  /** How long a write waits for another process's lock on the database before its request fails with 503. */
  writeBusyTimeoutMs: number
  /** Characters of tags one verification event keeps. */
  maxEventTagChars: number
  /** Verification events older than this many days are deleted by the scheduled job. */
  verificationRetentionDays: number
  /** Ratelimit decisions (analytics.getRatelimits' raw rows) older than this many days are deleted by the scheduled job. */
  ratelimitEventRetentionDays: number
  /** Days kept of the per-minute, per-hour, per-day and per-month analytics rollups (verifications and ratelimits). */
  minuteRollupRetentionDays: number
  hourRollupRetentionDays: number
  dayRollupRetentionDays: number
  monthRollupRetentionDays: number
  /** An analytics query still running after this many ms is stopped and answered with 422. */
  analyticsTimeoutMs: number
  /** Audit log events older than this many days are deleted by the scheduled job. */
  auditRetentionDays: number
}

export const DEFAULT_TUNABLES: Tunables = {
  maxBodyBytes: 2 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  maxJsonDepth: 64,
  idleTimeoutSeconds: 30,
  flushIntervalMs: 1_000,
  jobIntervalMs: 60_000,
  keyCacheMaxEntries: 1_000_000,
  rootKeyCacheMaxEntries: 10_000,
  verificationEventBuffer: 5_000,
  ratelimitMaxCounters: 1_000_000,
  writeBusyTimeoutMs: 5_000,
  maxEventTagChars: 1_024,
  verificationRetentionDays: 30,
  ratelimitEventRetentionDays: 30,
  minuteRollupRetentionDays: 30,
  hourRollupRetentionDays: 90,
  dayRollupRetentionDays: 365,
  monthRollupRetentionDays: 1095,
  analyticsTimeoutMs: 10_000,
  auditRetentionDays: 365,
}

export interface Config {
  port: number
  host: string
  dbPath: string
  /** Directory of the default database (and of the master key file of an in-memory one). */
  dataDir: string
  /** 32-byte key for recoverable keys, from LATCH_MASTER_KEY (base64 or hex). */
  masterKey?: string
  /**
   * The master key file, used when LATCH_MASTER_KEY is not set: master.key beside
   * the database, so that the key travels with the data it decrypts whatever the
   * working directory (<data dir>/master.key for an in-memory database).
   */
  masterKeyFile: string
  /** Emit one JSON log line per request. */
  logRequests: boolean
  tunables: Tunables
}

export class ConfigError extends Error {}

export function parsePort(value: string, source: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${source} must be a port number between 0 and 65535, got '${value}'`)
  }
  return port
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Parses durations such as `90s`, `15m`, `12h`, `30d`, `2w` (or a bare number of ms) into milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)?$/.exec(value.trim())
  if (!match) throw new ConfigError(`'${value}' is not a duration; use a whole number with a unit such as 30s, 15m, 12h, 30d or 2w`)
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!
  if (!Number.isSafeInteger(ms)) throw new ConfigError(`'${value}' is too long a duration`)
  return ms
}

export function loadConfig(
  flags: { port?: string; host?: string; db?: string } = {},
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): Config {
  const port = flags.port !== undefined ? parsePort(flags.port, '--port') : env.PORT ? parsePort(env.PORT, 'PORT') : 3000
  const dataDir = resolve(cwd, env.LATCH_DATA_DIR ?? 'data')
  const dbFlag = flags.db ?? env.LATCH_DB
  const dbPath = dbFlag ? (dbFlag === ':memory:' ? dbFlag : resolve(cwd, dbFlag)) : resolve(dataDir, 'latch.db')
  return {
    port,
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    dataDir,
    dbPath,
    masterKey: env.LATCH_MASTER_KEY || undefined,
    masterKeyFile: resolve(dbPath === ':memory:' ? dataDir : dirname(dbPath), 'master.key'),
    logRequests: env.LATCH_LOG !== 'off',
    tunables: DEFAULT_TUNABLES,
  }
}
