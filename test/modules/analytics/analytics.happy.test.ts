// analytics.getVerifications and analytics.getRatelimits through the real app,
// over events produced by real verifications and limit checks (traffic.ts):
// the reference's example queries answer the right rows, request ids reach the
// events, key limits show as decisions, and rollups agree with the raw rows.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Harness, REQUEST_ID } from '../../support/harness'
import { DAY, makeTraffic, type Traffic } from './traffic'

let h: Harness
let t: Traffic
beforeAll(async () => {
  h = new Harness()
  t = await makeTraffic(h)
})
afterAll(() => h.close())

const TODAY = Date.UTC(2026, 5, 15)

async function rows(route: 'getVerifications' | 'getRatelimits', query: string, key = t.root): Promise<Record<string, unknown>[]> {
  const res = await h.call(`/v2/analytics.${route}`, { query }, key)
  if (res.status !== 200) throw new Error(`${query} answered ${res.status}: ${JSON.stringify(res.body)}`)
  expect(res.body.meta).toEqual({ requestId: REQUEST_ID })
  return res.body.data
}
const verifications = (query: string, key?: string) => rows('getVerifications', query, key)
const ratelimits = (query: string, key?: string) => rows('getRatelimits', query, key)
/** Byte order, as SQL's ORDER BY (localeCompare would put 'key_b…' before 'key_P…'). */
const bytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => bytes(String(a.key_id), String(b.key_id))

