// The SQL behind each public analytics table alias (key_verifications_v1 and
// ratelimits_v1 over the raw event tables, their _per_minute/hour/day/month_v1
// over the rollup tables), shared by both engines: the tables and columns are
// the same, and the one difference (how a stored boolean reads back) is a
// parameter. Columns latch does not track get Unkey's documented defaults:
// region 'local', source 'api', app_id ''.
import type { AnalyticsSourceSql, AnalyticsTable, RollupGrain } from './stores/analytics'

type Scope = Parameters<AnalyticsSourceSql>[0]

/** `WHERE workspace_id = … [AND <column> IN (…)]`: the query core filters again around it; this lets the engine use the indexes. */
const where = (scope: Scope, column: string) =>
  `WHERE workspace_id = ${scope.workspace}${scope.resources === null ? '' : ` AND ${column} IN (${scope.resources})`}`

/** `passed`: the select expression that reads ratelimit_events.passed as 0/1 (a boolean column on PostgreSQL). */
export function analyticsSources(engine: { passed: string }): Record<AnalyticsTable, AnalyticsSourceSql> {
  const rawVerifications: AnalyticsSourceSql = (scope) =>
    `SELECT request_id, time, workspace_id, coalesce(api_id, '') AS key_space_id, coalesce(identity_id, '') AS identity_id, external_id,
   coalesce(key_id, '') AS key_id, 'local' AS region, 'api' AS source, '' AS app_id, outcome, coalesce(tags, '[]') AS tags,
   credits_spent AS spent_credits, latency FROM verification_events ${where(scope, 'api_id')}`

  const verificationRollup =
    (grain: RollupGrain): AnalyticsSourceSql =>
    (scope) =>
      `SELECT time, workspace_id, key_space_id, identity_id, external_id, key_id, outcome, 'api' AS source, '' AS app_id, tags, count, spent_credits
     FROM verification_rollups_per_${grain} ${where(scope, 'key_space_id')}`

  const rawRatelimits: AnalyticsSourceSql = (scope) =>
    `SELECT request_id, time, workspace_id, namespace_id, identifier, ${engine.passed}, latency, override_id, "limit", remaining, reset_at, tokens
   FROM ratelimit_events ${where(scope, 'namespace_id')}`

  const ratelimitRollup =
    (grain: RollupGrain): AnalyticsSourceSql =>
    (scope) =>
      `SELECT time, workspace_id, namespace_id, identifier, passed, total, total_tokens, passed_tokens
     FROM ratelimit_rollups_per_${grain} ${where(scope, 'namespace_id')}`

  return {
    key_verifications_v1: rawVerifications,
    key_verifications_per_minute_v1: verificationRollup('minute'),
    key_verifications_per_hour_v1: verificationRollup('hour'),
    key_verifications_per_day_v1: verificationRollup('day'),
    key_verifications_per_month_v1: verificationRollup('month'),
    ratelimits_v1: rawRatelimits,
    ratelimits_per_minute_v1: ratelimitRollup('minute'),
    ratelimits_per_hour_v1: ratelimitRollup('hour'),
    ratelimits_per_day_v1: ratelimitRollup('day'),
    ratelimits_per_month_v1: ratelimitRollup('month'),
  }
}
