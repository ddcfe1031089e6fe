// An in-memory SQLite database shaped like the analytics sources the storage
// side will provide: raw verification and ratelimit events for two workspaces
// (rollups computed from them by GROUP BY), plus physical tables with secrets
// that no analytics query may ever reach. `run` compiles and executes a query
// the way the route will.
import { Database } from 'bun:sqlite'
import type { AnalyticsRoute, AnalyticsSources } from '../../../src/modules/analytics/query'
import { type CompileOptions, compileAnalyticsQuery, decodeRows } from '../../../src/modules/analytics/query'

/** Sunday 2025-06-15 12:30:00 UTC. */
export const NOW = Date.UTC(2025, 5, 15, 12, 30)
export const MINUTE = 60_000
export const at = (month: number, day: number, hour = 0, minute = 0) => Date.UTC(2025, month - 1, day, hour, minute)

type Event = [minutesAgo: number, key: string, externalId: string, identityId: string, api: string, outcome: string, tags: string[], credits: number]

const checkout = ['route=/checkout']

/** Workspace ws_a: 32 verifications (see the expectations in query.examples.test.ts). */
const WS_A: Event[] = [
  [10, 'key_1', 'cust_1', 'id_1', 'api_1', 'VALID', checkout, 1],
  [20, 'key_1', 'cust_1', 'id_1', 'api_1', 'VALID', ['route=/checkout', 'env=prod'], 1],
  [120, 'key_1', 'cust_1', 'id_1', 'api_1', 'RATE_LIMITED', checkout, 0],
  [125, 'key_1', 'cust_1', 'id_1', 'api_1', 'RATE_LIMITED', checkout, 0],
  [130, 'key_1', 'cust_1', 'id_1', 'api_1', 'RATE_LIMITED', checkout, 0],
  [180, 'key_2', 'cust_2', 'id_2', 'api_2', 'VALID', ['route=/home'], 2],
  [300, 'key_2', 'cust_2', 'id_2', 'api_2', 'USAGE_EXCEEDED', [], 0],
  [310, 'key_2', 'cust_2', 'id_2', 'api_2', 'USAGE_EXCEEDED', [], 0],
  [30 * 60, 'key_2', 'cust_2', 'id_2', 'api_2', 'VALID', [], 3],
  [1500, 'key_5', 'cust_1', 'id_1', 'api_1', 'VALID', [], 0],
  [1510, 'key_5', 'cust_1', 'id_1', 'api_1', 'VALID', [], 0],
  [50 * 60, 'key_3', '', '', 'api_1', 'DISABLED', [], 0],
  [3 * 1440, 'key_5', 'cust_1', 'id_1', 'api_1', 'VALID', checkout, 5],
  [6 * 1440, 'key_2', 'cust_2', 'id_2', 'api_2', 'VALID', [], 0],
  [9 * 1440, 'key_3', '', '', 'api_1', 'VALID', [], 0],
  [20 * 1440, 'key_2', 'cust_2', 'id_2', 'api_2', 'VALID', checkout, 4],
  ...[60, 65, 70, 75].map((ago): Event => [ago, '', '', '', '', 'NOT_FOUND', [], 0]),
  ...Array.from({ length: 12 }, (_, i): Event => [240 + i, 'key_4', 'cust_3', 'id_3', 'api_2', 'VALID', checkout, 1]),
]

/** Workspace ws_b: same key and API ids, other numbers; any of it in ws_a's answers is a leak. */
const WS_B: Event[] = Array.from({ length: 7 }, (_, i): Event => [15 + i, 'key_1', 'cust_1', 'id_1', 'api_1', 'VALID', ['route=/checkout', 'ws=b'], 100])

type Limit = [minutesAgo: number, namespace: string, identifier: string, passed: boolean]

const limits = (namespace: string, identifier: string, passed: number, blocked: number, from: number): Limit[] =>
  Array.from({ length: passed + blocked }, (_, i): Limit => [from + i, namespace, identifier, i < passed])

const RATELIMITS: Record<string, Limit[]> = {
  ws_a: [...limits('rlns_1', 'user_a', 5, 1, 5), ...limits('rlns_1', 'user_b', 2, 4, 30), ...limits('rlns_2', 'user_c', 3, 0, 60)],
  ws_b: limits('rlns_1', 'user_b', 0, 9, 5),
}

