// One database file, two runtimes (src/runtime/, src/db/sqlite/driver/): a
// file created and filled by latch on Bun is served by latch on Deno, and the
// other way round, with every key still verifying, credits counted across the
// move, a recoverable key decrypting to the same plaintext, and keys made on
// the second runtime verifying back on the first. While one runtime serves
// the file, the other is refused (both lock it with flock). Real processes of
// both runtimes, whichever runtime runs this test.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runLatch } from '../support/latch-process'
import { post, type ServerProcess, spawnServer } from '../support/server-process'

const BIN = resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin')
const RUNTIMES = {
  bun: (entry: string) => [join(BIN, 'bun'), entry],
  deno: (entry: string) => [join(BIN, 'deno'), 'run', '--allow-all', entry],
}
type Runtime = keyof typeof RUNTIMES

const dirs: string[] = []
const servers: ServerProcess[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.proc.kill('SIGKILL')
    await server.exited
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function serve(runtime: Runtime, dbPath: string): Promise<ServerProcess> {
  const server = await spawnServer(dbPath, { command: RUNTIMES[runtime] })
  servers.push(server)
  expect(server.url).toStartWith('http://127.0.0.1:')
  return server
}

async function stop(server: ServerProcess): Promise<void> {
  server.proc.kill('SIGTERM')
  expect(await server.exited).toBe(0)
}

interface Issued {
  keyId: string
  key: string
  /** Credits left after the next verification, or null for a key without credits. */
  credits: number | null
}

async function verifyAll(server: ServerProcess, root: string, keys: Issued[]): Promise<void> {
  for (const k of keys) {
    const { status, body } = await post(server.url, 'keys.verifyKey', root, { key: k.key })
    expect({ keyId: k.keyId, status, valid: body.data.valid, code: body.data.code }).toEqual({ keyId: k.keyId, status: 200, valid: true, code: 'VALID' })
    if (k.credits !== null) expect(body.data.credits).toBe(k.credits--)
  }
}

async function createKey(server: ServerProcess, root: string, apiId: string, body: Record<string, unknown>, credits: number | null): Promise<Issued> {
  const res = await post(server.url, 'keys.createKey', root, { apiId, ...body })
  expect(res.status).toBe(200)
  return { keyId: res.body.data.keyId, key: res.body.data.key, credits: credits === null ? null : credits - 1 }
}

describe('a database file moves between Bun and Deno', () => {
  test.each([
    ['bun', 'deno'],
    ['deno', 'bun'],
  ] as const)(
    'created on %s, served on %s, and back',
    async (first, second) => {
      const dir = mkdtempSync(join(tmpdir(), 'latch-runtimes-'))
      dirs.push(dir)
      const dbPath = join(dir, 'latch.db')
      const seeded = await runLatch(['seed', '--json', '--db', dbPath], { command: RUNTIMES[first], cwd: dir })
      expect(seeded.code).toBe(0)
      const root: string = JSON.parse(seeded.stdout).development.key

      // On the first runtime: an API and keys of several kinds, each verified once.
      const a = await serve(first, dbPath)
      const { apiId } = (await post(a.url, 'apis.createApi', root, { name: 'moving' })).body.data
      const keys = [
        await createKey(a, root, apiId, {}, null),
        await createKey(a, root, apiId, { credits: { remaining: 10 } }, 10),
        await createKey(a, root, apiId, { name: 'expiring', expires: Date.now() + 86_400_000, meta: { plan: 'pro' } }, null),
        await createKey(a, root, apiId, { prefix: 'live', externalId: 'customer-1', ratelimits: [{ name: 'requests', limit: 100, duration: 60_000 }] }, null),
      ]
      const recoverable = await createKey(a, root, apiId, { recoverable: true }, null)
      keys.push(recoverable)
      await verifyAll(a, root, keys)

      // The other runtime cannot serve the file while this one does.
      const refused = await runLatch(['serve', '--db', dbPath, '--port', '0', '--host', '127.0.0.1'], { command: RUNTIMES[second], cwd: dir })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`Another latch server (pid ${a.pid}) is serving ${dbPath}`)
      await stop(a)

      // On the second runtime: every key still verifies, credits continue, the recoverable key decrypts.
      const b = await serve(second, dbPath)
      await verifyAll(b, root, keys)
      const got = await post(b.url, 'keys.getKey', root, { keyId: recoverable.keyId, decrypt: true })
      expect(got.body.data.plaintext).toBe(recoverable.key)
      keys.push(await createKey(b, root, apiId, { credits: { remaining: 5 } }, 5))
      await verifyAll(b, root, keys.slice(-1))
      await stop(b)

      // Back on the first runtime: the keys of both verify.
      const c = await serve(first, dbPath)
      await verifyAll(c, root, keys)
      await stop(c)
    },
    60_000,
  )
})
