// Hostile queries: each is refused with the error type Unkey gives, or answers
// only ws_a's rows. None reaches another workspace, a physical table (keys,
// root_keys, sqlite_master) or a write, and none is slow or overflows a stack.
import { describe, expect, test } from 'bun:test'
import { compileAnalyticsQuery } from '../../../src/modules/analytics/query/compile'
import { db, NOW, refusal, run, SOURCES } from './fixture'

const WS_A_ROWS = 32
const count = (query: string) => run(query)[0]

describe.each([
  ['comment hiding a second statement', 'SELECT count() AS n FROM key_verifications_v1 -- ; DROP TABLE keys'],
  ['block comment naming a table', 'SELECT count() AS n FROM /* sqlite_master */ key_verifications_v1'],
  ['quote inside a comment', "SELECT count() AS n FROM key_verifications_v1 WHERE 1 = 1 /* ' OR workspace_id = 'ws_b' -- */"],
  ['nested selects', 'SELECT count() AS n FROM (SELECT * FROM (SELECT key_id, workspace_id FROM key_verifications_v1))'],
  ['scalar subquery', 'SELECT (SELECT count() FROM key_verifications_v1) AS n FROM key_verifications_v1 LIMIT 1'],
  ['OR 1=1', "SELECT count() AS n FROM key_verifications_v1 WHERE outcome = 'nothing' OR 1 = 1"],
  ['both workspaces named', "SELECT count() AS n FROM key_verifications_v1 WHERE workspace_id = 'ws_b' OR workspace_id = 'ws_a'"],
  ['double-quoted alias', 'SELECT count() AS n FROM "key_verifications_v1"'],
  ['backtick alias', 'SELECT count() AS n FROM `key_verifications_v1`'],
  ['a CTE named like a physical table', 'WITH keys AS (SELECT key_id FROM key_verifications_v1) SELECT count() AS n FROM keys'],
  ['a self join', 'SELECT count() AS n FROM key_verifications_v1 a JOIN key_verifications_v1 b ON a.request_id = b.request_id'],
  ['trailing semicolon', 'SELECT count() AS n FROM key_verifications_v1;'],
])('answered from ws_a only: %s', (_, query) => {
  test('counts exactly ws_a rows', () => {
    expect(count(query)).toEqual({ n: WS_A_ROWS })
  })
})

describe('the workspace filter cannot be widened or redirected', () => {
  test("workspace_id = 'ws_b' finds nothing", () => {
    expect(count("SELECT count() AS n FROM key_verifications_v1 WHERE workspace_id = 'ws_b'")).toEqual({ n: 0 })
    expect(count("SELECT count() AS n FROM ratelimits_v1 WHERE workspace_id != 'ws_a'")).toEqual({ n: 0 })
  })

  test('every row of every alias belongs to ws_a, at every nesting level', () => {
    for (const table of [
      'key_verifications_v1',
      'key_verifications_per_minute_v1',
      'key_verifications_per_day_v1',
      'ratelimits_v1',
      'ratelimits_per_hour_v1',
    ]) {
      const query = `SELECT DISTINCT workspace_id FROM (SELECT * FROM ${table} UNION ALL SELECT * FROM (WITH x AS (SELECT * FROM ${table}) SELECT * FROM x))`
      expect(run(query)).toEqual([{ workspace_id: 'ws_a' }])
    }
  })

  test("ws_b's tags and credits never show", () => {
    expect(count("SELECT count() AS n FROM key_verifications_v1 WHERE has(tags, 'ws=b') OR spent_credits = 100")).toEqual({ n: 0 })
  })

  test('no user text reaches the SQL: names, aliases and strings are bound or generated', () => {
    const query = `WITH MARK_cte AS (SELECT key_id AS MARK_col FROM key_verifications_v1 AS MARK_t WHERE outcome != 'MARK_string')
      SELECT MARK_col AS "MARK_alias; DROP TABLE keys", count() AS MARK_n FROM MARK_cte GROUP BY MARK_col`
    const compiled = compileAnalyticsQuery(query, { route: 'verifications', workspaceId: 'ws_a', resourceIds: null, sources: SOURCES, now: NOW })
    expect(compiled.sql).not.toContain('MARK')
    expect(compiled.params).toContain('MARK_string')
    expect(compiled.columns.map((c) => c.name)).toEqual(['MARK_alias; DROP TABLE keys', 'MARK_n'])
  })
})

test('a literal that looks like a parameter placeholder stays a literal', () => {
  expect(run("SELECT '{{0}}' AS a, '?1' AS b, count() AS n FROM key_verifications_v1 WHERE key_id != '{{1}}'")).toEqual([{ a: '{{0}}', b: '?1', n: WS_A_ROWS }])
})

