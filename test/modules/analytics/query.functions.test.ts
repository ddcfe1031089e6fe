// The allowed ClickHouse functions and operators, translated to SQLite. Time
// functions are checked twice, folded in JavaScript for constants and computed
// by SQLite for values read from rows: both must agree, and match ClickHouse.
import { describe, expect, test } from 'bun:test'
import { splitLambda } from '../../../src/modules/analytics/query/functions'
import { likeToGlob } from '../../../src/modules/analytics/query/operators'
import { parseQuery } from '../../../src/modules/analytics/query/parse'
import { DEFAULT_LIMITS } from '../../../src/modules/analytics/query/compile'
import { at, refusal, run } from './fixture'

/** One row of ws_a (the DISABLED call) to compute over; `one(expr)` evaluates an expression there. */
const one = (expression: string) => run(`SELECT ${expression} AS v FROM key_verifications_v1 WHERE outcome = 'DISABLED'`)[0]!.v

const INSTANTS = ['2024-01-31 23:59:59.999', '2024-02-29 12:00:00', '2025-03-31 00:00:00', '2025-06-15 12:30:00', '2025-06-16 00:00:00', '2025-12-31 23:59:59']

describe('time functions: constants folded in JavaScript agree with SQLite over rows', () => {
  const functions = [
    'toStartOfMinute(@)',
    'toStartOfHour(@)',
    'toStartOfDay(@)',
    'toStartOfWeek(@)',
    'toStartOfWeek(@, 1)',
    'toStartOfMonth(@)',
    'toStartOfQuarter(@)',
    'toStartOfYear(@)',
    'toDate(@)',
    'toDateTime(@)',
    "date_trunc('week', @)",
    "date_trunc('quarter', @)",
    '@ + INTERVAL 1 MONTH',
    '@ - INTERVAL 1 QUARTER',
    '@ + INTERVAL 3 WEEK',
    '@ - toIntervalQuarter(1)',
    '@ + INTERVAL 1 YEAR',
    '@ - INTERVAL 90 MINUTE',
    '@ + toIntervalWeek(2)',
    'toString(@)',
    "formatDateTime(@, '%F %T (%i)')",
    'toUnixTimestamp64Milli(@)',
    'toInt64(@)',
  ]
  for (const instant of INSTANTS) {
    const ms = Date.parse(`${instant.replace(' ', 'T')}Z`)
    test.each(functions)(`%s at ${instant}`, (fn) => {
      const folded = one(fn.replaceAll('@', `toDateTime64('${instant}', 3)`))
      const fromRow = one(fn.replaceAll('@', `fromUnixTimestamp64Milli(time - time + ${ms})`))
      expect(fromRow).toEqual(folded)
    })
  }

  test('values match ClickHouse', () => {
    expect(one("toStartOfWeek(toDateTime('2025-06-15 12:30:00'))")).toBe(at(6, 15)) // a Sunday
    expect(one("toStartOfWeek(toDateTime('2025-06-15 12:30:00'), 1)")).toBe(at(6, 9)) // the Monday before
    expect(one("toDateTime('2024-01-31 10:00:00') + INTERVAL 1 MONTH")).toBe(Date.UTC(2024, 1, 29, 10)) // clamped, not March 2
    expect(one("toStartOfQuarter(toDate('2025-06-15'))")).toBe(at(4, 1))
    expect(one("toString(toDateTime('2025-06-15 12:30:00'))")).toBe('2025-06-15 12:30:00')
    expect(one("toInt64(toDateTime('2025-06-15 12:30:00'))")).toBe(at(6, 15, 12, 30) / 1000)
    expect(one("now() - toDateTime('2025-06-15 12:00:00')")).toBe(1800)
    expect(one('today()')).toBe(at(6, 15))
    expect(one("INTERVAL '2 hours' + toDateTime('2025-06-15 12:00:00')")).toBe(at(6, 15, 14))
    expect(one("formatDateTime(toDateTime('2025-06-05 07:08:09'), '%Y/%m/%d %H-%i-%S')")).toBe('2025/06/05 07-08-09')
  })

  test('a time compared with a string parses it, with a number compares unix seconds', () => {
    expect(run("SELECT SUM(count) AS n FROM key_verifications_per_hour_v1 WHERE time >= '2025-06-15 00:00:00'")).toEqual([{ n: 24 }])
    expect(run(`SELECT SUM(count) AS n FROM key_verifications_per_hour_v1 WHERE time >= ${at(6, 15) / 1000}`)).toEqual([{ n: 24 }])
  })

  test('only the UTC timezone is known', () => {
    expect(one("toStartOfDay(now(), 'UTC')")).toBe(at(6, 15))
    expect(refusal("SELECT toStartOfDay(now(), 'Europe/Berlin') FROM key_verifications_v1")).toMatchObject({ type: 'invalid_analytics_query' })
  })
})

