// The rollups behind the _per_minute/hour/day/month_v1 aliases: after many
// batches of events across minute, hour, day and month boundaries, every
// rollup row equals the raw rows it stands for (checked through the route);
// events stored before analytics existed stay queryable and rolled up; and
// the scheduled job prunes raw events and each grain of rollups by its retention.
import { describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { createApp } from '../../../src/app'
import { openDatabase } from '../../../src/db/sqlite/database'
import { openSqliteStores } from '../../../src/db/sqlite'
import { migrations } from '../../../src/db/sqlite/migrations'
import { createServices } from '../../../src/services'
import { verificationEvent } from '../../support/events'
import { type Harness, withHarness } from '../../support/harness'

const DAY = 86_400_000

let h: Harness
let root: string
withHarness((f) => ({ h, root } = f))

async function query(route: 'getVerifications' | 'getRatelimits', sql: string, app = h): Promise<Record<string, unknown>[]> {
  const res = await app.call(`/v2/analytics.${route}`, { query: sql }, root)
  if (res.status !== 200) throw new Error(`${sql} answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body.data
}

/** Rows in a canonical order, so that two groupings can be compared. */
const canonical = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort()

/** A small deterministic generator: the same events on every run. */
function random(seed: number) {
  let state = seed
  return (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state % n
  }
}

const BUCKET = { minute: 'toStartOfMinute', hour: 'toStartOfHour', day: 'toStartOfDay', month: 'toStartOfMonth' } as const

describe('rollups equal the raw rows after many batches', () => {
  test('verifications: every grain, every grouping key, counts and credits', async () => {
    const workspaceId = await h.workspaceId('ws')
    const next = random(7)
    const start = h.clock.now() - 65 * DAY
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 50; i++) {
        const key = next(6)
        h.services.events.record({
          requestId: `req_${batch}_${i}`,
          time: start + next(65 * 24) * 3_600_000 + next(3_600_000),
          workspaceId,
          apiId: key === 0 ? null : `api_${key % 2}`,
          keyId: key === 0 ? null : `key_${key}`,
          identityId: key % 3 === 1 ? `id_${key}` : null,
          externalId: key % 3 === 1 ? `cust_${key}` : null,
          outcome: ['VALID', 'VALID', 'RATE_LIMITED', 'USAGE_EXCEEDED'][next(4)]!,
          tags: [[], ['a'], ['a', 'b'], ['b', 'a']][next(4)]!,
          creditsSpent: next(3),
          latency: 0.5,
        })
      }
      await h.services.flush()
    }
    const keys = 'key_space_id, identity_id, external_id, key_id, outcome, tags'
    for (const [grain, bucket] of Object.entries(BUCKET)) {
      const raw = await query(
        'getVerifications',
        `SELECT ${bucket}(fromUnixTimestamp64Milli(time)) AS t, ${keys}, count() AS n, SUM(spent_credits) AS c FROM key_verifications_v1 GROUP BY t, ${keys}`,
      )
      const rolled = await query(
        'getVerifications',
        `SELECT time AS t, ${keys}, SUM(count) AS n, SUM(spent_credits) AS c FROM key_verifications_per_${grain}_v1 GROUP BY t, ${keys}`,
      )
      expect(canonical(rolled)).toEqual(canonical(raw))
      // Each rollup row is already one group: nothing is split across rows.
      expect((await query('getVerifications', `SELECT count() AS rows FROM key_verifications_per_${grain}_v1`))[0]!.rows).toBe(raw.length)
    }
    expect(await query('getVerifications', 'SELECT count() AS n FROM key_verifications_v1')).toEqual([{ n: 2000 }])
  })

  test('ratelimits: every grain, passed and total requests and tokens', async () => {
    const workspaceId = await h.workspaceId('ws')
    const next = random(11)
    const start = h.clock.now() - 65 * DAY
    for (let batch = 0; batch < 30; batch++) {
      for (let i = 0; i < 50; i++) {
        h.services.ratelimitEvents.record({
          requestId: `req_${batch}_${i}`,
          time: start + next(65 * 24) * 3_600_000 + next(3_600_000),
          workspaceId,
          namespaceId: `rlns_${next(3)}`,
          identifier: `user_${next(4)}`,
          passed: next(3) > 0,
          latency: 0.1,
          overrideId: null,
          limit: 10,
          remaining: 5,
          resetAt: start,
          tokens: 1 + next(3),
        })
      }
      await h.services.flush()
    }
    for (const [grain, bucket] of Object.entries(BUCKET)) {
      const raw = await query(
        'getRatelimits',
        `SELECT ${bucket}(fromUnixTimestamp64Milli(time)) AS t, namespace_id, identifier, countIf(passed) AS ok, count() AS total,
           SUM(tokens) AS total_tokens, sumIf(tokens, passed) AS passed_tokens FROM ratelimits_v1 GROUP BY t, namespace_id, identifier`,
      )
      const rolled = await query(
        'getRatelimits',
        `SELECT time AS t, namespace_id, identifier, passed AS ok, total, total_tokens, passed_tokens FROM ratelimits_per_${grain}_v1`,
      )
      expect(canonical(rolled)).toEqual(canonical(raw))
    }
  })
})

describe('a large batch', () => {
  test('20,000 events of distinct keys (100,000 statements, as a batch requeued after failures may be) are written whole', async () => {
    const workspaceId = await h.workspaceId('ws')
    const time = h.clock.now()
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      requestId: `req_${i}`,
      time,
      workspaceId,
      apiId: 'api_1',
      keyId: `key_${i}`,
      identityId: null,
      externalId: null,
      outcome: 'VALID',
      tags: [],
      creditsSpent: 1,
      latency: 0,
    }))
    await h.stores.verificationEvents.insertMany(events)
    for (const table of ['verification_events', 'verification_rollups_per_minute', 'verification_rollups_per_month']) {
      expect(h.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 20_000 })
    }
  })
})

describe('retention', () => {
  test('the scheduled job prunes raw events and each grain of rollups past its retention', async () => {
    const workspaceId = await h.workspaceId('ws')
    const now = h.clock.now()
    const ages = [0, 40, 100, 400, 1200]
    for (const age of ages) {
      const time = now - age * DAY
      h.services.events.record(verificationEvent({ requestId: `req_${age}`, time, workspaceId, latency: 0 }))
      const decision = { requestId: `req_${age}`, time, workspaceId, namespaceId: 'rlns_1', identifier: 'u', passed: true, latency: 0, overrideId: null }
      h.services.ratelimitEvents.record({ ...decision, limit: 1, remaining: 0, resetAt: time, tokens: 1 })
    }
    await h.services.flush()
    await h.services.runScheduledJobs()
    const agesLeft = (table: string) =>
      (h.db.query(`SELECT time FROM ${table} ORDER BY time DESC`).all() as { time: number }[]).map((r) => Math.round((now - r.time) / DAY))
    // Raw 30 days, minute 30, hour 90, day 365, month 1095 (a month row starts up to a month before its events).
    expect(agesLeft('verification_events')).toEqual([0])
    expect(agesLeft('ratelimit_events')).toEqual([0])
    for (const kind of ['verification', 'ratelimit']) {
      expect(agesLeft(`${kind}_rollups_per_minute`)).toEqual([0])
      expect(agesLeft(`${kind}_rollups_per_hour`)).toEqual([0, 40])
      expect(agesLeft(`${kind}_rollups_per_day`)).toEqual([1, 41, 101])
      expect(agesLeft(`${kind}_rollups_per_month`).length).toBe(4)
    }
  })
})

describe('pruning rollups a slice at a time', () => {
  test('walks every workspace, and a slice never stops short of its size while old rows remain', async () => {
    const now = h.clock.now()
    const decide = (workspaceId: string, time: number) =>
      h.services.ratelimitEvents.record({
        requestId: '',
        time,
        workspaceId,
        namespaceId: 'rlns_1',
        identifier: 'u',
        passed: true,
        latency: 0,
        overrideId: null,
        limit: 1,
        remaining: 0,
        resetAt: time,
        tokens: 1,
      })
    for (const workspaceId of ['ws_a', 'ws_b', 'ws_c']) {
      for (let minute = 0; minute < 7; minute++) decide(workspaceId, now - 40 * DAY + minute * 60_000)
      decide(workspaceId, now)
    }
    await h.services.flush()
    const slices: number[] = []
    for (;;) {
      const removed = await h.stores.analytics.deleteRollupsBefore('ratelimits', 'minute', now - 30 * DAY, 4)
      slices.push(removed)
      if (removed < 4) break
    }
    expect(slices.reduce((a, b) => a + b)).toBe(21)
    expect(slices.slice(0, -1).every((n) => n >= 4)).toBe(true)
    expect(h.db.query('SELECT workspace_id, time FROM ratelimit_rollups_per_minute ORDER BY workspace_id').all()).toEqual(
      ['ws_a', 'ws_b', 'ws_c'].map((workspace_id) => ({ workspace_id, time: now })),
    )
  })
})

describe('events stored before analytics', () => {
  test('stay queryable after the migration, with their identity’s external id, and are rolled up', async () => {
    const path = `${h.dir}/old.db`
    const old = openDatabase(
      path,
      migrations.filter((m) => m.version <= 10),
    )
    const t0 = Date.UTC(2026, 5, 10, 8, 30)
    old.exec("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_old', 'old', 0)")
    old.exec("INSERT INTO identities (id, workspace_id, external_id, created_at) VALUES ('id_1', 'ws_old', 'cust_1', 0)")
    const insert = old.prepare(
      'INSERT INTO verification_events (time, workspace_id, api_id, key_id, identity_id, outcome, tags, credits_spent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    insert.run(t0, 'ws_old', 'api_1', 'key_1', 'id_1', 'VALID', '["a"]', 2)
    insert.run(t0 + 1000, 'ws_old', 'api_1', 'key_1', 'id_1', 'VALID', '["a"]', 1)
    insert.run(t0 + 2000, 'ws_old', null, null, null, 'NOT_FOUND', null, 0)
    old.close()

    const stores = openSqliteStores(path)
    const services = createServices({ stores, clock: h.clock })
    const app = createApp(services, { log: null })
    const key = (await services.rootKeys.create({ workspace: 'old', name: 'analytics', permissions: ['api.*.read_analytics'] })).key
    const call = async (sql: string) => {
      const res = await app.handle(
        new Request('http://localhost/v2/analytics.getVerifications', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: sql }),
        }),
      )
      return ((await res.json()) as { data: unknown }).data
    }
    try {
      expect(await call('SELECT request_id, external_id, key_space_id, key_id, outcome, tags, spent_credits FROM key_verifications_v1 ORDER BY time')).toEqual([
        { request_id: '', external_id: 'cust_1', key_space_id: 'api_1', key_id: 'key_1', outcome: 'VALID', tags: ['a'], spent_credits: 2 },
        { request_id: '', external_id: 'cust_1', key_space_id: 'api_1', key_id: 'key_1', outcome: 'VALID', tags: ['a'], spent_credits: 1 },
        { request_id: '', external_id: '', key_space_id: '', key_id: '', outcome: 'NOT_FOUND', tags: [], spent_credits: 0 },
      ])
      expect(await call('SELECT time, external_id, outcome, tags, count, spent_credits FROM key_verifications_per_hour_v1 ORDER BY outcome DESC')).toEqual([
        { time: Date.UTC(2026, 5, 10, 8), external_id: 'cust_1', outcome: 'VALID', tags: ['a'], count: 2, spent_credits: 3 },
        { time: Date.UTC(2026, 5, 10, 8), external_id: '', outcome: 'NOT_FOUND', tags: [], count: 1, spent_credits: 0 },
      ])
      expect(await call('SELECT SUM(count) AS n FROM key_verifications_per_month_v1')).toEqual([{ n: 3 }])
    } finally {
      await services.flush()
      stores.close()
      rmSync(path, { force: true })
    }
  })
})
