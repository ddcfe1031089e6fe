import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../../src/cli/run'
import { Capture, CliHarness } from './harness'
import { setTimeout as sleep } from 'node:timers/promises'

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

/** Starts `latch serve` in-process; resolves once it printed where it listens. */
async function serve(argv: string[], env: Record<string, string> = {}) {
  const stdout = new Capture()
  const stderr = new Capture()
  const controller = new AbortController()
  const exited = runCli(['serve', ...argv], { stdout, stderr, env: { LATCH_LOG: 'off', ...env }, cwd: h.dir, clock: h.clock, signal: controller.signal })
  const deadline = Date.now() + 5_000
  while (!stdout.text.includes('\n')) {
    if (Date.now() > deadline) throw new Error(`serve printed nothing: ${stderr.text}`)
    const early = await Promise.race([exited, sleep(10).then(() => undefined)])
    if (early !== undefined) throw new Error(`serve exited ${early}: ${stderr.text}`)
  }
  const url = /listening on (?:all interfaces, port \d+ \()?(http:\/\/[^\s,)]+)/.exec(stdout.text)![1]!
  return { url, stdout, stderr, stop: () => (controller.abort(), exited) }
}

describe('latch serve', () => {
  test('listens on a free port, says where and which database, answers /v2/liveness, and stops cleanly', async () => {
    const db = join(h.dir, 'served.db')
    const server = await serve(['--port', '0', '--host', '127.0.0.1', '--db', db])
    expect(server.stdout.text).toMatch(
      new RegExp(`^latch \\d+\\.\\d+\\.\\d+ listening on http://127\\.0\\.0\\.1:\\d+, database ${db.replace(/[.\\/]/g, '\\$&')}\\n$`),
    )
    const res = await fetch(`${server.url}/v2/liveness`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).data).toEqual({ message: "we're cooking" })
    expect(await server.stop()).toBe(0)
    expect(server.stderr.text).toBe('')
    // closeDatabase checkpointed the WAL into the main file.
    expect(!existsSync(`${db}-wal`) || statSync(`${db}-wal`).size === 0).toBe(true)
    await expect(fetch(`${server.url}/v2/liveness`)).rejects.toThrow()
  })

  test('takes PORT from the environment and defaults to ./data/latch.db; serves keys created by the CLI', async () => {
    const seeded = await h.json(['seed'])
    const server = await serve([], { PORT: '0', HOST: '127.0.0.1' })
    try {
      expect(server.stdout.text).toContain(`database ${h.dbPath}`)
      const res = await fetch(`${server.url}/v2/apis.createApi`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.development.key}` },
        body: JSON.stringify({ name: 'from-serve-test' }),
      })
      expect(res.status).toBe(200)
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })

  test('on all interfaces, the line says so and gives a local URL', async () => {
    const server = await serve(['--port', '0'])
    try {
      expect(server.stdout.text).toMatch(/listening on all interfaces, port (\d+) \(http:\/\/127\.0\.0\.1:\1\), database /)
    } finally {
      await server.stop()
    }
  })

  test.each([
    [['--port', 'abc'], {}, "latch: --port must be a port number between 0 and 65535, got 'abc'\n"],
    [['--port', '70000'], {}, "latch: --port must be a port number between 0 and 65535, got '70000'\n"],
    [[], { PORT: 'x' }, "latch: PORT must be a port number between 0 and 65535, got 'x'\n"],
  ])('%j %j is refused with exit 2 before opening the database', async (argv, env, stderr) => {
    expect(await h.run(['serve', ...argv], env)).toEqual({ code: 2, stdout: '', stderr })
    expect(h.dbExists()).toBe(false)
  })
})
