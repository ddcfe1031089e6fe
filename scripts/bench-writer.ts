// What the SQLite server's analytics writer thread spends per verification
// event when each event is for a different key among many (the large store of
// `npm run bench`), split into its three writes: raw rows (transactions of
// --transaction events: 1,024 as the thread writes them while the request
// thread does not write, 128 while it does), last-used times (key_last_used)
// and rollups (the four grains, written every --hold events as the thread
// does at that many held rows). Runs the thread's own statements on its own
// connection settings, in this process, over a temporary store of --keys keys
// of one workspace.
//
//   bun scripts/bench-writer.ts [--keys N] [--hold ROWS] [--batches B] [--transaction EVENTS]
//
// Defaults: 1,000,000 keys, a hold of 16,384 (event-worker.ts's MAX_HELD),
// 48 batches of 4,096 events of which the first 16 warm the pages up and are
// not counted. Over a million keys nearly every event is a rollup row of its
// own in each grain, and each upsert then dirties a page of its own.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBase58Chars } from '../src/crypto'
import { sqliteVerificationEventStore } from '../src/db/sqlite/analytics-events'
import { closeDatabase, openDatabase } from '../src/db/sqlite/database'
import { driver } from '../src/db/sqlite/driver/bun'
import { SqliteEngine } from '../src/db/sqlite/engine'
import { SqliteKeyStore } from '../src/db/sqlite/keys'
import { HeldRollups, OwedRollups } from '../src/db/sqlite/owed-rollups'
import type { VerificationEvent } from '../src/db/stores/analytics'

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  if (at < 0) return fallback
  const n = Number(process.argv[at + 1])
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`)
  return n
}

const KEYS = option('--keys', 1_000_000)
const HOLD = option('--hold', 16_384)
const BATCHES = option('--batches', 48)
const PER_BATCH = 4_096
const WARM_BATCHES = Math.floor(BATCHES / 3)
/** Events per raw-row transaction, as event-worker.ts writes them (eight slices of 128, or one). */
const PER_TRANSACTION = option('--transaction', 1_024)

const dir = mkdtempSync(join(tmpdir(), 'latch-bench-writer-'))
try {
  const path = join(dir, 'latch.db')
  const seeding = performance.now()
  const ids: string[] = new Array(KEYS)
  {
    const db = openDatabase(path)
    db.exec('PRAGMA synchronous = OFF')
    db.query("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'bench', 1)").run()
    db.query("INSERT INTO apis (id, workspace_id, name, created_at) VALUES ('api_1', 'ws_1', 'bench', 1)").run()
    const insert = db.prepare("INSERT INTO keys (id, workspace_id, api_id, hash, start, created_at) VALUES (?, 'ws_1', 'api_1', ?, 'sk_x', 1)")
    db.transaction(() => {
      for (let i = 0; i < KEYS; i++) {
        ids[i] = `key_${randomBase58Chars(16)}`
        insert.run(ids[i]!, randomBase58Chars(43))
      }
    })()
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    closeDatabase(db)
  }
  console.log(`seeded ${KEYS.toLocaleString('en-US')} keys in ${((performance.now() - seeding) / 1000).toFixed(1)} s`)

  // As event-worker.ts opens its connection.
  const db = driver.openConnection(path)
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA cache_size = -32768')
  const sql = new SqliteEngine(db, { busyDeadlineMs: 5_000 })
  const store = sqliteVerificationEventStore(sql)
  const owed = new OwedRollups(sql)
  const held = new HeldRollups(sql, owed, store.rollups)
  const keys = new SqliteKeyStore(sql)

  let time = Date.UTC(2026, 10, 28, 12)
  const spent = { raw: 0, lastUsed: 0, rollups: 0, events: 0 }
  let heldEvents = 0
  for (let b = 0; b < BATCHES; b++) {
    // 10,000 events a second of simulated time.
    const events: VerificationEvent[] = Array.from({ length: PER_BATCH }, (_, i) => ({
      requestId: 'req_bench',
      time: Math.floor(time + i / 10),
      workspaceId: 'ws_1',
      apiId: 'api_1',
      keyId: ids[Math.floor(Math.random() * KEYS)]!,
      identityId: null,
      externalId: null,
      outcome: 'VALID',
      tags: [],
      creditsSpent: 0,
      latency: 0.01,
    }))
    time += PER_BATCH / 10
    let started = performance.now()
    for (let from = 0; from < events.length; from += PER_TRANSACTION) {
      const slice = events.slice(from, from + PER_TRANSACTION)
      const note = await sql.transaction(async () => {
        const [first, last] = (await store.insertRaw(slice))!
        return owed.note('verifications', first, last)
      })
      held.add(slice, note)
    }
    const raw = performance.now() - started
    started = performance.now()
    await keys.touchLastUsed(events.map((e) => [e.keyId!, e.time]))
    const lastUsed = performance.now() - started
    started = performance.now()
    heldEvents += events.length
    if (heldEvents >= HOLD) {
      await held.write()
      heldEvents = 0
    }
    const rollups = performance.now() - started
    if (b >= WARM_BATCHES) {
      spent.raw += raw
      spent.lastUsed += lastUsed
      spent.rollups += rollups
      spent.events += events.length
    }
  }
  db.close()
  const perEvent = (ms: number) => ((ms * 1000) / spent.events).toFixed(1)
  console.log(
    `${KEYS.toLocaleString('en-US')} keys, rollups every ${HOLD.toLocaleString('en-US')} events, ${spent.events.toLocaleString('en-US')} events timed (µs per event): ` +
      `raw rows ${perEvent(spent.raw)}, last-used ${perEvent(spent.lastUsed)}, rollups ${perEvent(spent.rollups)}, ` +
      `all ${perEvent(spent.raw + spent.lastUsed + spent.rollups)}`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
