// The real executable entry point, spawned as a process: `bun src/index.ts ...`.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CliHarness } from './harness'

const ROOT = resolve(import.meta.dir, '..', '..')
const ENTRY = join(ROOT, 'src', 'index.ts')

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

function spawn(args: string[]) {
  return Bun.spawn([process.execPath, ...args], {
    cwd: h.dir,
    env: { PATH: process.env.PATH ?? '', LATCH_LOG: 'off' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
}

async function run(args: string[]) {
  const proc = spawn(args)
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

describe('bun src/index.ts (spawned)', () => {
  test('root-keys create --json prints the key as JSON and exits 0', async () => {
    const r = await run([ENTRY, 'root-keys', 'create', '--workspace', 'acme', '--name', 'deploy', '--permission', 'api.*.read_api', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out).sort()).toEqual(['key', 'rootKeyId', 'workspaceId'])
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.authenticate(out.key)).toEqual({ rootKeyId: out.rootKeyId, workspaceId: out.workspaceId, permissions: new Set(['api.*.read_api']) })
    })
  })

  test('an invalid permission exits 2 with the message on stderr and no database', async () => {
    const r = await run([ENTRY, 'root-keys', 'create', '--workspace', 'acme', '--name', 'deploy', '--permission=api.*.fly'])
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining("latch: invalid permission 'api.*.fly': unknown action 'fly' for resource type 'api'"),
    })
    expect(h.dbExists()).toBe(false)
  })

  test('scripts/seed.ts runs the seed command directly', async () => {
    const db = join(h.dir, 'seeded.db')
    const r = await run([join(ROOT, 'scripts', 'seed.ts'), '--json', '--db', db])
    expect(r.code).toBe(0)
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['development', 'staging', 'production'])
    expect(existsSync(db)).toBe(true)
  })

  test('serve --port 0 answers /v2/liveness and exits 0 on SIGTERM', async () => {
    const proc = spawn([ENTRY, 'serve', '--port', '0', '--host', '127.0.0.1'])
    const reader = proc.stdout.getReader()
    let out = ''
    while (!out.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) break
      out += new TextDecoder().decode(value)
    }
    reader.releaseLock()
    const url = /listening on (http:\/\/[^\s,]+)/.exec(out)?.[1]
    expect(url).toBeDefined()
    expect((await fetch(`${url}/v2/liveness`)).status).toBe(200)
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    expect(out).toContain(`database ${h.dbPath}`)
  })

  test('serve on a port that is taken exits 1 with a message', async () => {
    const taken = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('taken') })
    try {
      const r = await run([ENTRY, 'serve', '--port', String(taken.port), '--host', '127.0.0.1'])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`latch: Failed to start server. Is port ${taken.port} in use?`)
    } finally {
      taken.stop(true)
    }
  })
})