describe('the documented example queries', () => {
  test('1. outcomes, most frequent first', async () => {
    expect(await verifications('SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY n DESC, outcome')).toEqual([
      { outcome: 'VALID', n: 12 },
      { outcome: 'NOT_FOUND', n: 2 },
      { outcome: 'RATE_LIMITED', n: 1 },
      { outcome: 'USAGE_EXCEEDED', n: 1 },
    ])
  })

  test('2. daily series over the last 14 days, bucketed from the raw table', async () => {
    const query = `SELECT toStartOfDay(fromUnixTimestamp64Milli(time)) AS day, count() AS n FROM key_verifications_v1
      WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 14 DAY) GROUP BY day ORDER BY day`
    expect(await verifications(query)).toEqual([
      { day: TODAY, n: 14 },
      { day: TODAY + DAY, n: 2 },
    ])
  })

  test('3. accepted vs refused per key (countIf)', async () => {
    const query = `SELECT key_id, countIf(outcome = 'VALID') AS accepted, countIf(outcome != 'VALID') AS refused FROM key_verifications_v1 GROUP BY key_id`
    expect((await verifications(query)).sort(byKey)).toEqual(
      [
        { key_id: '', accepted: 0, refused: 2 },
        { key_id: t.keyA1, accepted: 2, refused: 2 },
        { key_id: t.keyA2, accepted: 5, refused: 0 },
        { key_id: t.keyB1, accepted: 5, refused: 0 },
      ].sort(byKey),
    )
  })

  test('4. why calls were refused in the last two days (sumIf over the hour rollup)', async () => {
    const query = `SELECT sumIf(count, outcome = 'USAGE_EXCEEDED') AS out_of_credits, sumIf(count, outcome = 'RATE_LIMITED') AS throttled,
      sumIf(count, outcome = 'DISABLED') AS disabled FROM key_verifications_per_hour_v1 WHERE time >= now() - INTERVAL 48 HOUR`
    expect(await verifications(query)).toEqual([{ out_of_credits: 1, throttled: 1, disabled: 0 }])
  })

  test('5. the busiest keys, from the day rollup', async () => {
    const query = "SELECT key_id, SUM(count) AS uses FROM key_verifications_per_day_v1 WHERE key_id != '' GROUP BY key_id ORDER BY uses DESC, key_id LIMIT 5"
    const busiest = [
      { key_id: t.keyA2, uses: 5 },
      { key_id: t.keyB1, uses: 5 },
    ].sort(byKey)
    expect(await verifications(query)).toEqual([...busiest, { key_id: t.keyA1, uses: 4 }])
  })

  test('6. usage per customer (external id), with how many keys each used', async () => {
    const query = `SELECT external_id, uniq(key_id) AS keys_used, SUM(count) AS uses FROM key_verifications_per_day_v1
      WHERE external_id != '' GROUP BY external_id ORDER BY uses DESC`
    expect(await verifications(query)).toEqual([
      { external_id: 'cust_2', keys_used: 1, uses: 5 },
      { external_id: 'cust_1', keys_used: 1, uses: 4 },
    ])
  })

  test('7. successful calls to one route, by tag (another workspace has seven)', async () => {
    const query = "SELECT count() AS checkout_ok FROM key_verifications_v1 WHERE has(tags, 'route=/checkout') AND outcome = 'VALID'"
    expect(await verifications(query)).toEqual([{ checkout_ok: 3 }])
  })

  test('8. hourly totals for the last 12 hours from the hour rollup', async () => {
    const query = `SELECT time AS hour, SUM(count) AS n FROM key_verifications_per_hour_v1
      WHERE time >= toStartOfHour(now() - INTERVAL 12 HOUR) GROUP BY hour ORDER BY hour`
    expect(await verifications(query)).toEqual([{ hour: TODAY + DAY + 12 * 3_600_000, n: 2 }])
  })

  test('9. credits spent this month per customer', async () => {
    const query = `SELECT external_id, SUM(spent_credits) AS credits FROM key_verifications_per_month_v1
      WHERE time >= toStartOfMonth(now()) GROUP BY external_id ORDER BY credits DESC, external_id`
    expect(await verifications(query)).toEqual([
      { external_id: 'cust_1', credits: 2 },
      { external_id: '', credits: 0 },
      { external_id: 'cust_2', credits: 0 },
    ])
  })

  test('10. keys with at least 5 successful calls (CTE)', async () => {
    const query = `WITH ok AS (SELECT key_id, count() AS n FROM key_verifications_v1 WHERE outcome = 'VALID' GROUP BY key_id)
      SELECT key_id, n FROM ok WHERE n >= 5 ORDER BY n DESC, key_id`
    expect(await verifications(query)).toEqual(
      [
        { key_id: t.keyA2, n: 5 },
        { key_id: t.keyB1, n: 5 },
      ].sort(byKey),
    )
  })

  test('11. this week against the week before (UNION ALL)', async () => {
    const query = `SELECT 'this_week' AS period, SUM(count) AS n FROM key_verifications_per_day_v1 WHERE time >= toDate(now() - INTERVAL 7 DAY)
      UNION ALL
      SELECT 'week_before' AS period, SUM(count) AS n FROM key_verifications_per_day_v1
      WHERE time >= toDate(now() - INTERVAL 14 DAY) AND time < toDate(now() - INTERVAL 7 DAY)`
    expect(await verifications(query)).toEqual([
      { period: 'this_week', n: 16 },
      { period: 'week_before', n: 0 },
    ])
  })

  test('12. getRatelimits: the most throttled identifiers, key limits included', async () => {
    const query = `SELECT identifier, countIf(passed) AS allowed, countIf(NOT passed) AS blocked FROM ratelimits_v1
      GROUP BY identifier ORDER BY blocked DESC, identifier LIMIT 10`
    expect(await ratelimits(query)).toEqual([
      { identifier: t.keyA1, allowed: 3, blocked: 1 },
      { identifier: 'user_a', allowed: 2, blocked: 1 },
      { identifier: 'user_b', allowed: 1, blocked: 0 },
      { identifier: 'user_c', allowed: 2, blocked: 0 },
    ])
  })
})

describe("the README's example queries", () => {
  test('outcomes per day over the last week, from the day rollup', async () => {
    const query = `SELECT time AS day, outcome, SUM(count) AS n FROM key_verifications_per_day_v1
      WHERE time >= toDate(now() - INTERVAL 7 DAY) GROUP BY day, outcome ORDER BY day, n DESC, outcome`
    expect(await verifications(query)).toEqual([
      { day: TODAY, outcome: 'VALID', n: 10 },
      { day: TODAY, outcome: 'NOT_FOUND', n: 2 },
      { day: TODAY, outcome: 'RATE_LIMITED', n: 1 },
      { day: TODAY, outcome: 'USAGE_EXCEEDED', n: 1 },
      { day: TODAY + DAY, outcome: 'VALID', n: 2 },
    ])
  })
})

