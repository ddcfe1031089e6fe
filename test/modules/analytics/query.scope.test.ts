// Row scoping by grant: a wildcard grant sees the workspace, an API-scoped
// (namespace-scoped) grant only those APIs (namespaces), a grant naming
// nothing sees nothing; a source that uses the scope it is handed and one that
// ignores it answer the same.
import { describe, expect, test } from 'bun:test'
import type { AnalyticsSources } from '../../../src/modules/analytics/query/catalog'
import { run, SOURCES } from './fixture'

const OUTCOMES = 'SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY n DESC'

describe('getVerifications under API-scoped grants', () => {
  test('api_1 only: its keys, and no rows without an API (NOT_FOUND)', () => {
    expect(run(OUTCOMES, { resourceIds: ['api_1'] })).toEqual([
      { outcome: 'VALID', n: 6 },
      { outcome: 'RATE_LIMITED', n: 3 },
      { outcome: 'DISABLED', n: 1 },
    ])
  })

  test('two APIs together', () => {
    expect(run('SELECT count() AS n FROM key_verifications_v1', { resourceIds: ['api_1', 'api_2'] })).toEqual([{ n: 28 }])
  })

  test('a grant whose ids resolve to nothing sees no rows, without an error', () => {
    expect(run('SELECT count() AS n FROM key_verifications_v1', { resourceIds: [] })).toEqual([{ n: 0 }])
    expect(run('SELECT count() AS n FROM key_verifications_v1', { resourceIds: ['api_unknown'] })).toEqual([{ n: 0 }])
  })

  test('the rollups are scoped the same way', () => {
    for (const rollup of ['minute', 'hour', 'day', 'month']) {
      expect(run(`SELECT SUM(count) AS n FROM key_verifications_per_${rollup}_v1`, { resourceIds: ['api_2'] })).toEqual([{ n: 18 }])
    }
  })

  test('predicates on key_space_id cannot reach another API', () => {
    const query = "SELECT count() AS n FROM key_verifications_v1 WHERE key_space_id = 'api_2' OR key_space_id != 'api_2' OR 1 = 1"
    expect(run(query, { resourceIds: ['api_1'] })).toEqual([{ n: 10 }])
    const nested = "SELECT count() AS n FROM (SELECT * FROM key_verifications_v1 UNION ALL SELECT * FROM key_verifications_v1 WHERE key_space_id = 'api_2')"
    expect(run(nested, { resourceIds: ['api_1'] })).toEqual([{ n: 10 }])
  })

  test('the same API id in another workspace is that workspace’s', () => {
    expect(run('SELECT count() AS n, SUM(spent_credits) AS credits FROM key_verifications_v1', { workspaceId: 'ws_b', resourceIds: ['api_1'] })).toEqual([
      { n: 7, credits: 700 },
    ])
  })
})

describe('getRatelimits under namespace-scoped grants', () => {
  const query = 'SELECT identifier, count() AS n FROM ratelimits_v1 GROUP BY identifier ORDER BY identifier'

  test('rlns_2 only', () => {
    expect(run(query, { resourceIds: ['rlns_2'] })).toEqual([{ identifier: 'user_c', n: 3 }])
  })

  test('rlns_1 only, in ws_b', () => {
    expect(run(query, { workspaceId: 'ws_b', resourceIds: ['rlns_1'] })).toEqual([{ identifier: 'user_b', n: 9 }])
  })

  test('the rollups count the same rows as the raw table', () => {
    expect(run('SELECT SUM(total) AS total, SUM(passed) AS passed FROM ratelimits_per_hour_v1', { resourceIds: ['rlns_1'] })).toEqual([
      { total: 12, passed: 7 },
    ])
  })

  test('getRatelimits cannot read the verification tables, nor getVerifications the ratelimit ones', () => {
    expect(() => run('SELECT count() FROM key_verifications_v1', { route: 'ratelimits' })).toThrow('not available')
    expect(() => run('SELECT count() FROM ratelimits_v1', { route: 'verifications' })).toThrow('not available')
  })
})

describe('sources', () => {
  const seen: { workspace: string; resources: string | null }[] = []
  // A source that filters early with the placeholders it is given, as the storage side should.
  const narrowing: AnalyticsSources = {
    ...SOURCES,
    key_verifications_v1: (scope) => {
      seen.push(scope)
      const resources = scope.resources === null ? '' : ` AND api_id IN (${scope.resources})`
      return `${SOURCES.key_verifications_v1(scope)} WHERE workspace_id = ${scope.workspace}${resources}`
    },
  }

  test('a source that narrows with the scope answers what one that ignores it does', () => {
    for (const resourceIds of [null, ['api_1'], ['api_1', 'api_2'], []]) {
      expect(run(OUTCOMES, { resourceIds, sources: narrowing })).toEqual(run(OUTCOMES, { resourceIds }))
    }
    expect(seen.map((scope) => scope.resources === null)).toEqual([true, false, false, false])
  })

  test('the scope placeholders are bound to the caller’s values', () => {
    expect(run('SELECT DISTINCT workspace_id, key_space_id FROM key_verifications_v1', { resourceIds: ['api_2'], sources: narrowing })).toEqual([
      { workspace_id: 'ws_a', key_space_id: 'api_2' },
    ])
  })
})
