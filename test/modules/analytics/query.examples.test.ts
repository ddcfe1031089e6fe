// The twelve example queries of the analytics reference (§7), run against the
// fixture's rows of workspace ws_a: each answers exactly the rows a user of
// Unkey would get, and nothing of ws_b (whose numbers would change every one).
import { describe, expect, test } from 'bun:test'
import { at, run } from './fixture'

const sortBy = (key: string) => (a: Record<string, unknown>, b: Record<string, unknown>) => String(a[key]).localeCompare(String(b[key]))

describe('the documented example queries', () => {
  test('1. outcomes, most frequent first', () => {
    expect(run('SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY n DESC')).toEqual([
      { outcome: 'VALID', n: 22 },
      { outcome: 'NOT_FOUND', n: 4 },
      { outcome: 'RATE_LIMITED', n: 3 },
      { outcome: 'USAGE_EXCEEDED', n: 2 },
      { outcome: 'DISABLED', n: 1 },
    ])
  })

  test('2. daily series over the last 14 days, bucketed from the raw table', () => {
    const query = `SELECT toStartOfDay(fromUnixTimestamp64Milli(time)) AS day, count() AS n FROM key_verifications_v1
      WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 14 DAY) GROUP BY day ORDER BY day`
    expect(run(query)).toEqual([
      { day: at(6, 6), n: 1 },
      { day: at(6, 9), n: 1 },
      { day: at(6, 12), n: 1 },
      { day: at(6, 13), n: 1 },
      { day: at(6, 14), n: 3 },
      { day: at(6, 15), n: 24 },
    ])
  })

  test('3. accepted vs refused per key in the last day', () => {
    const query = `SELECT key_id, countIf(outcome = 'VALID') AS accepted, countIf(outcome != 'VALID') AS refused
      FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 1 DAY) GROUP BY key_id`
    expect(run(query).sort(sortBy('key_id'))).toEqual([
      { key_id: '', accepted: 0, refused: 4 },
      { key_id: 'key_1', accepted: 2, refused: 3 },
      { key_id: 'key_2', accepted: 1, refused: 2 },
      { key_id: 'key_4', accepted: 12, refused: 0 },
    ])
  })

  test('4. why calls were refused in the last two days (sumIf over a rollup)', () => {
    const query = `SELECT sumIf(count, outcome = 'USAGE_EXCEEDED') AS out_of_credits, sumIf(count, outcome = 'RATE_LIMITED') AS throttled,
      sumIf(count, outcome = 'DISABLED') AS disabled FROM key_verifications_per_hour_v1 WHERE time >= now() - INTERVAL 48 HOUR`
    // The DISABLED call was 50 hours ago: outside the window, and sumIf over no rows is 0 (not null).
    expect(run(query)).toEqual([{ out_of_credits: 2, throttled: 3, disabled: 0 }])
  })

  test('5. the five busiest keys', () => {
    const query = "SELECT key_id, SUM(count) AS uses FROM key_verifications_per_day_v1 WHERE key_id != '' GROUP BY key_id ORDER BY uses DESC LIMIT 5"
    expect(run(query)).toEqual([
      { key_id: 'key_4', uses: 12 },
      { key_id: 'key_2', uses: 6 },
      { key_id: 'key_1', uses: 5 },
      { key_id: 'key_5', uses: 3 },
      { key_id: 'key_3', uses: 2 },
    ])
  })

  test('6. usage per customer, with how many keys each used', () => {
    const query = `SELECT external_id, uniq(key_id) AS keys_used, SUM(count) AS uses FROM key_verifications_per_day_v1
      WHERE external_id != '' GROUP BY external_id ORDER BY uses DESC`
    expect(run(query)).toEqual([
      { external_id: 'cust_3', keys_used: 1, uses: 12 },
      { external_id: 'cust_1', keys_used: 2, uses: 8 },
      { external_id: 'cust_2', keys_used: 1, uses: 6 },
    ])
  })

  test('7. successful calls to one route, by tag', () => {
    expect(run("SELECT count() AS checkout_ok FROM key_verifications_v1 WHERE has(tags, 'route=/checkout') AND outcome = 'VALID'")).toEqual([
      { checkout_ok: 16 },
    ])
  })

  test('8. hourly totals for the last 12 hours from the hour rollup', () => {
    const query = `SELECT time AS hour, SUM(count) AS n FROM key_verifications_per_hour_v1
      WHERE time >= toStartOfHour(now() - INTERVAL 12 HOUR) GROUP BY hour ORDER BY hour`
    expect(run(query)).toEqual([
      { hour: at(6, 15, 7), n: 2 },
      { hour: at(6, 15, 8), n: 12 },
      { hour: at(6, 15, 9), n: 1 },
      { hour: at(6, 15, 10), n: 3 },
      { hour: at(6, 15, 11), n: 4 },
      { hour: at(6, 15, 12), n: 2 },
    ])
  })

  test('9. credits spent this month per customer', () => {
    const query = `SELECT external_id, SUM(spent_credits) AS credits FROM key_verifications_per_month_v1
      WHERE time >= toStartOfMonth(now()) GROUP BY external_id ORDER BY credits DESC`
    expect(run(query)).toEqual([
      { external_id: 'cust_3', credits: 12 },
      { external_id: 'cust_1', credits: 7 },
      { external_id: 'cust_2', credits: 5 },
      { external_id: '', credits: 0 },
    ])
  })

  test('10. keys with at least 10 successful calls (CTE)', () => {
    const query = `WITH ok AS (SELECT key_id, count() AS n FROM key_verifications_v1 WHERE outcome = 'VALID' GROUP BY key_id)
      SELECT key_id, n FROM ok WHERE n >= 10 ORDER BY n DESC`
    expect(run(query)).toEqual([{ key_id: 'key_4', n: 12 }])
  })

  test('11. this week against the week before (UNION ALL)', () => {
    const query = `SELECT 'this_week' AS period, SUM(count) AS n FROM key_verifications_per_day_v1 WHERE time >= toDate(now() - INTERVAL 7 DAY)
      UNION ALL
      SELECT 'week_before' AS period, SUM(count) AS n FROM key_verifications_per_day_v1
      WHERE time >= toDate(now() - INTERVAL 14 DAY) AND time < toDate(now() - INTERVAL 7 DAY)`
    expect(run(query)).toEqual([
      { period: 'this_week', n: 30 },
      { period: 'week_before', n: 1 },
    ])
  })

  test('12. getRatelimits: the most throttled identifiers', () => {
    const query = `SELECT identifier, countIf(passed) AS allowed, countIf(NOT passed) AS blocked FROM ratelimits_v1
      GROUP BY identifier ORDER BY blocked DESC LIMIT 10`
    expect(run(query)).toEqual([
      { identifier: 'user_b', allowed: 2, blocked: 4 },
      { identifier: 'user_a', allowed: 5, blocked: 1 },
      { identifier: 'user_c', allowed: 3, blocked: 0 },
    ])
  })
})

