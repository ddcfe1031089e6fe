// The real executable entry point, spawned as a process: `bun src/index.ts ...`
// (or `deno run ... src/index.ts` when the suite runs on Deno).
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runLatch, spawnLatch } from '../support/latch-process'
import { CliHarness } from './harness'

const ROOT = resolve(import.meta.dirname, '..', '..')

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

const options = () => ({ cwd: h.dir, env: { LATCH_LOG: 'off' } })

describe('bun src/index.ts (spawned)', () => {
  test('root-keys create --json prints the key as JSON and exits 0', async () => {
    const r = await runLatch(['root-keys', 'create', '--workspace', 'acme', '--name', 'deploy', '--permission', 'api.*.read_api', '--json'], options())
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out).sort()).toEqual(['key', 'rootKeyId', 'workspaceId'])
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.authenticate(out.key)).toEqual({ rootKeyId: out.rootKeyId, workspaceId: out.workspaceId, permissions: new Set(['api.*.read_api']) })
    })
  })

  test('an invalid permission exits 2 with the message on stderr and no database', async () => {
    const r = await runLatch(['root-keys', 'create', '--workspace', 'acme', '--name', 'deploy', '--permission=api.*.fly'], options())
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining("latch: invalid permission 'api.*.fly': unknown action 'fly' for resource type 'api'"),
    })
    expect(h.dbExists()).toBe(false)
  })

  test('scripts/seed.ts runs the seed command directly', async () => {
    const db = join(h.dir, 'seeded.db')
    const r = await runLatch(['--json', '--db', db], { ...options(), entry: join(ROOT, 'scripts', 'seed.ts') })
    expect(r.code).toBe(0)
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['development', 'staging', 'production'])
    expect(existsSync(db)).toBe(true)
  })

  test('serve --port 0 answers /v2/liveness and exits 0 on SIGTERM', async () => {
    const server = spawnLatch(['serve', '--port', '0', '--host', '127.0.0.1'], options())
    while (!server.stdout().includes('\n') && server.proc.exitCode === null) await sleep(10)
    const out = server.stdout()
    const url = /listening on (http:\/\/[^\s,]+)/.exec(out)?.[1]
    expect(url).toBeDefined()
    expect((await fetch(`${url}/v2/liveness`)).status).toBe(200)
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(out).toContain(`database ${h.dbPath}`)
  })

  test('serve on a port that is taken exits 1 with a message', async () => {
    const taken = createServer()
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening))
    const port = (taken.address() as { port: number }).port
    try {
      const r = await runLatch(['serve', '--port', String(port), '--host', '127.0.0.1'], options())
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`latch: Failed to start server. Is port ${port} in use?`)
    } finally {
      taken.close()
    }
  })
})
