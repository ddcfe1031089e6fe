// HTTP controller for analytics.getVerifications and analytics.getRatelimits:
// `{query}` in, `{meta, data: [rows]}` out. Either grant form lets the call
// through (`api.*.read_analytics` or any `api.<apiId>.read_analytics`; the same
// with `ratelimit`); the service narrows the rows to what the grants name.
import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../http/auth'
import { ok } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { anyResourcePermission } from '../../rbac/requirements'
import type { Services } from '../../services'
import * as m from './model'

export type AnalyticsRouteDeps = Pick<Services, 'analytics'> & { auth: AuthPlugin }

const ERRORS =
  ' A query that is not a single SELECT, reads another table or calls a function off the allow-list is a 400 whose `error.type` says which; so is any error while running it. Running longer than the time limit, or a result over 4 MiB, is a 422.'

export function analyticsRoutes(deps: AnalyticsRouteDeps, prefix: string) {
  const { analytics } = deps
  return new Elysia({ name: `analytics${prefix}`, prefix, detail: { tags: ['analytics'] } } as never)
    .use(deps.auth)
    .post('/analytics.getVerifications', async ({ body, auth, request }) => ok(request, await analytics.query('verifications', auth, body.query)), {
      permission: anyResourcePermission('api', 'read_analytics'),
      body: m.QueryBody,
      response: responses(m.QueryResponse, 422, 503),
      detail: {
        summary: 'Query key verification data',
        description:
          'Runs a read-only SQL query over verification events: `key_verifications_v1` (one row per verifyKey call) and its rollups `key_verifications_per_minute_v1`, `_per_hour_v1`, `_per_day_v1`, `_per_month_v1` (query those with `SUM(count)`). Only the caller’s workspace is visible; under `api.<apiId>.read_analytics` grants, only those APIs’ keys.' +
          ERRORS,
      },
    })
    .post('/analytics.getRatelimits', async ({ body, auth, request }) => ok(request, await analytics.query('ratelimits', auth, body.query)), {
      permission: anyResourcePermission('ratelimit', 'read_analytics'),
      body: m.QueryBody,
      response: responses(m.QueryResponse, 422, 503),
      detail: {
        summary: 'Query ratelimit decisions',
        description:
          'Runs a read-only SQL query over ratelimit decisions: `ratelimits_v1` (one row per limit checked by ratelimit.limit, multiLimit or verifyKey) and its rollups `ratelimits_per_minute_v1`, `_per_hour_v1`, `_per_day_v1`, `_per_month_v1` (`passed` and `total` count requests). Only the caller’s workspace is visible; under `ratelimit.<namespaceId>.read_analytics` grants, only those namespaces.' +
          ERRORS,
      },
    })
}
