// The order of Unkey's checks decides which error a query with several
// problems gets: length → syntax → one statement → SELECT only → SETTINGS →
// complexity → CTE names → IN <table> → tables → functions → retention, then
// anything that only fails when run. Plus the retention check itself and the
// result-row cap.
import { describe, expect, test } from 'bun:test'
import { compileAnalyticsQuery, decodeRows, queryFailed } from '../../../src/modules/analytics/query'
import { db, NOW, refusal, run, SOURCES } from './fixture'

const DAY = 86_400_000
const retentionMs = { key_verifications_v1: 90 * DAY, key_verifications_per_day_v1: 100 * DAY }

describe('the first problem in check order decides the error', () => {
  test.each([
    ['a table function over system.tables is an invalid table', "SELECT file('x') FROM system.tables", 'invalid_analytics_table'],
    ['a second statement wins over its type', 'SELECT 1 FROM key_verifications_v1; DROP TABLE t', 'invalid_analytics_query'],
    ['a too-long INSERT is too long', `INSERT INTO t VALUES ('${'x'.repeat(17_000)}')`, 'invalid_analytics_query'],
    ['an INSERT with a forbidden function is a wrong type', "INSERT INTO t SELECT file('x')", 'invalid_analytics_query_type'],
    [
      'a CTE name wins over a table',
      'WITH key_verifications_v1 AS (SELECT 1 AS a FROM key_verifications_v1) SELECT a FROM system.tables',
      'invalid_analytics_table',
    ],
    [
      'a table wins over a function, wherever each is',
      'SELECT sleep(1) AS a FROM key_verifications_v1 UNION ALL SELECT 1 FROM keys',
      'invalid_analytics_table',
    ],
    ['a function wins over an unknown column', 'SELECT nosuch, sleep(1) FROM key_verifications_v1', 'invalid_analytics_function'],
    ['a function inside unsupported syntax is still a function', 'SELECT CAST(sleep(1) AS TEXT) FROM key_verifications_v1', 'invalid_analytics_function'],
    [
      'a table inside unsupported syntax is still a table',
      'SELECT $1 AS a FROM key_verifications_v1 WHERE key_id IN (SELECT id FROM keys)',
      'invalid_analytics_table',
    ],
    [
      'a function wins over retention',
      'SELECT sleep(1) FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64() - INTERVAL 400 DAY)',
      'invalid_analytics_function',
    ],
    [
      'retention wins over an unknown column',
      'SELECT nosuch FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64() - INTERVAL 400 DAY)',
      'query_range_exceeds_retention',
    ],
  ])('%s', (_, query, type) => {
    expect(refusal(query, { route: 'verifications', retentionMs })).toMatchObject({ status: 400, type })
  })

  test('the detail names the offending table, function or clause', () => {
    expect(refusal('SELECT * FROM system.tables').detail).toContain('system.tables')
    expect(refusal('SELECT sleep(1) FROM key_verifications_v1').detail).toContain('sleep')
    expect(refusal('WITH key_verifications_v1 AS (SELECT 1 AS a) SELECT 1').detail).toContain('CTE')
    expect(refusal('SELECT 1 FROM key_verifications_v1 WHERE (').detail).toMatch(/^Syntax error at line 1, column \d+/)
  })
})

describe('retention: an explicit lower time bound older than the table keeps', () => {
  test.each([
    ['raw, in milliseconds', 'SELECT count() FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64() - INTERVAL 100 DAY)'],
    ['raw, a literal', `SELECT count() FROM key_verifications_v1 WHERE time > ${NOW - 91 * DAY}`],
    ['per day, a DateTime bound', 'SELECT SUM(count) FROM key_verifications_per_day_v1 WHERE time >= now() - INTERVAL 120 DAY'],
    ['per day, written the other way round', 'SELECT SUM(count) FROM key_verifications_per_day_v1 WHERE toDate(now() - INTERVAL 101 DAY) <= time'],
    ['per day, a date string', "SELECT SUM(count) FROM key_verifications_per_day_v1 WHERE time >= '2025-01-01'"],
    ['inside a CTE', 'WITH d AS (SELECT * FROM key_verifications_per_day_v1 WHERE time > now() - INTERVAL 1 YEAR) SELECT count() FROM d'],
  ])('refused: %s', (_, query) => {
    expect(refusal(query, { retentionMs })).toMatchObject({ status: 400, type: 'query_range_exceeds_retention' })
  })

  test.each([
    ['within retention', 'SELECT count() AS n FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64() - INTERVAL 80 DAY)'],
    ['the documented seconds-against-milliseconds filter', 'SELECT count() AS n FROM key_verifications_v1 WHERE time >= now() - INTERVAL 7 DAY'],
    ['an upper bound only', 'SELECT count() AS n FROM key_verifications_v1 WHERE time <= toUnixTimestamp64Milli(now64() - INTERVAL 400 DAY)'],
    ['a table without a configured retention', 'SELECT count() AS n FROM key_verifications_per_month_v1 WHERE time >= now() - INTERVAL 3 YEAR'],
    ['no bound at all', 'SELECT count() AS n FROM key_verifications_v1'],
  ])('allowed: %s', (_, query) => {
    expect(() => run(query, { retentionMs })).not.toThrow()
  })
})

describe('result rows', () => {
  const options = { route: 'verifications' as const, workspaceId: 'ws_a', resourceIds: null, sources: SOURCES, now: NOW, limits: { maxRows: 5 } }

  test('at most maxRows rows are answered; one more is the 422 query_rows_limit_exceeded', () => {
    const compiled = compileAnalyticsQuery('SELECT key_id FROM key_verifications_v1', options)
    expect(compiled.sql).toEndWith('LIMIT 6')
    expect(() =>
      decodeRows(
        compiled,
        Array.from({ length: 6 }, () => ['k']),
      ),
    ).toThrow(expect.objectContaining({ status: 422 }))
    expect(
      decodeRows(
        compiled,
        Array.from({ length: 5 }, () => ['k']),
      ),
    ).toHaveLength(5)
    try {
      decodeRows(
        compiled,
        Array.from({ length: 6 }, () => ['k']),
      )
    } catch (error) {
      expect((error as { type: string }).type).toBe('https://unkey.com/docs/errors/user/unprocessable_entity/query_rows_limit_exceeded')
    }
  })

  test('a query within the cap answers every row', () => {
    expect(run("SELECT key_id FROM key_verifications_v1 WHERE key_id = 'key_1'", { limits: { maxRows: 5 } })).toHaveLength(5)
  })

  test('a query SQLite refuses when run becomes a 400 through queryFailed, never a 500', () => {
    const compiled = compileAnalyticsQuery('SELECT key_id FROM key_verifications_v1 WHERE count() > 1', options)
    let error: unknown
    try {
      db.query(compiled.sql).values(...compiled.params)
    } catch (thrown) {
      error = queryFailed(thrown)
    }
    expect(error).toMatchObject({ status: 400, type: 'https://unkey.com/docs/errors/user/bad_request/invalid_analytics_query' })
    expect((error as Error).message).toContain('misuse of aggregate')
  })
})
