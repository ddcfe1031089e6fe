// src/db/sqlite/analytics-runner.ts: analytics queries run in a read-only child
// process. A query past its deadline is killed with its process (the CPU is
// really freed, unlike a Worker's terminate()); out of memory, bad SQL and a
// write attempt are reported by reason; waiting in line counts against the
// deadline; a closed runner refuses work.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/db/sqlite/database'
import { QueryRunner } from '../../src/db/sqlite/analytics-runner'
import type { Database } from '../../src/db/sqlite/database'
import { setTimeout as sleep } from 'node:timers/promises'

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c'

let dir: string
let db: Database
let runner: QueryRunner
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'latch-runner-'))
  db = openDatabase(join(dir, 'latch.db'))
  db.exec("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'one', 0)")
  runner = new QueryRunner({ path: join(dir, 'latch.db'), workers: 2, memoryLimitBytes: 96 * 1024 * 1024 })
})
afterAll(() => {
  runner.close()
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

const reason = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { reason?: string }) => error.reason ?? String(error),
  )

describe('QueryRunner', () => {
  test('answers rows as value arrays, with bound parameters', async () => {
    expect(await runner.run('SELECT id, name, ?1 AS n FROM workspaces WHERE id = ?2', [42, 'ws_1'], 5000)).toEqual([['ws_1', 'one', 42]])
  })

  test('a query past its deadline is killed on time, and the next one gets a fresh process', async () => {
    const started = performance.now()
    expect(await reason(runner.run(FOREVER, [], 300))).toBe('timeout')
    expect(performance.now() - started).toBeLessThan(1000)
    expect(await runner.run('SELECT 1', [], 5000)).toEqual([[1]])
  })

  test('the killed process no longer exists', async () => {
    const idle = children()
    const running = reason(runner.run(FOREVER, [], 300))
    await sleep(150)
    const working = children()
    expect(await running).toBe('timeout')
    await sleep(100)
    const after = children()
    // One of the processes present while the query ran (the one running it) is gone.
    expect(working.filter((pid) => !after.includes(pid))).toHaveLength(1)
    expect(after.length).toBeLessThanOrEqual(Math.max(idle.length, working.length))
  })

  test('waiting in line counts against the deadline', async () => {
    const busy = [reason(runner.run(FOREVER, [], 400)), reason(runner.run(FOREVER, [], 400))]
    const queued = performance.now()
    expect(await reason(runner.run('SELECT 1', [], 150))).toBe('timeout')
    expect(performance.now() - queued).toBeLessThan(350)
    expect(await Promise.all(busy)).toEqual(['timeout', 'timeout'])
  })

  test('more memory than the cap is reported as memory (the process is killed)', async () => {
    // A string that doubles 30 times: a gigabyte, unless stopped.
    const hungry = "WITH RECURSIVE c(x, s) AS (SELECT 1, 'x' UNION ALL SELECT x + 1, s || s FROM c WHERE x < 31) SELECT max(length(s)) FROM c"
    expect(await reason(runner.run(hungry, [], 10_000))).toBe('memory')
  })

  test('bad SQL and writes are failures with SQLite’s message', async () => {
    await expect(runner.run('SELECT nosuch FROM workspaces', [], 5000)).rejects.toMatchObject({ reason: 'failed', message: expect.stringContaining('nosuch') })
    await expect(runner.run("DELETE FROM workspaces WHERE id = 'ws_1'", [], 5000)).rejects.toMatchObject({ reason: 'failed' })
    expect(db.query('SELECT COUNT(*) AS n FROM workspaces').get()).toEqual({ n: 1 })
  })

  test('a closed runner refuses work', async () => {
    const closed = new QueryRunner({ path: join(dir, 'latch.db') })
    closed.close()
    expect(await reason(closed.run('SELECT 1', [], 1000))).toBe('unavailable')
  })

  test('a database file that cannot be opened is unavailable, not a hang or a crash', async () => {
    const missing = new QueryRunner({ path: join(dir, 'missing', 'none.db') })
    expect(await reason(missing.run('SELECT 1', [], 5000))).toBe('unavailable')
    missing.close()
  })
})

/** Pids of this test process's children (the runner's processes). */
function children(): number[] {
  const out = spawnSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).stdout.trim()
  return out ? out.split('\n').map(Number) : []
}