describe('behaviour users of the documentation rely on', () => {
  test('the OpenAPI example compares the millisecond column with now() - INTERVAL 7 DAY and, as upstream, keeps every row', () => {
    expect(run("SELECT COUNT(*) as total FROM key_verifications_v1 WHERE outcome = 'VALID' AND time >= now() - INTERVAL 7 DAY")).toEqual([{ total: 22 }])
  })

  test('SUM(count) over every rollup equals count() over the raw table', () => {
    const [raw] = run('SELECT count() AS n FROM key_verifications_v1')
    for (const rollup of ['minute', 'hour', 'day', 'month']) {
      expect(run(`SELECT SUM(count) AS n FROM key_verifications_per_${rollup}_v1`)).toEqual([raw!])
    }
  })

  test('an alias is usable by later expressions of the same SELECT, and / divides as floats', () => {
    const query = `SELECT key_id, SUM(spent_credits) AS total, CASE WHEN total > 4 THEN 'high' ELSE 'low' END AS tier, total / 2 AS half
      FROM key_verifications_v1 WHERE key_id IN ('key_1', 'key_5') GROUP BY key_id ORDER BY key_id`
    expect(run(query)).toEqual([
      { key_id: 'key_1', total: 2, tier: 'low', half: 1 },
      { key_id: 'key_5', total: 5, tier: 'high', half: 2.5 },
    ])
  })

  test('tags come back as arrays, booleans as booleans, an unaliased expression keyed by its text', () => {
    expect(run("SELECT tags, count() FROM key_verifications_v1 WHERE key_id = 'key_1' AND outcome = 'VALID' GROUP BY tags ORDER BY length(tags)")).toEqual([
      { tags: ['route=/checkout'], 'count()': 1 },
      { tags: ['route=/checkout', 'env=prod'], 'count()': 1 },
    ])
    expect(run("SELECT passed FROM ratelimits_v1 WHERE identifier = 'user_a' ORDER BY time LIMIT 2")).toEqual([{ passed: false }, { passed: true }])
  })

  test('avg over no rows and division by zero are null', () => {
    expect(run("SELECT avg(latency) AS a, 1 / 0 AS d FROM key_verifications_v1 WHERE key_id = 'none'")).toEqual([{ a: null, d: null }])
  })
})
