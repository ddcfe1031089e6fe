// Choosing the store: without URLs latch is the SQLite file as always;
// --database-url with --redis-url is cluster mode; half of it, a wrong kind of
// URL, or a SQLite file named beside a PostgreSQL URL is a configuration error
// (exit code 2) naming what to set. And where the master key comes from.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../src/cli/run'
import { ConfigError, loadConfig, masterKeySource } from '../src/config'
import { Capture } from './cli/harness'

const dir = mkdtempSync(join(tmpdir(), 'latch-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PG = 'postgres://latch:secret@db.internal:5432/latch'
const REDIS = 'redis://cache.internal:6379'

const refusal = (flags: Parameters<typeof loadConfig>[0], env: Record<string, string> = {}) => {
  try {
    loadConfig(flags, env, dir)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('the store', () => {
  test('without URLs: the SQLite file, its master.key beside it', () => {
    const config = loadConfig({ db: 'var/latch.db' }, {}, dir)
    expect(config).toMatchObject({ dbPath: join(dir, 'var', 'latch.db'), databaseUrl: null, redisUrl: null, masterKeyFile: join(dir, 'var', 'master.key') })
  })

  test('PostgreSQL and Redis together, from flags or the environment; no default master key file', () => {
    expect(loadConfig({ databaseUrl: PG, redisUrl: REDIS }, {}, dir)).toMatchObject({ databaseUrl: PG, redisUrl: REDIS, masterKeyFile: null })
    expect(loadConfig({}, { LATCH_DATABASE_URL: 'postgresql://h/db', LATCH_REDIS_URL: 'rediss://h:6380', LATCH_MASTER_KEY_FILE: 'keys/m' }, dir)).toMatchObject(
      {
        databaseUrl: 'postgresql://h/db',
        redisUrl: 'rediss://h:6380',
        masterKeyFile: join(dir, 'keys', 'm'),
      },
    )
    // A flag wins over the environment.
    expect(loadConfig({ databaseUrl: PG }, { LATCH_DATABASE_URL: 'postgres://other/db', LATCH_REDIS_URL: REDIS }, dir).databaseUrl).toBe(PG)
  })

  test('half a cluster configuration is refused, naming what is missing', () => {
    expect(refusal({ databaseUrl: PG })).toBe(
      '--database-url selects PostgreSQL (cluster mode), which also needs Redis: set --redis-url or LATCH_REDIS_URL too',
    )
    expect(refusal({}, { LATCH_REDIS_URL: REDIS })).toBe(
      'LATCH_REDIS_URL is only used in cluster mode, which also needs PostgreSQL: set --database-url or LATCH_DATABASE_URL too, or neither',
    )
  })

  test('a URL of the wrong kind, or no URL at all, is refused', () => {
    expect(refusal({ databaseUrl: 'mysql://h/db', redisUrl: REDIS })).toBe(
      '--database-url must be a PostgreSQL URL (postgres:// or postgresql://), got mysql://...',
    )
    expect(refusal({ databaseUrl: PG, redisUrl: 'localhost:6379' })).toContain('--redis-url must be a Redis URL')
    expect(refusal({}, { LATCH_DATABASE_URL: 'not a url', LATCH_REDIS_URL: REDIS })).toContain('LATCH_DATABASE_URL must be a PostgreSQL URL')
  })

  test('a SQLite file named beside a PostgreSQL URL is refused', () => {
    expect(refusal({ db: 'x.db', databaseUrl: PG, redisUrl: REDIS })).toBe(
      '--db names a SQLite file, but --database-url selects PostgreSQL: use one or the other',
    )
    expect(refusal({}, { LATCH_DB: 'x.db', LATCH_DATABASE_URL: PG, LATCH_REDIS_URL: REDIS })).toContain('LATCH_DB names a SQLite file')
  })

  test('the PostgreSQL pool size: 10 by default, from the flag or the environment, a whole number from 1 to 100', () => {
    const cluster = { databaseUrl: PG, redisUrl: REDIS }
    expect(loadConfig(cluster, {}, dir).databasePoolSize).toBe(10)
    expect(loadConfig({ ...cluster, databasePoolSize: '25' }, { LATCH_DATABASE_POOL_SIZE: '40' }, dir).databasePoolSize).toBe(25)
    expect(loadConfig(cluster, { LATCH_DATABASE_POOL_SIZE: '40' }, dir).databasePoolSize).toBe(40)
    expect(loadConfig(cluster, { LATCH_DATABASE_POOL_SIZE: '' }, dir).databasePoolSize).toBe(10)
    for (const bad of ['0', '101', '-1', '2.5', 'ten', ' 5']) {
      expect(refusal({ ...cluster, databasePoolSize: bad })).toBe(`--database-pool-size must be a whole number of connections between 1 and 100, got '${bad}'`)
    }
    expect(refusal(cluster, { LATCH_DATABASE_POOL_SIZE: '1000' })).toBe(
      "LATCH_DATABASE_POOL_SIZE must be a whole number of connections between 1 and 100, got '1000'",
    )
    // It sizes nothing without PostgreSQL: refused rather than silently ignored.
    expect(refusal({ databasePoolSize: '20' })).toBe(
      '--database-pool-size sizes the PostgreSQL pool, but no PostgreSQL is configured: set --database-url or LATCH_DATABASE_URL too, or drop it',
    )
  })

  test('the command line exits 2 with the message, before touching any database', async () => {
    const stdout = new Capture()
    const stderr = new Capture()
    const code = await runCli(['serve', '--database-url', PG, '--port', '0'], { stdout, stderr, env: {}, cwd: dir })
    expect({ code, stderr: stderr.text, stdout: stdout.text }).toEqual({
      code: 2,
      stderr: 'latch: --database-url selects PostgreSQL (cluster mode), which also needs Redis: set --redis-url or LATCH_REDIS_URL too\n',
      stdout: '',
    })
    const backup = await runCli(['backup', join(dir, 'out.db')], {
      stdout,
      stderr: new Capture(),
      env: { LATCH_DATABASE_URL: PG, LATCH_REDIS_URL: REDIS },
      cwd: dir,
    })
    expect(backup).toBe(2)
    const pool = await runCli(['serve', '--database-url', PG, '--redis-url', REDIS, '--database-pool-size', '0'], {
      stdout,
      stderr: new Capture(),
      env: {},
      cwd: dir,
    })
    expect(pool).toBe(2)
  })
})

describe('the master key', () => {
  const key = Buffer.alloc(32, 3).toString('base64')

  test('LATCH_MASTER_KEY wins; SQLite hands the file to the vault, which creates it on first use', () => {
    expect(masterKeySource(loadConfig({ db: 'a.db' }, { LATCH_MASTER_KEY: key }, dir))).toEqual({ key })
    expect(masterKeySource(loadConfig({ db: 'a.db' }, {}, dir))).toEqual({ file: join(dir, 'master.key') })
  })

  test('with PostgreSQL the file must exist and is read at start; without one, recoverable keys are off', () => {
    const cluster = { databaseUrl: PG, redisUrl: REDIS }
    expect(masterKeySource(loadConfig(cluster, {}, dir))).toEqual({})
    expect(() => masterKeySource(loadConfig({ ...cluster, masterKeyFile: 'missing.key' }, {}, dir))).toThrow(
      `the master key file ${join(dir, 'missing.key')} does not exist`,
    )
    writeFileSync(join(dir, 'shared.key'), `${key}\n`)
    expect(masterKeySource(loadConfig({ ...cluster, masterKeyFile: 'shared.key' }, {}, dir))).toEqual({ key: `${key}\n` })
  })
})
