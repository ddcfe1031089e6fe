import { describeSecurity } from '../../support/security'
import { notFoundBody, REQUEST_ID } from '../../support/harness'

const apiNotFound = notFoundBody('api', 'The requested API does not exist or has been deleted.')

describeSecurity({
  rpc: 'apis.createApi',
  setup: async () => ({ body: { name: 'payments' } }),
  allowed: [['*'], ['api.*.create_api']],
  denied: [
    { grants: ['api.*.read_api'], missing: ['api.*.create_api'] },
    { grants: ['ratelimit.*.limit', 'api.*.delete_api'], missing: ['api.*.create_api'] },
  ],
  // A root key of another workspace creates in its own workspace.
  otherWorkspaceStatus: 200,
})

for (const action of ['read_api', 'delete_api'] as const) {
  const rpc = action === 'read_api' ? 'apis.getApi' : 'apis.deleteApi'
  describeSecurity({
    rpc,
    setup: async (h, admin) => {
      const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
      return { body: { apiId }, vars: { apiId } }
    },
    allowed: [['*'], [`api.*.${action}`], [`api.{apiId}.${action}`]],
    denied: [
      { grants: ['api.*.create_api'], missing: [`api.*.${action}`, `api.{apiId}.${action}`] },
      { grants: [`api.api_someother1.${action}`], missing: [`api.*.${action}`, `api.{apiId}.${action}`] },
      { grants: [action === 'read_api' ? 'api.*.delete_api' : 'api.*.read_api'], missing: [`api.*.${action}`, `api.{apiId}.${action}`] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: apiNotFound,
  })
}

describeSecurity({
  rpc: 'apis.listApis',
  setup: async (h, admin) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    return { body: {}, vars: { apiId } }
  },
  // A per-API grant lists that API only (listApis.test.ts).
  allowed: [['*'], ['api.*.read_api'], ['api.{apiId}.read_api'], ['api.api_someother1.read_api']],
  denied: [
    { grants: ['api.*.create_api'], missing: ['api.*.read_api'] },
    { grants: ['api.{apiId}.delete_api', 'ratelimit.*.read_namespace'], missing: ['api.*.read_api'] },
  ],
  // A key of another workspace lists its own (empty) workspace.
  otherWorkspaceStatus: 200,
  otherWorkspaceBody: { meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } },
})

describeSecurity({
  rpc: 'apis.updateApi',
  setup: async (h, admin) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    return { body: { apiId, name: 'renamed', deleteProtection: true }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.update_api'], ['api.{apiId}.update_api']],
  denied: [
    { grants: ['api.*.read_api', 'api.*.delete_api'], missing: ['api.*.update_api', 'api.{apiId}.update_api'] },
    { grants: ['api.api_someother1.update_api'], missing: ['api.*.update_api', 'api.{apiId}.update_api'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: apiNotFound,
})
