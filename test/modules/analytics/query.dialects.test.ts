// The PostgreSQL dialect of the query core answers exactly what the SQLite
// one answers: the fixture's rows are copied into a real PostgreSQL database
// (LATCH_TEST_DATABASE_URL, as in CI), and every query below is compiled for
// each engine, run there, and the decoded rows compared. The SQLite answers
// themselves are pinned by the other query.* tests.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { compileAnalyticsQuery, decodeRows } from '../../../src/modules/analytics/query'
import type { AnalyticsSources } from '../../../src/modules/analytics/query'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../../support/postgres'
import { db, MINUTE, NOW, run, SOURCES } from './fixture'

const BUCKET_MS = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE }
const bucket = (unit: keyof typeof BUCKET_MS | 'month') =>
  unit === 'month'
    ? `CAST(extract(epoch FROM date_trunc('month', to_timestamp(time / 1000) AT TIME ZONE 'UTC')) * 1000 AS bigint)`
    : `(time / ${BUCKET_MS[unit]}) * ${BUCKET_MS[unit]}`

const verificationRollup = (unit: keyof typeof BUCKET_MS | 'month') => () =>
  `SELECT ${bucket(unit)} AS time, workspace_id, api_id AS key_space_id, identity_id, external_id, key_id, outcome, source, app_id, tags,
   COUNT(*) AS count, SUM(spent_credits) AS spent_credits FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`
const ratelimitRollup = (unit: keyof typeof BUCKET_MS | 'month') => () =>
  `SELECT ${bucket(unit)} AS time, workspace_id, namespace_id, identifier, SUM(passed) AS passed, COUNT(*) AS total, SUM(tokens) AS total_tokens,
   SUM(CASE WHEN passed <> 0 THEN tokens ELSE 0 END) AS passed_tokens FROM ratelimit_events GROUP BY 1, 2, 3, 4`

/** The fixture's sources, in PostgreSQL. */
const PG_SOURCES: AnalyticsSources = {
  ...SOURCES,
  key_verifications_per_minute_v1: verificationRollup('minute'),
  key_verifications_per_hour_v1: verificationRollup('hour'),
  key_verifications_per_day_v1: verificationRollup('day'),
  key_verifications_per_month_v1: verificationRollup('month'),
  ratelimits_per_minute_v1: ratelimitRollup('minute'),
  ratelimits_per_hour_v1: ratelimitRollup('hour'),
  ratelimits_per_day_v1: ratelimitRollup('day'),
  ratelimits_per_month_v1: ratelimitRollup('month'),
}

