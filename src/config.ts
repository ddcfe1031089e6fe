// Flags + environment -> one typed configuration object. Paths come from flags,
// the environment or the working directory, never from the module's own
// location (inside a compiled binary that directory is virtual).
import { existsSync, readFileSync } from 'node:fs'
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
  /**
   * Verifiable keys held in memory; the oldest tenth is dropped at the cap. Unknown keys are
   * remembered apart, at most a tenth of this many.
   */
  keyCacheMaxEntries: number
  /**
   * Of those, keys held as objects (about 0.5 KB each). Past this, a key without identity,
   * permissions, roles, ratelimits, credits or encrypted copy is held packed in one string
   * (about 0.3 KB) and rebuilt by each verification (under a microsecond).
   */
  keyCacheObjectEntries: number
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
  keyCacheObjectEntries: 100_000,
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
  /** The SQLite database file (ignored when `databaseUrl` is set). */
  dbPath: string
  /**
   * PostgreSQL URL (postgres:// or postgresql://), from --database-url or
   * LATCH_DATABASE_URL: cluster mode, where any number of nodes serve one
   * database. Null: the SQLite file at `dbPath`, one serving process.
   */
  databaseUrl: string | null
  /** Redis URL (redis:// or rediss://), from --redis-url or LATCH_REDIS_URL; set exactly when `databaseUrl` is. */
  redisUrl: string | null
  /** Connections each node keeps to PostgreSQL, from --database-pool-size or LATCH_DATABASE_POOL_SIZE (default 10). */
  databasePoolSize: number
  /** Directory of the default database (and of the master key file of an in-memory one). */
  dataDir: string
  /** 32-byte key for recoverable keys, from LATCH_MASTER_KEY (base64 or hex). */
  masterKey?: string
  /**
   * The master key file, used when LATCH_MASTER_KEY is not set: --master-key-file
   * or LATCH_MASTER_KEY_FILE, else master.key beside the database, so that the key
   * travels with the data it decrypts whatever the working directory (<data
   * dir>/master.key for an in-memory database). With PostgreSQL there is no file
   * beside the database and every node must use the same key, so there is no
   * default (null: recoverable keys are refused unless LATCH_MASTER_KEY is set),
   * and a configured file must exist: latch never creates one in that mode.
   */
  masterKeyFile: string | null
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

/** A connection URL of one of `protocols`, or a ConfigError naming where it came from. */
function parseUrl(value: string, source: string, protocols: readonly string[], what: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(`${source} must be a ${what} URL such as ${protocols[0]}//host:port/..., got something that is not a URL`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${source} must be a ${what} URL (${protocols.map((p) => `${p}//`).join(' or ')}), got ${url.protocol}//...`)
  }
  return value
}

export interface ConfigFlags {
  port?: string
  host?: string
  db?: string
  databaseUrl?: string
  redisUrl?: string
  databasePoolSize?: string
  masterKeyFile?: string
}

/** Connections in each node's PostgreSQL pool unless configured. */
export const DEFAULT_DATABASE_POOL_SIZE = 10
/** Above this a node would hold more connections than a default PostgreSQL server allows in all (max_connections = 100). */
const MAX_DATABASE_POOL_SIZE = 100

function parsePoolSize(value: string, source: string): number {
  const size = Number(value)
  if (!/^\d+$/.test(value) || size < 1 || size > MAX_DATABASE_POOL_SIZE) {
    throw new ConfigError(`${source} must be a whole number of connections between 1 and ${MAX_DATABASE_POOL_SIZE}, got '${value}'`)
  }
  return size
}

