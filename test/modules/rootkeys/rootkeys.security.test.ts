// The security matrix of every rootKeys.* route. Beyond the route's own
// grant, a key must hold every permission it grants or acts on (the denied
// rows naming 'api.*.read_api'); the escalation cases in full are in each
// route's own file.
import { describeSecurity } from '../../support/security'
import { type Harness, notFoundBody } from '../../support/harness'

const CREATE = 'root_key.*.create_root_key'
const READ = 'root_key.*.read_root_key'
const DELETE = 'root_key.*.delete_root_key'
const rootKeyNotFound = notFoundBody('key', 'This root key does not exist.')

describeSecurity({
  rpc: 'rootKeys.whoami',
  setup: async () => ({ body: {} }),
  allowed: [['*'], ['api.*.read_api'], ['audit.*.read_logs']],
  denied: [],
  // Every key describes itself, whichever workspace it belongs to.
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'rootKeys.createRootKey',
  setup: async () => ({ body: { name: 'reader', permissions: ['api.*.read_api'] } }),
  allowed: [['*'], [CREATE, 'api.*.read_api']],
  denied: [
    { grants: ['api.*.read_api'], missing: [CREATE] },
    { grants: [READ, DELETE, 'api.*.read_api'], missing: [CREATE] },
    { grants: [CREATE], missing: ['api.*.read_api'] },
    { grants: [CREATE, 'api.api_1.read_api'], missing: ['api.*.read_api'] },
  ],
  // A key of another workspace creates in its own workspace.
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'rootKeys.listRootKeys',
  setup: async () => ({ body: {} }),
  allowed: [['*'], [READ]],
  denied: [
    { grants: ['api.*.read_api'], missing: [READ] },
    { grants: [CREATE, DELETE], missing: [READ] },
  ],
  // A key of another workspace lists its own workspace's keys (listRootKeys.test.ts).
  otherWorkspaceStatus: 200,
})

/** A key of workspace 'ws' that reads APIs, made over HTTP by the admin. */
const targetKey = async (h: Harness, admin: string) => {
  const { rootKeyId } = await h.ok('rootKeys.createRootKey', { name: 'target', permissions: ['api.*.read_api'] }, admin)
  return { body: { rootKeyId }, vars: { rootKeyId } }
}

describeSecurity({
  rpc: 'rootKeys.revokeRootKey',
  setup: targetKey,
  allowed: [['*'], [DELETE, 'api.*.read_api']],
  denied: [
    { grants: [CREATE, READ, 'api.*.read_api'], missing: [DELETE] },
    { grants: [DELETE], missing: ['api.*.read_api'] },
    { grants: [DELETE, 'api.api_1.read_api'], missing: ['api.*.read_api'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: rootKeyNotFound,
})

describeSecurity({
  rpc: 'rootKeys.rotateRootKey',
  setup: targetKey,
  allowed: [['*'], [CREATE, DELETE, 'api.*.read_api']],
  denied: [
    { grants: [CREATE, 'api.*.read_api'], missing: [DELETE] },
    { grants: [DELETE, 'api.*.read_api'], missing: [CREATE] },
    { grants: [CREATE, DELETE], missing: ['api.*.read_api'] },
    { grants: [READ, 'api.*.read_api'], missing: [CREATE] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: rootKeyNotFound,
})
