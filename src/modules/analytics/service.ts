// The rules of analytics.getVerifications and analytics.getRatelimits: which
// rows a root key may see (its workspace; only the granted APIs or namespaces
// under `api.<id>.read_analytics` / `ratelimit.<id>.read_analytics`), how far
// back each table goes (the retention tunables, also the pruning job's), how
// long a query may run, and how each failure is answered. The query core
// (./query) checks and translates the query; the analytics store runs it.
import type { Clock } from '../../clock'
import type { Tunables } from '../../config'
import type { Stores } from '../../db/stores'
import { AnalyticsQueryError, ROLLUP_GRAINS, type RollupGrain } from '../../db/stores/analytics'
import { ApiError } from '../../errors'
import { resourcesGranted } from '../../rbac/grants'
import type { AuthContext } from '../../rbac/requirements'
import { pruneInSlices } from './event-buffer'
import {
  type AnalyticsRoute,
  compileAnalyticsQuery,
  decodeRows,
  executionTimeout,
  memoryLimitExceeded,
  queryFailed,
  ROUTE_TABLES,
  type TableAlias,
} from './query'

export type AnalyticsTunables = Pick<
  Tunables,
  | 'verificationRetentionDays'
  | 'ratelimitEventRetentionDays'
  | 'minuteRollupRetentionDays'
  | 'hourRollupRetentionDays'
  | 'dayRollupRetentionDays'
  | 'monthRollupRetentionDays'
  | 'analyticsTimeoutMs'
>

const DAY = 86_400_000
/** Upstream's cap on the encoded response. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024
const RESOURCE_TYPE = { verifications: 'api', ratelimits: 'ratelimit' } as const

export const analyticsUnavailable = (detail: string) =>
  new ApiError(503, 'Service Unavailable', 'https://unkey.com/docs/errors/unkey/data/analytics_connection_failed', detail)

export class AnalyticsService {
  constructor(
    private readonly stores: Pick<Stores, 'analytics'>,
    private readonly clock: Clock,
    private readonly tunables: AnalyticsTunables,
  ) {}

  /** Days kept of one grain's rollups. */
  private rollupDays(grain: RollupGrain): number {
    return this.tunables[`${grain}RollupRetentionDays`]
  }

  /** How far back (ms) each of the route's tables goes: older lower bounds are refused, as upstream. */
  private retention(route: AnalyticsRoute): Partial<Record<TableAlias, number>> {
    const raw = route === 'verifications' ? this.tunables.verificationRetentionDays : this.tunables.ratelimitEventRetentionDays
    const [table, ...rollups] = ROUTE_TABLES[route]
    const out: Partial<Record<TableAlias, number>> = { [table!]: raw * DAY }
    rollups.forEach((alias, i) => {
      out[alias] = this.rollupDays(ROLLUP_GRAINS[i]!) * DAY
    })
    return out
  }

  /** The rows of `query` that the caller may see, as response objects. */
  async query(route: AnalyticsRoute, auth: AuthContext, query: string): Promise<Record<string, unknown>[]> {
    const granted = resourcesGranted(auth.permissions, RESOURCE_TYPE[route], 'read_analytics')
    const compiled = compileAnalyticsQuery(query, {
      route,
      workspaceId: auth.workspaceId,
      resourceIds: granted ?? null,
      sources: this.stores.analytics.sources,
      now: this.clock.now(),
      retentionMs: this.retention(route),
      dialect: this.stores.analytics.dialect,
    })
    const timeoutMs = this.tunables.analyticsTimeoutMs
    let rows: unknown[][]
    try {
      rows = await this.stores.analytics.query(compiled, timeoutMs)
    } catch (error) {
      if (!(error instanceof AnalyticsQueryError)) throw error
      if (error.reason === 'timeout') throw executionTimeout(`The query ran longer than ${timeoutMs} ms: narrow the time range or read a rollup table.`)
      if (error.reason === 'memory') throw memoryLimitExceeded('The query needs more memory than an analytics query may use: aggregate more or narrow it.')
      if (error.reason === 'unavailable') throw analyticsUnavailable(error.message)
      throw queryFailed(error)
    }
    const data = decodeRows(compiled, rows)
    if (Buffer.byteLength(JSON.stringify(data)) > MAX_RESPONSE_BYTES) {
      throw memoryLimitExceeded('The result is larger than 4 MiB of JSON: select fewer columns or rows.')
    }
    return data
  }

  /** Deletes rollup rows past their grain's retention (raw events are pruned by their logs). */
  async pruneRollups(): Promise<number> {
    let total = 0
    for (const grain of ROLLUP_GRAINS) {
      const before = this.clock.now() - this.rollupDays(grain) * DAY
      for (const kind of ['verifications', 'ratelimits'] as const) {
        total += await pruneInSlices((cutoff, limit) => this.stores.analytics.deleteRollupsBefore(kind, grain, cutoff, limit), before)
      }
    }
    return total
  }
}