describe.each([
  ['system.tables', 'SELECT * FROM system.tables'],
  ['information_schema', 'SELECT * FROM information_schema.tables'],
  ['sqlite_master', 'SELECT sql FROM sqlite_master'],
  ['sqlite_schema, quoted', 'SELECT * FROM "sqlite_schema"'],
  ['a physical table', 'SELECT hash FROM keys'],
  ['a physical table, schema-qualified', 'SELECT * FROM main.root_keys'],
  ['an upstream physical name', 'SELECT * FROM default.key_verifications_raw_v2'],
  ['a qualified alias', 'SELECT * FROM default.key_verifications_v1'],
  ['the event table behind the alias', 'SELECT * FROM verification_events'],
  ['the alias in other case, quoted', 'SELECT count() FROM "KEY_VERIFICATIONS_V1"'],
  ['the alias in other case, unquoted', 'SELECT count() FROM Key_Verifications_V1'],
  ['a unicode look-alike, quoted (Cyrillic a)', 'SELECT count() FROM "key_verificаtions_v1"'],
  ['a zero-width space, quoted', 'SELECT count() FROM "key_verifications_v1\u200b"'],
  ['the other route\u2019s table', 'SELECT count() FROM ratelimits_v1 r, key_verifications_v1 k'],
  ['UNION into a physical table', 'SELECT key_id AS x FROM key_verifications_v1 UNION ALL SELECT hash FROM keys'],
  ['UNION into sqlite_master', 'SELECT key_id AS x FROM key_verifications_v1 UNION ALL SELECT sql FROM sqlite_master'],
  ['IN (SELECT ... FROM other)', 'SELECT count() FROM key_verifications_v1 WHERE key_id IN (SELECT id FROM keys)'],
  ['deeply nested other table', 'SELECT count() FROM key_verifications_v1 WHERE key_id IN (SELECT id FROM (SELECT * FROM (SELECT id FROM root_keys)))'],
  ['EXISTS over another table', 'SELECT count() FROM key_verifications_v1 WHERE EXISTS (SELECT 1 FROM keys)'],
  ['a CTE named like the alias', 'WITH key_verifications_v1 AS (SELECT hash AS key_id FROM keys) SELECT key_id FROM key_verifications_v1'],
  ['a CTE named like the alias, other case', 'WITH KEY_VERIFICATIONS_V1 AS (SELECT 1 AS a FROM key_verifications_v1) SELECT a FROM KEY_VERIFICATIONS_V1'],
  ['a CTE reading a table of its own name', 'WITH keys AS (SELECT * FROM keys) SELECT * FROM keys'],
])('refused as an invalid table: %s', (_, query) => {
  test('400 invalid_analytics_table', () => {
    expect(refusal(query, { route: 'verifications' })).toMatchObject({ status: 400, type: 'invalid_analytics_table' })
  })
})

describe.each([
  ['file()', "SELECT * FROM file('/etc/passwd')"],
  ['url()', "SELECT * FROM url('http://127.0.0.1/', CSV)"],
  ['remote()', "SELECT * FROM remote('host', default.t)"],
  ['s3()', "SELECT * FROM s3('https://bucket/x')"],
  ['numbers()', 'SELECT * FROM numbers(10)'],
  ['a table function in a subquery', "SELECT count() FROM key_verifications_v1 WHERE key_id IN (SELECT * FROM file('x'))"],
  ['sleep()', 'SELECT sleep(3) FROM key_verifications_v1'],
  ['dictGet()', "SELECT dictGet('d', 'a', 1) FROM key_verifications_v1"],
  ['SQLite load_extension()', "SELECT load_extension('/tmp/x.so') FROM key_verifications_v1"],
  ['SQLite sqlite_version()', 'SELECT sqlite_version() FROM key_verifications_v1'],
  ['not on the list (multiIf)', 'SELECT multiIf(1, 2, 3) FROM key_verifications_v1'],
  ['CAST', 'SELECT CAST(time AS TEXT) FROM key_verifications_v1'],
  ['a schema-qualified function', 'SELECT main.lower(key_id) FROM key_verifications_v1'],
])('refused as an invalid function: %s', (_, query) => {
  test('400 invalid_analytics_function', () => {
    expect(refusal(query)).toMatchObject({ status: 400, type: 'invalid_analytics_function' })
  })
})