export function loadConfig(flags: ConfigFlags = {}, env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): Config {
  const port = flags.port !== undefined ? parsePort(flags.port, '--port') : env.PORT ? parsePort(env.PORT, 'PORT') : 3000
  const dataDir = resolve(cwd, env.LATCH_DATA_DIR ?? 'data')
  const dbFlag = flags.db ?? env.LATCH_DB
  const dbPath = dbFlag ? (dbFlag === ':memory:' ? dbFlag : resolve(cwd, dbFlag)) : resolve(dataDir, 'latch.db')
  const databaseSource = flags.databaseUrl !== undefined ? '--database-url' : 'LATCH_DATABASE_URL'
  const databaseValue = flags.databaseUrl ?? (env.LATCH_DATABASE_URL || undefined)
  const redisSource = flags.redisUrl !== undefined ? '--redis-url' : 'LATCH_REDIS_URL'
  const redisValue = flags.redisUrl ?? (env.LATCH_REDIS_URL || undefined)
  const databaseUrl = databaseValue === undefined ? null : parseUrl(databaseValue, databaseSource, ['postgres:', 'postgresql:'], 'PostgreSQL')
  const redisUrl = redisValue === undefined ? null : parseUrl(redisValue, redisSource, ['redis:', 'rediss:'], 'Redis')
  // Nodes share credits and ratelimits through Redis and rows through PostgreSQL: either alone would hand out credits twice.
  if (databaseUrl !== null && redisUrl === null) {
    throw new ConfigError(`${databaseSource} selects PostgreSQL (cluster mode), which also needs Redis: set --redis-url or LATCH_REDIS_URL too`)
  }
  if (redisUrl !== null && databaseUrl === null) {
    throw new ConfigError(`${redisSource} is only used in cluster mode, which also needs PostgreSQL: set --database-url or LATCH_DATABASE_URL too, or neither`)
  }
  if (databaseUrl !== null && dbFlag !== undefined) {
    const db = flags.db !== undefined ? '--db' : 'LATCH_DB'
    throw new ConfigError(`${db} names a SQLite file, but ${databaseSource} selects PostgreSQL: use one or the other`)
  }
  const poolSource = flags.databasePoolSize !== undefined ? '--database-pool-size' : 'LATCH_DATABASE_POOL_SIZE'
  const poolValue = flags.databasePoolSize ?? (env.LATCH_DATABASE_POOL_SIZE || undefined)
  const databasePoolSize = poolValue === undefined ? DEFAULT_DATABASE_POOL_SIZE : parsePoolSize(poolValue, poolSource)
  if (poolValue !== undefined && databaseUrl === null) {
    throw new ConfigError(`${poolSource} sizes the PostgreSQL pool, but no PostgreSQL is configured: set --database-url or LATCH_DATABASE_URL too, or drop it`)
  }
  const keyFile = flags.masterKeyFile ?? (env.LATCH_MASTER_KEY_FILE || undefined)
  const defaultKeyFile = databaseUrl === null ? resolve(dbPath === ':memory:' ? dataDir : dirname(dbPath), 'master.key') : null
  return {
    port,
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    dataDir,
    dbPath,
    databaseUrl,
    redisUrl,
    databasePoolSize,
    masterKey: env.LATCH_MASTER_KEY || undefined,
    masterKeyFile: keyFile === undefined ? defaultKeyFile : resolve(cwd, keyFile),
    logRequests: env.LATCH_LOG !== 'off',
    tunables: DEFAULT_TUNABLES,
  }
}

/**
 * Where recoverable keys' master key comes from (the Vault's source): the
 * environment's key, else the key file. With PostgreSQL the file is read here
 * and must exist, since every node needs the same key and none may make its
 * own; with SQLite the Vault creates it beside the database on first use.
 */
export function masterKeySource(config: Config): { key?: string; file?: string } {
  if (config.masterKey) return { key: config.masterKey }
  if (config.masterKeyFile === null) return {}
  if (config.databaseUrl === null) return { file: config.masterKeyFile }
  if (!existsSync(config.masterKeyFile)) {
    throw new ConfigError(
      `the master key file ${config.masterKeyFile} does not exist; with PostgreSQL every node must read the same key, so latch never creates one: write 32 random bytes as base64 there (e.g. openssl rand -base64 32) or set LATCH_MASTER_KEY`,
    )
  }
  return { key: readFileSync(config.masterKeyFile, 'utf8') }
}