describe('what an event holds', () => {
  test('a verification carries its request id, API, identity, tags and credits', async () => {
    const query = `SELECT request_id, key_space_id, identity_id, external_id, outcome, tags, spent_credits, region, source, app_id
      FROM key_verifications_v1 WHERE request_id = '${t.firstRequestId}'`
    expect(await verifications(query)).toEqual([
      {
        request_id: t.firstRequestId,
        key_space_id: t.apiA,
        identity_id: expect.stringMatching(/^id_/),
        external_id: 'cust_1',
        outcome: 'VALID',
        tags: ['route=/checkout'],
        spent_credits: 1,
        region: 'local',
        source: 'api',
        app_id: '',
      },
    ])
  })

  test('an unknown key is recorded with empty ids, never NULL', async () => {
    const query = "SELECT key_id, key_space_id, identity_id, external_id, tags FROM key_verifications_v1 WHERE outcome = 'NOT_FOUND'"
    expect(await verifications(query)).toEqual(Array(2).fill({ key_id: '', key_space_id: '', identity_id: '', external_id: '', tags: [] }))
  })

  test("a key limit's decisions are recorded under the limit's id, with the verification's request id", async () => {
    const query = `SELECT request_id, identifier, passed, remaining, tokens, override_id FROM ratelimits_v1 WHERE namespace_id = '${t.keyLimitId}' ORDER BY remaining DESC, passed DESC`
    const decisions = await ratelimits(query)
    expect(decisions.map(({ request_id, ...rest }) => rest)).toEqual([
      { identifier: t.keyA1, passed: true, remaining: 2, tokens: 1, override_id: '' },
      { identifier: t.keyA1, passed: true, remaining: 1, tokens: 1, override_id: '' },
      { identifier: t.keyA1, passed: true, remaining: 0, tokens: 1, override_id: '' },
      { identifier: t.keyA1, passed: false, remaining: 0, tokens: 1, override_id: '' },
    ])
    expect(decisions[0]!.request_id).toBe(t.firstRequestId)
  })

  test('the ratelimit rollups count requests and tokens per namespace and identifier', async () => {
    const query = `SELECT namespace_id, identifier, passed, total, total_tokens, passed_tokens FROM ratelimits_per_day_v1
      WHERE namespace_id IN ('${t.nsCalls}', '${t.nsLogins}') ORDER BY identifier, namespace_id`
    const calls = (identifier: string, passed: number, total: number) => ({ identifier, passed, total, total_tokens: total, passed_tokens: passed })
    expect(await ratelimits(query)).toEqual(
      [
        { namespace_id: t.nsCalls, ...calls('user_a', 2, 3) },
        { namespace_id: t.nsLogins, ...calls('user_b', 1, 1) },
        { namespace_id: t.nsCalls, ...calls('user_c', 1, 1) },
        { namespace_id: t.nsLogins, ...calls('user_c', 1, 1) },
      ].sort((a, b) => bytes(a.identifier, b.identifier) || bytes(a.namespace_id, b.namespace_id)),
    )
  })

  test('every rollup of both routes sums to the raw count', async () => {
    for (const grain of ['minute', 'hour', 'day', 'month']) {
      expect(await verifications(`SELECT SUM(count) AS n FROM key_verifications_per_${grain}_v1`)).toEqual([{ n: 16 }])
      expect(await ratelimits(`SELECT SUM(total) AS n, SUM(passed) AS ok FROM ratelimits_per_${grain}_v1`)).toEqual([{ n: 10, ok: 8 }])
    }
  })
})