describe('aggregates', () => {
  test('count variants, uniq over several columns, sum/min/max/any over no rows', () => {
    const [row] = run(`SELECT count(*) AS a, count(DISTINCT key_id) AS b, uniqExact(key_id, outcome) AS c, sum(spent_credits) AS d,
      avg(spent_credits) AS e, countIf(key_id, outcome = 'VALID') AS f FROM key_verifications_v1`)
    expect(row).toEqual({ a: 32, b: 6, c: 9, d: 28, e: 0.875, f: 22 })
    expect(
      run("SELECT sum(spent_credits) AS s, min(key_id) AS lo, max(time) AS hi, any(outcome) AS x FROM key_verifications_v1 WHERE key_id = 'none'"),
    ).toEqual([{ s: 0, lo: '', hi: 0, x: '' }])
  })

  test('groupArray and groupUniqArray build arrays (arrays of arrays for tags)', () => {
    const [row] = run(`SELECT groupUniqArray(outcome) AS outcomes, groupArray(tags) AS tag_lists FROM key_verifications_v1 WHERE key_id = 'key_1'`)
    expect((row!.outcomes as string[]).sort()).toEqual(['RATE_LIMITED', 'VALID'])
    expect(row!.tag_lists).toContainEqual(['route=/checkout', 'env=prod'])
  })

  test('window functions: a running total per day', () => {
    const query = `SELECT time AS day, sum(SUM(count)) OVER (ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
      FROM key_verifications_per_day_v1 GROUP BY time ORDER BY day DESC LIMIT 2`
    expect(run(query)).toEqual([
      { day: at(6, 15), running: 32 },
      { day: at(6, 14), running: 8 },
    ])
  })

  test('quantile has no SQLite equivalent and says so', () => {
    expect(refusal('SELECT quantile(latency) FROM key_verifications_v1')).toMatchObject({ type: 'invalid_analytics_query' })
  })
})

describe('arrays', () => {
  test('arrayJoin gives a row per tag', () => {
    expect(run('SELECT arrayJoin(tags) AS tag, count() AS n FROM key_verifications_v1 GROUP BY tag ORDER BY n DESC, tag')).toEqual([
      { tag: 'route=/checkout', n: 19 },
      { tag: 'env=prod', n: 1 },
      { tag: 'route=/home', n: 1 },
    ])
  })

  test('arrayFilter with a lambda, hasAny and hasAll', () => {
    expect(run("SELECT arrayFilter(x -> x LIKE 'env=%' OR x = 'nope', tags) AS envs FROM key_verifications_v1 WHERE length(tags) = 2")).toEqual([
      { envs: ['env=prod'] },
    ])
    expect(run("SELECT count() AS n FROM key_verifications_v1 WHERE hasAny(tags, arrayFilter(x -> startsWith(x, 'env='), tags))")).toEqual([{ n: 1 }])
    expect(run("SELECT count() AS n FROM key_verifications_v1 WHERE hasAll(tags, arrayFilter(x -> endsWith(x, '/checkout'), tags))")).toEqual([{ n: 32 }])
  })

  test('the lambda is lifted out of the parser’s reading of ->', () => {
    const select = parseQuery("SELECT arrayFilter(x -> x = 'a' OR x = 'b', tags) FROM t", DEFAULT_LIMITS)
    const lambda = splitLambda(select.columns[0].expr.args.value[0])
    expect(lambda?.param).toBe('x')
    expect(lambda?.body).toMatchObject({ operator: 'OR', left: { operator: '=', left: { type: 'column_ref' } } })
  })
})

