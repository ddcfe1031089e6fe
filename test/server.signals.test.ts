// No signal loses data (src/server.ts): a real `latch serve` process receives
// each signal right after answering verifications whose spent credits,
// last-used time and events are still pending in memory.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { Database } from 'bun:sqlite'
import { post, serverProcesses, spawnServer } from './support/server-process'

const { children, database, serve } = serverProcesses()

async function servedDatabase() {
  const db = await database(10)
  return { ...db, server: await serve(db.dbPath) }
}

/** What the database file holds now (read by another connection, as an operator would). */
function stored(dbPath: string, keyId: string) {
  const db = new Database(dbPath)
  try {
    const key = db
      .query<{ remaining: number; last_used_at: number | null }, [string]>(
        'SELECT remaining, (SELECT at FROM key_last_used WHERE key_id = id) AS last_used_at FROM keys WHERE id = ?',
      )
      .get(keyId)!
    const events = db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM verification_events').get()!.n
    return { remaining: key.remaining, used: key.last_used_at !== null, events }
  } finally {
    db.close()
  }
}

async function spend(url: string, root: string, key: string, times: number) {
  for (let i = 0; i < times; i++) expect((await post(url, 'keys.verifyKey', root, { key })).body.data.valid).toBe(true)
}

describe('signals', () => {
  test.each(['SIGHUP', 'SIGQUIT', 'SIGINT', 'SIGTERM'] as const)('%s: pending writes are written, the process exits 0 and leaves no lock', async (signal) => {
    const s = await servedDatabase()
    await spend(s.server.url, s.root, s.key, 3)
    s.server.proc.kill(signal)
    expect(await s.server.exited).toBe(0)
    expect(s.server.stderr()).toContain(`received ${signal}, shutting down`)
    expect(stored(s.dbPath, s.keyId)).toEqual({ remaining: 7, used: true, events: 3 })
    expect(existsSync(`${s.dbPath}.lock`)).toBe(false)
    // The database is free: a new server starts and sees the spent credits.
    const next = await spawnServer(s.dbPath)
    children.push(next)
    expect((await post(next.url, 'keys.verifyKey', s.root, { key: s.key })).body.data).toMatchObject({ valid: true, credits: 6 })
  })

  test.each(['SIGUSR1', 'SIGUSR2'] as const)('%s writes pending data and keeps serving', async (signal) => {
    const s = await servedDatabase()
    await spend(s.server.url, s.root, s.key, 2)
    s.server.proc.kill(signal)
    await s.server.waitForStderr(new RegExp(`received ${signal}, pending writes flushed`))
    expect(stored(s.dbPath, s.keyId)).toEqual({ remaining: 8, used: true, events: 2 })
    expect(s.server.proc.exitCode).toBeNull()
    expect((await fetch(`${s.server.url}/v2/liveness`)).status).toBe(200)
    expect((await post(s.server.url, 'keys.verifyKey', s.root, { key: s.key })).body.data).toMatchObject({ valid: true, credits: 7 })
    // A second one too.
    s.server.proc.kill(signal)
    await s.server.waitForStderr(new RegExp(`(received ${signal}, pending writes flushed[\\s\\S]*){2}`))
    expect(s.server.proc.exitCode).toBeNull()
  })
})
