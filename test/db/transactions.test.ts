// Asynchronous transactions over the one SQLite connection: atomic, isolated
// from concurrent requests, joined by nested calls, rolled back on failure,
// and committed in groups (one COMMIT shared by the transactions that queued
// meanwhile, each in its own savepoint), none resolving before it is on disk.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock'
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite'
import { openDatabase } from '../../src/db/sqlite/database'
import { createServices } from '../../src/services'

let dir: string
let stores: SqliteStores

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'latch-tx-'))
  stores = openSqliteStores(join(dir, 'latch.db'))
})
afterEach(() => {
  stores.close()
  rmSync(dir, { recursive: true, force: true })
})

const workspace = (id: string) => ({ id, name: id, createdAt: 0 })
/** Yields to the event loop, so that other requests get a chance to run in between. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 1))
const names = () => (stores.db.query('SELECT name FROM workspaces ORDER BY rowid').all() as { name: string }[]).map((r) => r.name)

describe('stores.transaction', () => {
  test('two concurrent multi-row writes never interleave', async () => {
    const write = (prefix: string) =>
      stores.transaction(async () => {
        for (let i = 0; i < 5; i++) {
          await stores.workspaces.insert(workspace(`${prefix}${i}`))
          await tick()
        }
      })
    await Promise.all([write('a'), write('b'), write('c')])
    expect(names()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4', 'c0', 'c1', 'c2', 'c3', 'c4'])
  })

  test('a statement of another request waits for the open transaction and never sees its uncommitted rows', async () => {
    let opened!: () => void
    const open = new Promise<void>((resolve) => (opened = resolve))
    let readDuring = false
    const tx = stores.transaction(async () => {
      await stores.workspaces.insert(workspace('inside'))
      opened()
      await tick()
      await tick()
      expect(readDuring).toBe(false)
      throw new Error('roll back')
    })
    // Another request, outside the transaction, reads while it is open.
    await open
    const read = stores.workspaces.findByIdOrName('inside').then((found) => {
      readDuring = true
      return found
    })
    await expect(tx).rejects.toThrow('roll back')
    expect(await read).toBeNull()
    expect(names()).toEqual([])
  })

  test('a failure rolls back every store it wrote to, and leaves a concurrent transaction alone', async () => {
    const failing = stores.transaction(async () => {
      await stores.workspaces.insert(workspace('ws_fail'))
      await stores.apis.insert({ id: 'api_fail', workspaceId: 'ws_fail', name: 'x', deleteProtection: false, createdAt: 0 })
      await tick()
      throw new Error('boom')
    })
    const succeeding = stores.transaction(async () => {
      await stores.workspaces.insert(workspace('ws_ok'))
      await stores.apis.insert({ id: 'api_ok', workspaceId: 'ws_ok', name: 'x', deleteProtection: false, createdAt: 0 })
    })
    await expect(failing).rejects.toThrow('boom')
    await succeeding
    expect(names()).toEqual(['ws_ok'])
    expect(stores.db.query('SELECT id FROM apis').all()).toEqual([{ id: 'api_ok' }])
  })

  test('a transaction started inside another joins it', async () => {
    await expect(
      stores.transaction(async () => {
        await stores.workspaces.insert(workspace('outer'))
        await stores.transaction(async () => stores.workspaces.insert(workspace('inner')))
        throw new Error('undo both')
      }),
    ).rejects.toThrow('undo both')
    expect(names()).toEqual([])
  })

  test('concurrent role updates through the services leave exactly one of the two permission sets', async () => {
    const services = createServices({ stores, clock: new ManualClock() })
    const { workspaceId } = await services.rootKeys.create({ workspace: 'ws', name: 'admin', permissions: ['*'] })
    await services.permissions.createRole(workspaceId, { name: 'editor' })
    const a = ['a.1', 'a.2', 'a.3', 'a.4']
    const b = ['b.1', 'b.2', 'b.3', 'b.4']
    await Promise.all([services.permissions.setRolePermissions(workspaceId, 'editor', a), services.permissions.setRolePermissions(workspaceId, 'editor', b)])
    const slugs = (await services.permissions.getRole(workspaceId, 'editor')).permissions.map((p) => p.slug)
    expect([a, b]).toContainEqual(slugs)
  })
})

describe('group commit', () => {
  const framesInLog = () => (stores.db.query('PRAGMA wal_checkpoint(PASSIVE)').get() as { log: number }).log

  test('transactions queued together share one commit: the log holds a few pages, not one commit each', async () => {
    stores.db.exec('PRAGMA wal_autocheckpoint = 0')
    stores.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    await Promise.all(Array.from({ length: 30 }, (_, i) => stores.transaction(() => stores.workspaces.insert(workspace(`w${i}`)))))
    expect(names()).toHaveLength(30)
    // One commit per transaction would append at least 30 frames.
    expect(framesInLog()).toBeLessThan(10)
  })

  test('a member that fails rolls back alone; the others commit', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        stores.transaction(async () => {
          await stores.workspaces.insert(workspace(`w${i}`))
          await stores.workspaces.insert(workspace(`x${i}`))
          if (i === 4) throw new Error('member 4 fails')
        }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ])
    expect(names()).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9].flatMap((i) => [`w${i}`, `x${i}`]))
  })

  test('no member resolves before the shared commit: another connection already sees its rows', async () => {
    const other = openDatabase(join(dir, 'latch.db'))
    const seen: number[] = []
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stores
          .transaction(() => stores.workspaces.insert(workspace(`w${i}`)))
          .then(() => seen.push((other.query('SELECT count(*) AS n FROM workspaces WHERE name = ?').get(`w${i}`) as { n: number }).n)),
      ),
    )
    other.close()
    expect(seen).toEqual(Array(10).fill(1))
  })

  test('a read outside waits for the whole group, then sees every member', async () => {
    const members = Array.from({ length: 5 }, (_, i) => stores.transaction(() => stores.workspaces.insert(workspace(`w${i}`))))
    // Issued while the first member runs and the rest wait to join it.
    const read = stores.workspaces.findByIdOrName('w4')
    await Promise.all(members)
    expect(await read).toMatchObject({ name: 'w4' })
  })
})

describe('writes outside a transaction', () => {
  test('a write that waited out a busy lock never lands in a transaction that began meanwhile', async () => {
    const other = openDatabase(join(dir, 'latch.db'))
    other.exec('BEGIN IMMEDIATE')
    // Outside any transaction: refused (busy), it waits a few milliseconds and tries again.
    const write = stores.workspaces.insert(workspace('outside'))
    other.exec('COMMIT')
    // Meanwhile a transaction takes the connection and holds it open.
    const tx = stores.transaction(async () => {
      await stores.workspaces.insert(workspace('inside'))
      await new Promise((resolve) => setTimeout(resolve, 50))
    })
    await write
    // Acknowledged means committed: another connection sees it.
    expect(other.query('SELECT count(*) AS n FROM workspaces WHERE name = ?').get('outside')).toEqual({ n: 1 })
    await tx
    other.close()
  })
})