describe('strings, math, conditionals, conversions', () => {
  test('LIKE is case-sensitive as in ClickHouse, ILIKE is not; escapes and GLOB characters are literal', () => {
    expect(
      run(
        "SELECT countIf(outcome LIKE 'valid') AS a, countIf(outcome ILIKE 'valid') AS b, countIf(outcome LIKE 'V_LID') AS c, countIf(outcome LIKE '%\\\\_%') AS d, countIf(key_id LIKE 'key[1]') AS e FROM key_verifications_v1",
      ),
    ).toEqual([{ a: 0, b: 22, c: 22, d: 9, e: 0 }])
    expect(likeToGlob('a*b?[c]%_\\%')).toBe('a[*]b[?][[]c]*?%')
  })

  test('string functions', () => {
    expect(one("concat(lower('AbC'), upper('d'), '-', 42, '-', substring('hello', 2, 3))")).toBe('abcD-42-ell')
    expect(one("length('héllo')")).toBe(6) // bytes, as ClickHouse
    expect(one('length(tags)')).toBe(0)
    expect(one("trim('  x  ')")).toBe('x')
    expect(one("startsWith('route=/a', 'route=') + endsWith('route=/a', '/a') + endsWith('x', '')")).toBe(3)
    expect(one('JSONExtractString(\'{"a":{"b":"c"},"n":1}\', \'a\', \'b\')')).toBe('c')
    expect(one("JSONExtractString('{\"n\":1}', 'n')")).toBe('')
    expect(one("JSONExtractString('not json', 'n')")).toBe('')
  })

  test('math and conditionals', () => {
    expect(one('round(1.26, 1) + floor(-1.5) + ceil(1.2) + abs(-3)')).toBeCloseTo(1.3 - 2 + 2 + 3)
    expect(one('floor(2.345, 1)')).toBe(2.3)
    expect(one("if(1 = 1, 'yes', 'no')")).toBe('yes')
    expect(one('coalesce(NULL, 7)')).toBe(7)
    expect(one("toInt32('12') + toFloat64('0.5')")).toBe(12.5)
    expect(one('7 / 2')).toBe(3.5)
  })
})

describe('statements', () => {
  test('EXCEPT, LEFT JOIN to a CTE, IN a subquery, BETWEEN, LIMIT with OFFSET', () => {
    expect(run("SELECT key_id FROM key_verifications_v1 EXCEPT SELECT key_id FROM key_verifications_v1 WHERE outcome = 'VALID'")).toEqual([{ key_id: '' }])
    const join = `WITH valid AS (SELECT key_id, count() AS n FROM key_verifications_v1 WHERE outcome = 'VALID' GROUP BY key_id)
      SELECT k.key_id AS id, coalesce(v.n, 0) AS valid FROM (SELECT DISTINCT key_id FROM key_verifications_v1) AS k LEFT JOIN valid AS v ON v.key_id = k.key_id
      ORDER BY id LIMIT 2 OFFSET 1`
    expect(run(join)).toEqual([
      { id: 'key_1', valid: 2 },
      { id: 'key_2', valid: 4 },
    ])
    expect(run("SELECT count() AS n FROM key_verifications_v1 WHERE key_id IN (SELECT key_id FROM key_verifications_v1 WHERE outcome = 'DISABLED')")).toEqual([
      { n: 2 },
    ])
    expect(
      run(
        "SELECT count() AS n FROM key_verifications_v1 WHERE time BETWEEN toUnixTimestamp64Milli(toDateTime64('2025-06-14 00:00:00', 3)) AND toUnixTimestamp64Milli(now64())",
      ),
    ).toEqual([{ n: 27 }])
  })

  test('ORDER BY and LIMIT of a UNION branch apply to that branch, as in ClickHouse', () => {
    const query = `SELECT key_id FROM key_verifications_v1 WHERE key_id = 'key_3'
      UNION ALL SELECT key_id FROM key_verifications_v1 WHERE key_id != '' ORDER BY key_id DESC LIMIT 1`
    expect(run(query)).toEqual([{ key_id: 'key_3' }, { key_id: 'key_3' }, { key_id: 'key_5' }])
  })

  test('an unknown or mis-cased column is an invalid query, as in ClickHouse', () => {
    expect(refusal('SELECT KEY_ID FROM key_verifications_v1')).toMatchObject({ type: 'invalid_analytics_query', detail: 'Unknown column KEY_ID.' })
    expect(refusal('SELECT latency_avg FROM key_verifications_per_day_v1')).toMatchObject({ type: 'invalid_analytics_query' })
  })
})
