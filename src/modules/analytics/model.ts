// Request and response schemas of analytics.getVerifications and
// analytics.getRatelimits: a body with one SQL string, and rows whose keys
// are whatever the query selects.
import { t } from 'elysia'
import { body, Meta } from '../../http/schemas'

export const QueryBody = body({
  query: t.String({
    description:
      'One ClickHouse-flavoured SELECT over the route’s five table aliases (CTEs, subqueries, UNION and EXCEPT allowed). Rows are always limited to the caller’s workspace, and to the granted APIs or namespaces under a scoped grant.',
    examples: ['SELECT outcome, count() AS n FROM key_verifications_v1 WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 7 DAY) GROUP BY outcome'],
  }),
})

export const QueryResponse = t.Object({
  meta: Meta,
  data: t.Array(t.Object({}, { additionalProperties: true }), {
    description: 'One object per result row, keyed by the SELECT’s output names (alias everything). Times are unix ms, `tags` an array.',
  }),
})