describe.each([
  ['INSERT', 'INSERT INTO key_verifications_v1 (key_id) VALUES (1)'],
  ['DELETE', 'DELETE FROM keys'],
  ['DROP', 'DROP TABLE keys'],
  ['UPDATE', "UPDATE keys SET hash = 'x'"],
  ['CREATE', 'CREATE TABLE t (a INT)'],
  ['ALTER', 'ALTER TABLE keys ADD COLUMN c INT'],
  ['TRUNCATE', 'TRUNCATE keys'],
  ['GRANT', 'GRANT SELECT ON keys TO someone'],
  ['ATTACH', "ATTACH DATABASE '/tmp/x.db' AS x"],
  ['PRAGMA', 'PRAGMA table_info(keys)'],
  ['SELECT INTO', 'SELECT key_id INTO t FROM key_verifications_v1'],
])('refused as not a SELECT: %s', (_, query) => {
  test('400 invalid_analytics_query_type', () => {
    expect(refusal(query)).toMatchObject({ status: 400, type: 'invalid_analytics_query_type' })
  })
})

describe.each([
  ['two statements', 'SELECT count() FROM key_verifications_v1; DROP TABLE keys'],
  ['two SELECTs', 'SELECT 1 AS a FROM key_verifications_v1; SELECT hash FROM keys'],
  ['a # comment (not SQL the parser knows)', 'SELECT count() AS n FROM key_verifications_v1 # comment'],
  ['IN <table>', 'SELECT count() FROM key_verifications_v1 WHERE key_id IN keys'],
  ['SETTINGS', 'SELECT count() FROM key_verifications_v1 SETTINGS max_threads = 1'],
  ['an unquoted look-alike (Cyrillic a)', 'SELECT count() FROM key_verificаtions_v1'],
  ['rowid', 'SELECT rowid FROM key_verifications_v1'],
  ['_rowid_ of a qualified alias', 'SELECT k._rowid_ FROM key_verifications_v1 k'],
  ['a look-alike column', 'SELECT "key_іd" FROM key_verifications_v1'],
  ['an empty query', '  -- nothing\n'],
  ['no FROM', 'SELECT 1 AS one'],
  ['recursive CTE', 'WITH RECURSIVE r AS (SELECT 1 AS n) SELECT n FROM r'],
  ['a parameter', 'SELECT count() FROM key_verifications_v1 WHERE key_id = $1'],
])('refused as an invalid query: %s', (_, query) => {
  test('400 invalid_analytics_query', () => {
    expect(refusal(query)).toMatchObject({ status: 400, type: 'invalid_analytics_query' })
  })
})

describe('long and deep queries are refused fast, without overflowing a stack', () => {
  const cases: [string, string][] = [
    ['over 16 KiB', `SELECT count() FROM key_verifications_v1 WHERE key_id != '${'x'.repeat(17_000)}'`],
    ['16 KiB of nested parentheses', `SELECT ${'('.repeat(8000)}1${')'.repeat(8000)} AS x FROM key_verifications_v1`],
    ['nested subqueries', `SELECT * FROM ${'(SELECT * FROM '.repeat(900)}key_verifications_v1${')'.repeat(900)}`],
    ['nested function calls', `SELECT ${'abs('.repeat(3000)}1${')'.repeat(3000)} AS x FROM key_verifications_v1`],
    ['nested CASE', `SELECT ${'CASE WHEN 1 THEN '.repeat(600)}1${' END'.repeat(600)} AS x FROM key_verifications_v1`],
    ['a chain of NOT', `SELECT count() FROM key_verifications_v1 WHERE ${'NOT '.repeat(3900)}1`],
    ['too many tokens', `SELECT count() FROM key_verifications_v1 WHERE ${Array(1100).fill("key_id='k'").join(' OR ')}`],
    ['hundreds of OR terms', `SELECT count() FROM key_verifications_v1 WHERE ${Array(900).fill("key_id = 'k'").join(' OR ')}`],
    ['a long left-deep chain within the token budget', `SELECT ${Array(1900).fill('1').join(' + ')} AS x FROM key_verifications_v1`],
    ['too many columns', `SELECT ${Array(65).fill('key_id').join(', ')} FROM key_verifications_v1`],
  ]
  test.each(cases)('%s', (_, query) => {
    const started = performance.now()
    const result = refusal(query)
    expect(result).toMatchObject({ status: 400, type: 'invalid_analytics_query' })
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

test('after all of that, the physical tables are intact', () => {
  expect(db.query('SELECT count(*) AS n FROM keys').get()).toEqual({ n: 2 })
  expect(db.query('SELECT count(*) AS n FROM root_keys').get()).toEqual({ n: 1 })
})
