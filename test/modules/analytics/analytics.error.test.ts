// The refusals of analytics.getVerifications and analytics.getRatelimits over
// HTTP: invalid bodies, hostile queries (each gets its documented 400 type and
// reaches nothing), retention, errors while running (400, never 500), and the
// 422 limits: result rows, response size, and a deadline that stops a runaway
// query while the server keeps answering.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorBody, Harness, invalidBody } from '../../support/harness'
import { setTimeout as sleep } from 'node:timers/promises'

let h: Harness
let root: string
let workspaceId: string
beforeAll(async () => {
  h = new Harness()
  root = await h.rootKey('ws')
  workspaceId = await h.workspaceId('ws')
  const { key } = await h.ok('keys.createKey', { apiId: (await h.ok('apis.createApi', { name: 'payments' }, root)).apiId }, root)
  await h.ok('keys.verifyKey', { key }, root)
  await h.ok('ratelimit.limit', { namespace: 'api-calls', identifier: 'u', limit: 1, duration: 60_000 }, root)
  await h.services.flush()
})
afterAll(() => h.close())

const TYPES = 'https://unkey.com/docs/errors/user/'
const refusal = (status: number, type: string) =>
  errorBody(status, status === 400 ? 'Bad Request' : 'Unprocessable Entity', `${TYPES}${type}`, expect.any(String))

const getVerifications = (query: unknown) => h.call('/v2/analytics.getVerifications', query === undefined ? {} : { query }, root)
const getRatelimits = (query: unknown) => h.call('/v2/analytics.getRatelimits', { query }, root)

describe('the body', () => {
  test.each([
    ['missing query', {}, "Property 'query' is missing"],
    ['a number', { query: 5 }, "Expected property 'query' to be string but found: 5"],
  ])('%s is a 400 invalid_input', async (_, body, message) => {
    const res = await h.call('/v2/analytics.getVerifications', body, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('analytics.getVerifications', 'body.query', message))
  })

  test('an unknown field is a 400', async () => {
    const res = await h.call('/v2/analytics.getRatelimits', { query: 'SELECT 1 FROM ratelimits_v1', limit: 5 }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.type).toBe('https://unkey.com/docs/errors/unkey/application/invalid_input')
  })
})

describe('hostile and invalid queries get their documented 400 and reach nothing', () => {
  test.each([
    ['a physical table', 'SELECT * FROM verification_events', 'invalid_analytics_table'],
    ['the root keys', 'SELECT hash FROM root_keys', 'invalid_analytics_table'],
    ['sqlite_master in a UNION', 'SELECT outcome FROM key_verifications_v1 UNION ALL SELECT sql FROM sqlite_master', 'invalid_analytics_table'],
    ['a nested select of keys', 'SELECT count() FROM key_verifications_v1 WHERE key_id IN (SELECT id FROM keys)', 'invalid_analytics_table'],
    ['a quoted physical name', 'SELECT * FROM "verification_events"', 'invalid_analytics_table'],
    ['a comment hiding a table', 'SELECT * FROM /* key_verifications_v1 */ keys', 'invalid_analytics_table'],
    ['system.tables', 'SELECT * FROM system.tables', 'invalid_analytics_table'],
    ['a look-alike name (Cyrillic а) is not even a name', 'SELECT * FROM key_verificаtions_v1', 'invalid_analytics_query'],
    ['the other route’s table', 'SELECT * FROM ratelimits_v1', 'invalid_analytics_table'],
    ['a CTE named like an alias', 'WITH key_verifications_per_day_v1 AS (SELECT 1 AS a) SELECT a FROM key_verifications_per_day_v1', 'invalid_analytics_table'],
    ['a table function', "SELECT * FROM url('http://example.com', CSV)", 'invalid_analytics_function'],
    ['sleep', 'SELECT sleep(3) FROM key_verifications_v1', 'invalid_analytics_function'],
    ['a SQLite function', 'SELECT load_extension(key_id) FROM key_verifications_v1', 'invalid_analytics_function'],
    ['a DELETE', 'DELETE FROM key_verifications_v1', 'invalid_analytics_query_type'],
    ['a DROP', 'DROP TABLE verification_events', 'invalid_analytics_query_type'],
    ['an INSERT', "INSERT INTO key_verifications_v1 (key_id) VALUES ('x')", 'invalid_analytics_query_type'],
    ['two statements', 'SELECT 1 FROM key_verifications_v1; DELETE FROM keys', 'invalid_analytics_query'],
    ['an empty query', '', 'invalid_analytics_query'],
    ['a syntax error', 'SELECT FROM WHERE', 'invalid_analytics_query'],
    ['no FROM', 'SELECT 1', 'invalid_analytics_query'],
    ['SETTINGS', 'SELECT count() FROM key_verifications_v1 SETTINGS max_execution_time = 1000', 'invalid_analytics_query'],
    ['an unknown column', 'SELECT nosuch FROM key_verifications_v1', 'invalid_analytics_query'],
    ['an aggregate where SQLite refuses it (an error while running)', 'SELECT key_id FROM key_verifications_v1 WHERE count() > 1', 'invalid_analytics_query'],
    ['more than 16 KiB', `SELECT count() FROM key_verifications_v1 WHERE key_id = '${'x'.repeat(17_000)}'`, 'invalid_analytics_query'],
    [
      'older than the raw retention (30 days)',
      'SELECT count() FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64() - INTERVAL 40 DAY)',
      'query_range_exceeds_retention',
    ],
  ])('%s', async (_, query, type) => {
    const res = await getVerifications(query)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(refusal(400, `bad_request/${type}`))
  })

  test('getRatelimits refuses the verification tables and keeps its own retention', async () => {
    expect((await getRatelimits('SELECT * FROM key_verifications_v1')).body.error.type).toBe(`${TYPES}bad_request/invalid_analytics_table`)
    const old = await getRatelimits('SELECT count() FROM ratelimits_per_day_v1 WHERE time >= toDate(now() - INTERVAL 400 DAY)')
    expect(old.body.error.type).toBe(`${TYPES}bad_request/query_range_exceeds_retention`)
  })

  test('nothing was written, nothing leaked, and no request failed with a 500', async () => {
    expect(h.errors).toEqual([])
    expect(h.db.query('SELECT COUNT(*) AS n FROM verification_events').get()).toEqual({ n: 1 })
    expect(h.db.query('SELECT COUNT(*) AS n FROM keys').get()).toEqual({ n: 1 })
  })
})