const QUERIES = [
  // Aggregates
  'SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY n DESC, outcome',
  `SELECT count(*) AS a, count(DISTINCT key_id) AS b, uniqExact(key_id, outcome) AS c, sum(spent_credits) AS d,
     avg(spent_credits) AS e, countIf(key_id, outcome = 'VALID') AS f, sumIf(spent_credits, outcome = 'VALID') AS g FROM key_verifications_v1`,
  "SELECT sum(spent_credits) AS s, min(key_id) AS lo, max(time) AS hi, any(outcome) AS x FROM key_verifications_v1 WHERE key_id = 'none'",
  "SELECT groupUniqArray(outcome) AS outcomes FROM key_verifications_v1 WHERE key_id = 'key_2'",
  "SELECT groupArray(tags) AS tag_lists FROM (SELECT tags FROM key_verifications_v1 WHERE key_id = 'key_1' ORDER BY time) AS t",
  `SELECT time AS day, sum(SUM(count)) OVER (ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
     FROM key_verifications_per_day_v1 GROUP BY time ORDER BY day DESC LIMIT 3`,
  'SELECT key_id, avg(latency) AS l, max(spent_credits) AS m FROM key_verifications_v1 GROUP BY key_id HAVING count() > 2 ORDER BY key_id',
  // Time
  'SELECT toStartOfDay(fromUnixTimestamp64Milli(time)) AS day, count() AS n FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 14 DAY) GROUP BY day ORDER BY day',
  `SELECT toStartOfMonth(time) AS m, toStartOfQuarter(time) AS q, toStartOfYear(time) AS y, toStartOfWeek(time) AS w, toStartOfWeek(time, 1) AS w1,
     toStartOfHour(time) AS h, toDate(time) AS d, toDateTime(time) AS dt FROM key_verifications_per_minute_v1 ORDER BY time LIMIT 40`,
  `SELECT time + INTERVAL 1 MONTH AS a, time - INTERVAL 1 QUARTER AS b, time + INTERVAL 3 WEEK AS c, time - INTERVAL 90 MINUTE AS d,
     time + toIntervalYear(1) AS e FROM key_verifications_per_hour_v1 ORDER BY time LIMIT 40`,
  'SELECT fromUnixTimestamp64Milli(time) + INTERVAL 1 MONTH AS f, fromUnixTimestamp64Milli(time) - INTERVAL 1 YEAR AS g FROM key_verifications_v1 ORDER BY time',
  "SELECT toString(time) AS s, formatDateTime(time, '%F %T (%i) %e|%k|%l|%p|%j|%u|%w|%V|%G %%') AS f FROM key_verifications_per_minute_v1 ORDER BY time LIMIT 40",
  'SELECT toInt64(time) AS secs, toFloat64(time) AS f, toUnixTimestamp64Milli(time) AS ms, now() - time AS ago FROM key_verifications_per_hour_v1 ORDER BY time',
  "SELECT date_trunc('week', time) AS w, date_trunc('quarter', time) AS q FROM key_verifications_per_day_v1 ORDER BY time",
  "SELECT SUM(count) AS n FROM key_verifications_per_hour_v1 WHERE time >= '2025-06-15 00:00:00'",
  "SELECT count() AS n FROM key_verifications_v1 WHERE toDateTime(time / 1000) >= toDateTime('2025-06-15 10:00:00')",
  `SELECT formatDateTime(fromUnixTimestamp64Milli(time), '%Y-%m') AS month, count() AS n FROM key_verifications_v1
     GROUP BY formatDateTime(fromUnixTimestamp64Milli(time), '%Y-%m') ORDER BY month`,
  // Arrays
  'SELECT arrayJoin(tags) AS tag, count() AS n FROM key_verifications_v1 GROUP BY tag ORDER BY n DESC, tag',
  "SELECT arrayFilter(x -> x LIKE 'env=%' OR x = 'nope', tags) AS envs FROM key_verifications_v1 WHERE length(tags) = 2",
  "SELECT count() AS n FROM key_verifications_v1 WHERE hasAny(tags, arrayFilter(x -> startsWith(x, 'env='), tags))",
  "SELECT count() AS n FROM key_verifications_v1 WHERE hasAll(tags, arrayFilter(x -> endsWith(x, '/checkout'), tags))",
  "SELECT count() AS n FROM key_verifications_v1 WHERE has(tags, 'route=/checkout') AND NOT has(tags, 'env=prod')",
  // Strings, math, conditionals, conversions
  "SELECT countIf(outcome LIKE 'valid') AS a, countIf(outcome ILIKE 'valid') AS b, countIf(outcome LIKE 'V_LID') AS c, countIf(outcome LIKE '%\\\\_%') AS d, countIf(key_id LIKE 'key[1]') AS e, countIf(outcome NOT LIKE 'V%') AS f FROM key_verifications_v1",
  `SELECT concat(lower('AbC'), upper('d'), '-', 42, '-', substring('hello', 2, 3)) AS a, length('héllo') AS b, trim('  x  ') AS c,
     startsWith('route=/a', 'route=') + endsWith('route=/a', '/a') + endsWith('x', '') AS d,
     JSONExtractString('{"a":{"b":"c"},"n":1,"l":["x","y"]}', 'a', 'b') AS e, JSONExtractString('{"n":1}', 'n') AS f,
     JSONExtractString('not json', 'n') AS g, JSONExtractString('{"l":["x","y"]}', 'l', -1) AS h, JSONExtractString('{"l":["x","y"]}', 'l', 1) AS i
     FROM key_verifications_v1 WHERE outcome = 'DISABLED'`,
  `SELECT round(1.26, 1) + floor(-1.5) + ceil(1.2) + abs(-3) AS a, floor(2.345, 1) AS b, if(1 = 1, 'yes', 'no') AS c, coalesce(NULL, 7) AS d,
     toInt32('12') + toFloat64('0.5') AS e, 7 / 2 AS f, 7 % 3 AS g, 1 / 0 AS h, toInt32(2.7) AS i, toInt32(-2.7) AS j
     FROM key_verifications_v1 WHERE outcome = 'DISABLED'`,
  `SELECT key_id, CASE WHEN spent_credits > 2 THEN 'big' WHEN spent_credits > 0 THEN 'small' ELSE 'none' END AS size,
     CASE outcome WHEN 'VALID' THEN 1 ELSE 0 END AS ok, toString(spent_credits > 1) AS t, spent_credits BETWEEN 1 AND 3 AS mid
     FROM key_verifications_v1 ORDER BY time, key_id`,
  "SELECT key_id IN ('key_1', 'key_2') AS mine, key_id IS NULL AS missing, count() AS n FROM key_verifications_v1 GROUP BY 1, 2 ORDER BY 1, 2",
  // Statements
  "SELECT key_id FROM key_verifications_v1 EXCEPT SELECT key_id FROM key_verifications_v1 WHERE outcome = 'VALID'",
  `WITH valid AS (SELECT key_id, count() AS n FROM key_verifications_v1 WHERE outcome = 'VALID' GROUP BY key_id)
     SELECT k.key_id AS id, coalesce(v.n, 0) AS valid FROM (SELECT DISTINCT key_id FROM key_verifications_v1) AS k LEFT JOIN valid AS v ON v.key_id = k.key_id
     ORDER BY id LIMIT 2 OFFSET 1`,
  "SELECT count() AS n FROM key_verifications_v1 WHERE key_id IN (SELECT key_id FROM key_verifications_v1 WHERE outcome = 'DISABLED')",
  `SELECT key_id FROM key_verifications_v1 WHERE key_id = 'key_3'
     UNION ALL SELECT key_id FROM key_verifications_v1 WHERE key_id != '' ORDER BY key_id DESC LIMIT 1`,
  'SELECT a.key_id AS k, count() AS n FROM key_verifications_v1 AS a CROSS JOIN (SELECT 1 AS one) AS b GROUP BY k ORDER BY k',
  "SELECT count() AS n FROM key_verifications_v1 WHERE EXISTS (SELECT 1 FROM key_verifications_v1 WHERE outcome = 'DISABLED') AND outcome = 'VALID'",
  // Ratelimits, and a scoped grant
  'SELECT identifier, sum(passed) AS passed, sum(total) AS total, sum(passed_tokens) AS pt FROM ratelimits_per_hour_v1 GROUP BY identifier ORDER BY identifier',
  'SELECT namespace_id, countIf(passed) AS ok, countIf(NOT passed) AS blocked, max(reset_at) AS reset FROM ratelimits_v1 GROUP BY namespace_id ORDER BY namespace_id',
]

