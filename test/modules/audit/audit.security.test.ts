// audit.listLogs through the shared security matrix, plus isolation: a root
// key sees its own workspace's events only, whatever it filters by; and the
// `audit.*.read_logs` grant is validated like every other.
import { describe, expect, test } from 'bun:test'
import { RootKeyInputError, RootKeyService } from '../../../src/modules/rootkeys/service'
import { describeSecurity } from '../../support/security'
import { auditFixture } from './fixture'

describeSecurity({
  rpc: 'audit.listLogs',
  setup: async (h, admin) => {
    await h.ok('apis.createApi', { name: 'payments' }, admin)
    return { body: { events: ['api.create'], limit: 10 } }
  },
  allowed: [['*'], ['audit.*.read_logs'], ['audit.*.read_logs', 'api.*.read_api']],
  denied: [
    { grants: ['api.*.read_api'], missing: ['audit.*.read_logs'] },
    { grants: ['api.*.read_analytics', 'ratelimit.*.read_analytics', 'identity.*.read_identity'], missing: ['audit.*.read_logs'] },
    { grants: ['rbac.*.read_role', 'api.*.create_api'], missing: ['audit.*.read_logs'] },
  ],
  // A root key of another workspace lists its own (here: only its creation).
  otherWorkspaceStatus: 200,
})

describe('audit.listLogs isolation', () => {
  test('another workspace’s events are invisible, by any filter', async () => {
    const { h, workspaceId, apiId, keyId, rootKeyId } = await auditFixture()
    const other = await h.services.rootKeys.create({ workspace: 'other', name: 'intruder', permissions: ['*'] })
    await h.ok('apis.createApi', { name: 'theirs' }, other.key)
    const list = async (body: Record<string, unknown>) => {
      const res = await h.call('/v2/audit.listLogs', body, other.key)
      expect(res.status).toBe(200)
      for (const e of res.body.data) expect(e.workspaceId).toBe(other.workspaceId)
      return res.body.data
    }
    expect((await list({})).map((e: any) => e.event)).toEqual(['api.create', 'root_key.create', 'workspace.create'])
    for (const resourceId of [apiId, keyId, workspaceId, rootKeyId]) expect(await list({ resourceId })).toEqual([])
    expect(await list({ actorId: rootKeyId })).toEqual([])
    expect(await list({ events: ['key.create', 'identity.create', 'role.create'] })).toEqual([])
    await h.close()
  })
})

describe('the audit.*.read_logs grant', () => {
  test('is accepted on every resource only', () => {
    expect(RootKeyService.validatePermissions(['audit.*.read_logs'])).toEqual(['audit.*.read_logs'])
    expect(() => RootKeyService.validatePermissions(['audit.ws_123.read_logs'])).toThrow(
      new RootKeyInputError("invalid permission 'audit.ws_123.read_logs': 'read_logs' can only be granted on every resource ('audit.*.read_logs')"),
    )
    expect(() => RootKeyService.validatePermissions(['audit.*.write_logs'])).toThrow("unknown action 'write_logs' for resource type 'audit'")
    expect(() => RootKeyService.validatePermissions(['audits.*.read_logs'])).toThrow('expected one of api, ratelimit, rbac, identity, audit')
  })
})
