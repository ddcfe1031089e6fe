// The engines the cluster tests run against: the Redis and PostgreSQL servers
// of LATCH_TEST_REDIS_URL / LATCH_TEST_DATABASE_URL (.ci/services starts
// them; without them the cluster tests are skipped), and a private
// redis-server of a test's own, which a test may stop, freeze and restart
// (the failures cluster mode must survive). Every process started here is
// stopped after the test.
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from '../../scripts/smoke'

/** True when the shared test servers are configured (CI sets both). */
export const HAVE_ENGINES = Boolean(process.env.LATCH_TEST_REDIS_URL && process.env.LATCH_TEST_DATABASE_URL)

export function testRedisUrl(): string {
  const url = process.env.LATCH_TEST_REDIS_URL
  if (!url) throw new Error('LATCH_TEST_REDIS_URL is not set: run the cluster tests through .ci/services')
  return url
}

/** Polls `check` every 10 ms until it is true; false if it never is within `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const until = performance.now() + ms
  for (;;) {
    if (await check()) return true
    if (performance.now() > until) return false
    await Bun.sleep(10)
  }
}

/** A unique prefix for the Redis keys and change channel of one test, so that tests sharing a Redis never meet. */
export const uniquePrefix = () => `latch-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`

export interface PrivateRedis {
  url: string
  /** SIGSTOP: the server still holds its connections but answers nothing (a silent network loss). */
  freeze(): void
  /** SIGCONT after freeze. */
  thaw(): void
  /** Kills the server (connections close at once). */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: nothing persisted). */
  restart(): Promise<void>
}

/** Private redis-servers for the tests of one file, stopped after each test. */
export function privateRedis() {
  const procs: Subprocess[] = []
  const dirs: string[] = []
  afterEach(async () => {
    for (const proc of procs.splice(0)) {
      proc.kill('SIGCONT')
      proc.kill('SIGKILL')
      await proc.exited
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return async (): Promise<PrivateRedis> => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'latch-redis-'))
    dirs.push(dir)
    let proc!: Subprocess
    const start = async () => {
      proc = Bun.spawn(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdout: 'ignore',
        stderr: 'ignore',
      })
      procs.push(proc)
      const up = await eventually(async () => {
        try {
          const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
          socket.end()
          return true
        } catch {
          return false
        }
      })
      if (!up) throw new Error(`redis-server did not start on port ${port}`)
    }
    await start()
    return {
      url: `redis://127.0.0.1:${port}`,
      freeze: () => proc.kill('SIGSTOP'),
      thaw: () => proc.kill('SIGCONT'),
      async kill() {
        proc.kill('SIGKILL')
        await proc.exited
      },
      restart: start,
    }
  }
}