describe.skipIf(!process.env.LATCH_TEST_DATABASE_URL)('the PostgreSQL dialect answers as the SQLite one', () => {
  let name: string
  let pg: SQL

  beforeAll(async () => {
    name = await createEmptyDatabase()
    pg = new SQL(databaseUrl(name), { max: 2, bigint: true })
    await pg.unsafe(`CREATE TABLE verification_events (request_id TEXT COLLATE "C", time BIGINT, workspace_id TEXT COLLATE "C", api_id TEXT COLLATE "C",
      identity_id TEXT COLLATE "C", external_id TEXT COLLATE "C", key_id TEXT COLLATE "C", region TEXT, source TEXT, app_id TEXT,
      outcome TEXT COLLATE "C", tags TEXT COLLATE "C", spent_credits BIGINT, latency DOUBLE PRECISION)`)
    await pg.unsafe(`CREATE TABLE ratelimit_events (request_id TEXT, time BIGINT, workspace_id TEXT COLLATE "C", namespace_id TEXT COLLATE "C",
      identifier TEXT COLLATE "C", passed INTEGER, latency DOUBLE PRECISION, override_id TEXT, "limit" BIGINT, remaining BIGINT, reset_at BIGINT, tokens BIGINT)`)
    // The analytics helper functions come with latch's schema; only they are needed here.
    const { migrations } = await import('../../../src/db/postgres/migrations')
    const functions = migrations[0]!.sql.slice(migrations[0]!.sql.indexOf('CREATE FUNCTION latch_json_string'))
    await pg.unsafe(functions)
    for (const table of ['verification_events', 'ratelimit_events']) {
      const rows = db.query(`SELECT * FROM ${table}`).all()
      await pg.unsafe(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::text::json)`, [JSON.stringify(rows)])
    }
  })

  afterAll(async () => {
    await pg?.close()
    if (name) await dropTestDatabase(name)
  })

  const onPostgres = async (query: string, resourceIds: string[] | null = null) => {
    const compiled = compileAnalyticsQuery(query, {
      route: query.includes('ratelimits_') ? 'ratelimits' : 'verifications',
      workspaceId: 'ws_a',
      resourceIds,
      sources: PG_SOURCES,
      now: NOW,
      dialect: 'postgres',
    })
    return decodeRows(compiled, (await pg.unsafe(compiled.sql, compiled.params).values()) as unknown[][])
  }

  test.each(QUERIES)('%s', async (query) => {
    const sqlite = run(query)
    const postgres = await onPostgres(query)
    const sorted = (rows: Record<string, unknown>[]) =>
      /ORDER BY/.test(query) ? rows : [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    const arrays = (rows: Record<string, unknown>[]) =>
      rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === 'outcomes' && Array.isArray(v) ? [...v].sort() : v])))
    expect(arrays(sorted(postgres))).toEqual(arrays(sorted(sqlite)))
  })

  test('a scoped grant sees only its APIs in both', async () => {
    const query = 'SELECT key_space_id, count() AS n FROM key_verifications_v1 GROUP BY key_space_id ORDER BY key_space_id'
    expect(await onPostgres(query, ['api_2'])).toEqual(run(query, { resourceIds: ['api_2'] }))
    expect(await onPostgres(query, [])).toEqual([])
  })
})
