// Flags + environment -> one typed configuration object. Paths come from flags,
// the environment or the working directory, never from the module's own
// location (inside a compiled binary that directory is virtual).
import { resolve } from 'node:path'

export interface Config {
  port: number
  host: string
  dbPath: string
  /** Directory for the database and the master key file. */
  dataDir: string
  /** 32-byte key for recoverable keys, from LATCH_MASTER_KEY (base64 or hex). */
  masterKey?: string
  /** Emit one JSON log line per request. */
  logRequests: boolean
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
  const dbPath = flags.db ?? env.LATCH_DB
  return {
    port,
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    dataDir,
    dbPath: dbPath ? (dbPath === ':memory:' ? dbPath : resolve(cwd, dbPath)) : resolve(dataDir, 'latch.db'),
    masterKey: env.LATCH_MASTER_KEY || undefined,
    logRequests: env.LATCH_LOG !== 'off',
  }
}