function build(): Database {
  const db = new Database(':memory:')
  db.run(`CREATE TABLE verification_events (request_id TEXT, time INTEGER, workspace_id TEXT, api_id TEXT, identity_id TEXT, external_id TEXT,
    key_id TEXT, region TEXT, source TEXT, app_id TEXT, outcome TEXT, tags TEXT, spent_credits INTEGER, latency REAL)`)
  db.run(`CREATE TABLE ratelimit_events (request_id TEXT, time INTEGER, workspace_id TEXT, namespace_id TEXT, identifier TEXT, passed INTEGER,
    latency REAL, override_id TEXT, "limit" INTEGER, remaining INTEGER, reset_at INTEGER, tokens INTEGER)`)
  db.run(`CREATE TABLE keys (id TEXT, workspace_id TEXT, hash TEXT)`)
  db.run(`CREATE TABLE root_keys (id TEXT, workspace_id TEXT, hash TEXT)`)
  db.run(`INSERT INTO keys VALUES ('key_1', 'ws_a', 'SECRET_KEY_HASH'), ('key_1', 'ws_b', 'SECRET_KEY_HASH_B')`)
  db.run(`INSERT INTO root_keys VALUES ('root_1', 'ws_a', 'SECRET_ROOT_HASH')`)
  const verification = db.prepare('INSERT INTO verification_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  let n = 0
  for (const [workspace, events] of [
    ['ws_a', WS_A],
    ['ws_b', WS_B],
  ] as const) {
    for (const [ago, key, external, identity, api, outcome, tags, credits] of events) {
      verification.run(
        `req_${n++}`,
        NOW - ago * MINUTE,
        workspace,
        api,
        identity,
        external,
        key,
        'local',
        'api',
        '',
        outcome,
        JSON.stringify(tags),
        credits,
        1.25,
      )
    }
  }
  const ratelimit = db.prepare('INSERT INTO ratelimit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  for (const [workspace, rows] of Object.entries(RATELIMITS)) {
    for (const [ago, namespace, identifier, passed] of rows) {
      ratelimit.run(`req_${n++}`, NOW - ago * MINUTE, workspace, namespace, identifier, passed ? 1 : 0, 0.5, '', 10, passed ? 3 : 0, NOW + MINUTE, 1)
    }
  }
  return db
}

const BUCKET_MS = { minute: MINUTE, hour: 60 * MINUTE, day: 1440 * MINUTE }
const bucket = (unit: keyof typeof BUCKET_MS | 'month') =>
  unit === 'month' ? `unixepoch(time / 1000, 'unixepoch', 'start of month') * 1000` : `(time / ${BUCKET_MS[unit]}) * ${BUCKET_MS[unit]}`

const RAW_VERIFICATIONS = `SELECT request_id, time, workspace_id, api_id AS key_space_id, identity_id, external_id, key_id, region, source, app_id,
  outcome, tags, spent_credits, latency FROM verification_events`
const verificationRollup = (unit: keyof typeof BUCKET_MS | 'month') => () =>
  `SELECT ${bucket(unit)} AS time, workspace_id, api_id AS key_space_id, identity_id, external_id, key_id, outcome, source, app_id, tags,
   COUNT(*) AS count, SUM(spent_credits) AS spent_credits FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`
const ratelimitRollup = (unit: keyof typeof BUCKET_MS | 'month') => () =>
  `SELECT ${bucket(unit)} AS time, workspace_id, namespace_id, identifier, SUM(passed) AS passed, COUNT(*) AS total, SUM(tokens) AS total_tokens,
   SUM(CASE WHEN passed THEN tokens ELSE 0 END) AS passed_tokens FROM ratelimit_events GROUP BY 1, 2, 3, 4`

/** Sources that ignore the scope they are given: the query core's own filter must be enough. */
export const SOURCES: AnalyticsSources = {
  key_verifications_v1: () => RAW_VERIFICATIONS,
  key_verifications_per_minute_v1: verificationRollup('minute'),
  key_verifications_per_hour_v1: verificationRollup('hour'),
  key_verifications_per_day_v1: verificationRollup('day'),
  key_verifications_per_month_v1: verificationRollup('month'),
  ratelimits_v1: () => 'SELECT * FROM ratelimit_events',
  ratelimits_per_minute_v1: ratelimitRollup('minute'),
  ratelimits_per_hour_v1: ratelimitRollup('hour'),
  ratelimits_per_day_v1: ratelimitRollup('day'),
  ratelimits_per_month_v1: ratelimitRollup('month'),
}

export const db = build()

export type RunOptions = Partial<Omit<CompileOptions, 'route'>> & { route?: AnalyticsRoute }

/** Compiles for ws_a (wildcard grant) unless told otherwise, runs, decodes. */
export function run(query: string, options: RunOptions = {}): Record<string, unknown>[] {
  const compiled = compileAnalyticsQuery(query, {
    route: query.includes('ratelimits_') ? 'ratelimits' : 'verifications',
    workspaceId: 'ws_a',
    resourceIds: null,
    sources: SOURCES,
    now: NOW,
    ...options,
  })
  return decodeRows(compiled, db.query(compiled.sql).values(...compiled.params) as unknown[][])
}

/** The error a query is refused with: its status and the last segment of its type. */
export function refusal(query: string, options: RunOptions = {}): { status: number; type: string; detail: string } {
  try {
    run(query, options)
  } catch (error) {
    const e = error as { status?: number; type?: string; detail?: string; message: string }
    if (e.status === undefined) throw error
    return { status: e.status, type: String(e.type).split('/').pop()!, detail: String(e.detail) }
  }
  throw new Error(`expected ${query} to be refused`)
}
