// The security matrix of analytics.getVerifications and analytics.getRatelimits:
// either grant form of the route's resource type lets the call through (the
// rows are narrowed in analytics.happy.test.ts); anything else is a 403 naming
// the wildcard; another workspace's root key gets its own (empty) answer.
import { REQUEST_ID } from '../../support/harness'
import { describeSecurity } from '../../support/security'

const noRows = { meta: { requestId: REQUEST_ID }, data: [{ n: 0 }] }

describeSecurity({
  rpc: 'analytics.getVerifications',
  setup: async (h, admin) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    return { body: { query: 'SELECT count() AS n FROM key_verifications_v1' }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.read_analytics'], ['api.{apiId}.read_analytics'], ['api.{apiId}.read_analytics', 'api.api_another1234.read_analytics']],
  denied: [
    { grants: ['api.*.read_api'], missing: ['api.*.read_analytics'] },
    { grants: ['api.*.verify_key', 'api.{apiId}.read_key'], missing: ['api.*.read_analytics'] },
    { grants: ['ratelimit.*.read_analytics'], missing: ['api.*.read_analytics'] },
    { grants: ['identity.*.read_identity'], missing: ['api.*.read_analytics'] },
  ],
  otherWorkspaceStatus: 200,
  otherWorkspaceBody: noRows,
})

describeSecurity({
  rpc: 'analytics.getRatelimits',
  setup: async (h, admin) => {
    await h.ok('ratelimit.limit', { namespace: 'email', identifier: 'u', limit: 1, duration: 60_000 }, admin)
    const nsId = (await h.services.ratelimit.findNamespace(await h.workspaceId('ws'), 'email'))!.id
    return { body: { query: 'SELECT count() AS n FROM ratelimits_v1' }, vars: { nsId } }
  },
  allowed: [['*'], ['ratelimit.*.read_analytics'], ['ratelimit.{nsId}.read_analytics']],
  denied: [
    { grants: ['ratelimit.*.limit', 'ratelimit.{nsId}.read_override'], missing: ['ratelimit.*.read_analytics'] },
    { grants: ['api.*.read_analytics'], missing: ['ratelimit.*.read_analytics'] },
  ],
  otherWorkspaceStatus: 200,
  otherWorkspaceBody: noRows,
})
