// Credits are money: a spend answered VALID is in the database before the
// answer; a spend that cannot be written is handed back and its request fails
// with 503 (never dropped silently, never a 500), without blocking the server.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../../src/app'
import { ManualClock } from '../../../src/clock'
import { openSqliteStores, type SqliteStores } from '../../../src/db/sqlite'
import { createServices, type Services } from '../../../src/services'

let dir: string
let dbPath: string
let stores: SqliteStores
let services: Services
let app: ReturnType<typeof createApp>
let root: string
let apiId: string

const post = async (rpc: string, body: unknown) => {
  const res = await app.handle(
    new Request(`http://localhost/v2/${rpc}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
      body: JSON.stringify(body),
    }),
  )
  return { status: res.status, body: (await res.json()) as any }
}
const remaining = (keyId: string) => (stores.db.query('SELECT remaining FROM keys WHERE id = ?').get(keyId) as { remaining: number }).remaining

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latch-durable-'))
  dbPath = join(dir, 'latch.db')
  // A short wait for a busy database, so that the 503 comes quickly.
  stores = openSqliteStores(dbPath, { busyDeadlineMs: 300 })
  services = createServices({ stores, clock: new ManualClock(Date.UTC(2026, 5, 15)) })
  app = createApp(services, { log: null, logError: () => {} })
  root = (await services.rootKeys.create({ workspace: 'ws', name: 'root', permissions: ['*'] })).key
  apiId = (await post('apis.createApi', { name: 'main' })).body.data.apiId
})
afterEach(() => {
  try {
    stores.close()
  } catch {}
  rmSync(dir, { recursive: true, force: true })
})

describe('a spend that cannot be written', () => {
  test('another process holding the write lock: 503, the credits handed back, liveness answering meanwhile', async () => {
    const { keyId, key } = (await post('keys.createKey', { apiId, credits: { remaining: 10 } })).body.data
    expect((await post('keys.verifyKey', { key })).body.data).toMatchObject({ valid: true, credits: 9 })

    const other = new Database(dbPath)
    other.exec('BEGIN IMMEDIATE')
    const order: string[] = []
    const verifying = post('keys.verifyKey', { key }).then((r) => (order.push('verify'), r))
    const live = await app.handle(new Request('http://localhost/v2/liveness'))
    order.push('liveness')
    expect(live.status).toBe(200)
    const refused = await verifying
    other.exec('ROLLBACK')
    other.close()

    expect(order).toEqual(['liveness', 'verify'])
    expect(refused.status).toBe(503)
    expect(refused.body.error).toMatchObject({ status: 503, title: 'Service Unavailable' })
    expect(refused.body.meta.requestId).toStartWith('req_')
    // Nothing was spent: the next verification sees the balance the refused one found.
    expect((await post('keys.verifyKey', { key })).body.data).toMatchObject({ valid: true, credits: 8 })
    expect(remaining(keyId)).toBe(8)
  })

  test('concurrent spends in a failing group all fail and are all handed back', async () => {
    const { keyId, key } = (await post('keys.createKey', { apiId, credits: { remaining: 10 } })).body.data
    const other = new Database(dbPath)
    other.exec('BEGIN IMMEDIATE')
    const answers = await Promise.all(Array.from({ length: 6 }, () => post('keys.verifyKey', { key })))
    other.exec('ROLLBACK')
    other.close()
    const statuses = answers.map((a) => a.status)
    // Every answer is either an acknowledged spend or a 503; the balance matches the acknowledged ones exactly.
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true)
    const acknowledged = answers.filter((a) => a.status === 200 && a.body.data.valid).length
    expect(acknowledged).toBe(0)
    await services.flush()
    expect(remaining(keyId)).toBe(10)
    expect((await post('keys.getKey', { keyId })).body.data.credits.remaining).toBe(10)
  })

  test('the database file removed while serving: writes fail with 503 instead of being acknowledged', async () => {
    const { key } = (await post('keys.createKey', { apiId, credits: { remaining: 10 } })).body.data
    unlinkSync(dbPath)
    const created = await post('keys.createKey', { apiId })
    expect(created.status).toBe(503)
    expect(created.body.error.detail).toContain('was removed or replaced')
    const verified = await post('keys.verifyKey', { key })
    expect(verified.status).toBe(503)
  })
})

describe('a spend that is written', () => {
  test('N credits give exactly N acknowledged VALID answers under concurrency, all in the database', async () => {
    const { keyId, key } = (await post('keys.createKey', { apiId, credits: { remaining: 25 } })).body.data
    const answers = await Promise.all(Array.from({ length: 60 }, () => post('keys.verifyKey', { key })))
    expect(answers.filter((a) => a.body.data.valid).length).toBe(25)
    expect(answers.filter((a) => a.body.data.code === 'USAGE_EXCEEDED').length).toBe(35)
    expect(remaining(keyId)).toBe(0)
  })

  test('a key changed while it is being loaded: the verifications waiting on either load spend from one balance', async () => {
    const { keyId, key } = (await post('keys.createKey', { apiId, credits: { remaining: 10 } })).body.data
    // Hold the connection, so that the loads below wait with their reads not yet made.
    let release!: () => void
    const held = stores.transaction(() => new Promise<void>((resolve) => (release = resolve)))
    const first = post('keys.verifyKey', { key })
    await new Promise((resolve) => setTimeout(resolve, 5))
    // The key changes while the first load waits; a verification after that starts a second load.
    services.keyCache.invalidateKey(keyId)
    const second = post('keys.verifyKey', { key })
    await new Promise((resolve) => setTimeout(resolve, 5))
    release()
    await held
    const answers = await Promise.all([first, second])
    expect(answers.map((a) => [a.status, a.body.data.code]).sort()).toEqual([
      [200, 'VALID'],
      [200, 'VALID'],
    ])
    // Two spends acknowledged: two credits gone, in the answers and in the database.
    expect(answers.map((a) => a.body.data.credits).sort()).toEqual([8, 9])
    await services.flush()
    expect(remaining(keyId)).toBe(8)
  })
})