describe('what a root key sees', () => {
  const outcomes = 'SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY outcome'

  test('api.<apiId>.read_analytics: only that API, and no unknown-key rows', async () => {
    const key = await h.rootKey('ws', [`api.${t.apiA}.read_analytics`])
    expect(await verifications(outcomes, key)).toEqual([
      { outcome: 'RATE_LIMITED', n: 1 },
      { outcome: 'USAGE_EXCEEDED', n: 1 },
      { outcome: 'VALID', n: 7 },
    ])
    expect(await verifications('SELECT DISTINCT key_space_id FROM key_verifications_per_month_v1', key)).toEqual([{ key_space_id: t.apiA }])
  })

  test('two API grants see both APIs; an OR in the query widens nothing', async () => {
    const key = await h.rootKey('ws', [`api.${t.apiA}.read_analytics`, `api.${t.apiB}.read_analytics`])
    expect(await verifications("SELECT count() AS n FROM key_verifications_v1 WHERE outcome = 'VALID' OR 1 = 1", key)).toEqual([{ n: 14 }])
  })

  test("a grant on an API that does not exist, or on another workspace's API, sees nothing", async () => {
    for (const apiId of ['api_doesnotexist', await apiOfOther()]) {
      const key = await h.rootKey('ws', [`api.${apiId}.read_analytics`])
      expect(await verifications('SELECT count() AS n FROM key_verifications_v1', key)).toEqual([{ n: 0 }])
    }
  })

  test('ratelimit.<namespaceId>.read_analytics: only that namespace', async () => {
    const key = await h.rootKey('ws', [`ratelimit.${t.nsCalls}.read_analytics`])
    expect(await ratelimits('SELECT identifier, count() AS n FROM ratelimits_v1 GROUP BY identifier ORDER BY identifier', key)).toEqual([
      { identifier: 'user_a', n: 3 },
      { identifier: 'user_c', n: 1 },
    ])
  })

  test("another workspace's root key sees its own events only", async () => {
    const other = await h.rootKey('other')
    expect(await verifications(outcomes, other)).toEqual([{ outcome: 'VALID', n: 7 }])
    expect(await ratelimits('SELECT identifier, SUM(total) AS n FROM ratelimits_per_minute_v1 GROUP BY identifier', other)).toEqual([
      { identifier: 'user_a', n: 4 },
    ])
  })
})

/** The API of workspace 'other' (created by makeTraffic). */
async function apiOfOther(): Promise<string> {
  const [row] = await verifications('SELECT key_space_id FROM key_verifications_v1 LIMIT 1', await h.rootKey('other'))
  return String(row!.key_space_id)
}

describe('the longest tags a verification keeps', () => {
  test('reach the raw rows and every rollup whole, on every engine', async () => {
    // 1,010 characters, about as many as a verification keeps: 500 and 470 of three UTF-8 bytes each, in no
    // order a compressor could use (PostgreSQL compresses a large index entry, with lz4 if so configured),
    // and 40 that JSON escapes. Whole, with the other key columns, they passed a B-tree entry's 2,704 bytes.
    let seed = 7
    const cjk = (n: number) =>
      Array.from({ length: n }, () => {
        seed = (seed * 48_271) % 2_147_483_647
        return String.fromCodePoint(0x4e00 + (seed % 20_000))
      }).join('')
    const tags = [cjk(500), `${cjk(470)}${'\u0001"\\\u001f'.repeat(10)}`]
    const root = await h.rootKey('long-tags')
    const { apiId } = await h.ok('apis.createApi', { name: 'tags' }, root)
    const { key } = await h.ok('keys.createKey', { apiId }, root)
    for (let i = 0; i < 2; i++) expect((await h.ok('keys.verifyKey', { key, tags }, root)).valid).toBe(true)
    await h.services.flush()
    expect(await verifications('SELECT tags, count() AS n FROM key_verifications_v1 GROUP BY tags', root)).toEqual([{ tags, n: 2 }])
    for (const grain of ['minute', 'hour', 'day', 'month']) {
      expect(await verifications(`SELECT tags, SUM(count) AS n FROM key_verifications_per_${grain}_v1 GROUP BY tags`, root)).toEqual([{ tags, n: 2 }])
    }
    expect(h.errors).toEqual([])
  })
})