describe('422: limits', () => {
  /** 3,000 events straight into the log, each with 1,000 characters of tags. */
  beforeAll(async () => {
    const tags = ['x'.repeat(1000)]
    for (let i = 0; i < 3000; i++) {
      h.services.events.record({
        requestId: `req_${i}`,
        time: h.clock.now(),
        workspaceId,
        apiId: 'api_x',
        keyId: `key_${i % 10}`,
        identityId: null,
        externalId: null,
        outcome: 'VALID',
        tags,
        creditsSpent: 0,
        latency: 0,
      })
    }
    await h.services.flush()
  })

  test('more than 10,000 result rows', async () => {
    const res = await getVerifications('SELECT a.key_id FROM key_verifications_v1 a CROSS JOIN key_verifications_v1 b')
    expect(res.status).toBe(422)
    expect(res.body).toEqual(refusal(422, 'unprocessable_entity/query_rows_limit_exceeded'))
  })

  test('a response over 4 MiB', async () => {
    const res = await getVerifications('SELECT a.tags AS x, b.tags AS y FROM key_verifications_v1 a CROSS JOIN key_verifications_v1 b LIMIT 5000')
    expect(res.status).toBe(422)
    expect(res.body).toEqual(refusal(422, 'unprocessable_entity/query_memory_limit_exceeded'))
  })

  test('a query past the deadline is stopped and answered 422 on time, while other requests are answered meanwhile', async () => {
    h.services.tunables.analyticsTimeoutMs = 500
    try {
      const started = performance.now()
      const runaway = getVerifications(
        'SELECT count() AS n FROM key_verifications_v1 a CROSS JOIN key_verifications_v1 b CROSS JOIN key_verifications_v1 c',
      ).then((res) => ({ res, ms: performance.now() - started }))
      // The server's thread is free: a verification and a small query answer before the runaway one.
      await sleep(50)
      const other = performance.now()
      expect((await getRatelimits('SELECT count() AS n FROM ratelimits_v1')).body.data).toEqual([{ n: 1 }])
      expect(performance.now() - other).toBeLessThan(400)
      const { res, ms } = await runaway
      expect(res.status).toBe(422)
      expect(res.body).toEqual(refusal(422, 'unprocessable_entity/query_execution_timeout'))
      expect(ms).toBeGreaterThanOrEqual(490)
      expect(ms).toBeLessThan(1500)
      // The runner recovers: the next query gets a fresh process.
      expect((await getVerifications('SELECT count() AS n FROM key_verifications_v1')).body.data).toEqual([{ n: 3001 }])
    } finally {
      h.services.tunables.analyticsTimeoutMs = 10_000
    }
  })
})
