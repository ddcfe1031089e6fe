// Root-key security of keys.* and apis.listKeys: the shared 401/403/other-
// workspace matrix for every route, plus the cases where a route must not
// reveal whether a key exists (verifyKey, whoami, unknown key ids), and the
// companion rbac.* permissions of keys.*Permissions / keys.*Roles.
import { describe, expect, test } from 'bun:test'
import { forbiddenBody, Harness, notFoundBody, REQUEST_ID, TEST_MASTER_KEY } from '../../support/harness'
import { issueKey, keyNotFound } from '../../support/keys'
import { describeSecurity } from '../../support/security'

const apiNotFound = notFoundBody('api', 'The requested API does not exist or has been deleted.')
const verifyNotFound = { meta: { requestId: REQUEST_ID }, data: { valid: false, code: 'NOT_FOUND' } }

/** An API with one key in workspace `ws`, created as `admin`. */
async function apiWithKey(h: Harness, admin: string, create: Record<string, unknown> = {}) {
  const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
  const { keyId, key } = await h.ok('keys.createKey', { apiId, ...create }, admin)
  return { apiId, keyId, key }
}

const both = (action: string) => [`api.*.${action}`, `api.{apiId}.${action}`]

// ---- apiId routes -----------------------------------------------------------

describeSecurity({
  rpc: 'keys.createKey',
  setup: async (h, admin) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    return { body: { apiId }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.create_key'], ['api.{apiId}.create_key']],
  denied: [
    { grants: ['api.*.read_key'], missing: both('create_key') },
    { grants: ['api.{apiId}.update_key'], missing: both('create_key') },
    { grants: ['api.api_other123.create_key'], missing: both('create_key') },
    { grants: ['api.*.create_api', 'ratelimit.*.limit'], missing: both('create_key') },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: apiNotFound,
})

describeSecurity({
  rpc: 'keys.migrateKeys',
  setup: async (h, admin) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    const { id: migrationId } = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    return { body: { migrationId, apiId, keys: [{ hash: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' }] }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.create_key'], ['api.{apiId}.create_key']],
  denied: [
    { grants: ['api.*.read_key'], missing: both('create_key') },
    { grants: ['api.{apiId}.update_key'], missing: both('create_key') },
    { grants: ['api.api_other123.create_key'], missing: both('create_key') },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: apiNotFound,
})

describeSecurity({
  rpc: 'apis.listKeys',
  setup: async (h, admin) => {
    const { apiId } = await apiWithKey(h, admin)
    return { body: { apiId }, vars: { apiId } }
  },
  allowed: [
    ['*'],
    ['api.*.read_key', 'api.*.read_api'],
    ['api.{apiId}.read_key', 'api.{apiId}.read_api'],
    ['api.*.read_key', 'api.{apiId}.read_api'],
    ['api.{apiId}.read_key', 'api.*.read_api'],
  ],
  denied: [
    { grants: ['api.*.read_key'], missing: both('read_api') },
    { grants: ['api.{apiId}.read_key'], missing: both('read_api') },
    { grants: ['api.*.read_api'], missing: both('read_key') },
    { grants: ['api.{apiId}.read_api'], missing: both('read_key') },
    { grants: ['api.*.read_key', 'api.api_other123.read_api'], missing: both('read_api') },
    { grants: ['api.api_other123.read_key', 'api.api_other123.read_api'], missing: both('read_key') },
    { grants: ['api.*.update_key', 'api.*.create_key'], missing: both('read_key') },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: apiNotFound,
})

// listKeys with decrypt also needs decrypt_key (the key is not recoverable, so
// nothing is decrypted; only the permission is checked).
describeSecurity({
  rpc: 'apis.listKeys',
  setup: async (h, admin) => {
    const { apiId } = await apiWithKey(h, admin)
    return { body: { apiId, decrypt: true }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.read_key', 'api.*.read_api', 'api.*.decrypt_key'], ['api.{apiId}.read_key', 'api.{apiId}.read_api', 'api.{apiId}.decrypt_key']],
  denied: [
    { grants: ['api.*.read_key', 'api.*.read_api'], missing: both('decrypt_key') },
    { grants: ['api.*.read_key', 'api.*.read_api', 'api.api_other123.decrypt_key'], missing: both('decrypt_key') },
    { grants: ['api.*.read_key', 'api.*.decrypt_key'], missing: both('read_api') },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: apiNotFound,
})

// ---- key routes -------------------------------------------------------------

describeSecurity({
  rpc: 'keys.verifyKey',
  setup: async (h, admin) => {
    const { apiId, key } = await apiWithKey(h, admin)
    return { body: { key }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.verify_key'], ['api.{apiId}.verify_key']],
  denied: [
    // No verify_key on any API: 403 naming the wildcard only.
    { grants: ['api.*.read_key'], missing: ['api.*.verify_key'] },
    { grants: ['api.{apiId}.read_key', 'api.{apiId}.update_key'], missing: ['api.*.verify_key'] },
  ],
  otherWorkspaceStatus: 200,
  otherWorkspaceBody: verifyNotFound,
})

describeSecurity({
  rpc: 'keys.whoami',
  setup: async (h, admin) => {
    const { apiId, key } = await apiWithKey(h, admin)
    return { body: { key }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.read_key'], ['api.{apiId}.read_key']],
  denied: [
    { grants: ['api.*.verify_key'], missing: ['api.*.read_key'] },
    { grants: ['api.{apiId}.update_key'], missing: ['api.*.read_key'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: keyNotFound,
})

/** The keyId routes: the action they need and a body for a key. */
const KEY_ROUTES = [
  { rpc: 'keys.getKey', action: 'read_key', wrong: 'update_key', body: (keyId: string) => ({ keyId }) },
  { rpc: 'keys.updateKey', action: 'update_key', wrong: 'read_key', body: (keyId: string) => ({ keyId, name: 'renamed' }) },
  { rpc: 'keys.deleteKey', action: 'delete_key', wrong: 'update_key', body: (keyId: string) => ({ keyId }) },
  {
    rpc: 'keys.updateCredits',
    action: 'update_key',
    wrong: 'read_key',
    body: (keyId: string) => ({ keyId, operation: 'set', value: 10 }),
  },
  { rpc: 'keys.rerollKey', action: 'create_key', wrong: 'update_key', body: (keyId: string) => ({ keyId, expiration: 0 }) },
] as const

for (const r of KEY_ROUTES) {
  describeSecurity({
    rpc: r.rpc,
    setup: async (h, admin) => {
      const { apiId, keyId } = await apiWithKey(h, admin)
      return { body: r.body(keyId), vars: { apiId } }
    },
    allowed: [['*'], [`api.*.${r.action}`], [`api.{apiId}.${r.action}`]],
    denied: [
      { grants: [`api.*.${r.wrong}`], missing: both(r.action) },
      { grants: [`api.{apiId}.${r.wrong}`], missing: both(r.action) },
      { grants: [`api.api_other123.${r.action}`], missing: both(r.action) },
      { grants: ['api.*.verify_key', 'api.*.read_api'], missing: both(r.action) },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: keyNotFound,
  })
}

// getKey with decrypt also needs decrypt_key.
describeSecurity({
  rpc: 'keys.getKey',
  setup: async (h, admin) => {
    const { apiId, keyId } = await apiWithKey(h, admin)
    return { body: { keyId, decrypt: true }, vars: { apiId } }
  },
  allowed: [['*'], ['api.*.read_key', 'api.*.decrypt_key'], ['api.{apiId}.read_key', 'api.{apiId}.decrypt_key'], ['api.*.read_key', 'api.{apiId}.decrypt_key']],
  denied: [
    { grants: ['api.*.read_key'], missing: both('decrypt_key') },
    { grants: ['api.{apiId}.read_key'], missing: both('decrypt_key') },
    { grants: ['api.*.read_key', 'api.api_other123.decrypt_key'], missing: both('decrypt_key') },
    { grants: ['api.*.decrypt_key'], missing: both('read_key') },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: keyNotFound,
})

// ---- explicit cases ---------------------------------------------------------

describe('keys.verifyKey: what the root key may verify', () => {
  test('each allowed grant really verifies the key (VALID, not just 200)', async () => {
    const h = new Harness()
    const { apiId, key, keyId } = await apiWithKey(h, await h.rootKey('ws'))
    for (const grants of [['*'], ['api.*.verify_key'], [`api.${apiId}.verify_key`]]) {
      const res = await h.call('/v2/keys.verifyKey', { key }, await h.rootKey('ws', grants))
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { valid: true, code: 'VALID', keyId, enabled: true } })
    }
    await h.close()
  })

  test('verify_key for another API only: 200 NOT_FOUND, the same answer as an unknown key', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { key } = await apiWithKey(h, admin)
    const { apiId: otherApi } = await h.ok('apis.createApi', { name: 'other' }, admin)
    const rootKey = await h.rootKey('ws', [`api.${otherApi}.verify_key`])

    const res = await h.call('/v2/keys.verifyKey', { key }, rootKey)
    expect(res.status).toBe(200)
    expect(res.body).toEqual(verifyNotFound)

    const unknown = await h.call('/v2/keys.verifyKey', { key: 'sk_doesnotexist1234567' }, rootKey)
    expect(unknown.status).toBe(200)
    expect(unknown.body).toEqual(verifyNotFound)
    await h.close()
  })

  test('verify_key for an API id that does not exist: also 200 NOT_FOUND', async () => {
    const h = new Harness()
    const { key } = await apiWithKey(h, await h.rootKey('ws'))
    const res = await h.call('/v2/keys.verifyKey', { key }, await h.rootKey('ws', ['api.api_other123.verify_key']))
    expect(res.status).toBe(200)
    expect(res.body).toEqual(verifyNotFound)
    await h.close()
  })

  test('no verify_key permission at all: 403 naming api.*.verify_key, whether or not the key exists', async () => {
    const h = new Harness()
    const { apiId, key } = await apiWithKey(h, await h.rootKey('ws'))
    const rootKey = await h.rootKey('ws', [`api.${apiId}.read_key`, 'api.*.create_key'])
    for (const k of [key, 'sk_doesnotexist1234567']) {
      const res = await h.call('/v2/keys.verifyKey', { key: k }, rootKey)
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody(['api.*.verify_key']))
    }
    await h.close()
  })

  test('a key of a deleted API is NOT_FOUND', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { apiId, key } = await apiWithKey(h, admin)
    await h.ok('apis.deleteApi', { apiId }, admin)
    const res = await h.call('/v2/keys.verifyKey', { key }, admin)
    expect(res.status).toBe(200)
    expect(res.body).toEqual(verifyNotFound)
    await h.close()
  })
})

describe('keys.whoami hides keys the root key may not read', () => {
  test('read_key for another API only: 404 identical to a missing key', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { key } = await apiWithKey(h, admin)
    const { apiId: otherApi } = await h.ok('apis.createApi', { name: 'other' }, admin)
    const rootKey = await h.rootKey('ws', [`api.${otherApi}.read_key`])

    const hidden = await h.call('/v2/keys.whoami', { key }, rootKey)
    const missing = await h.call('/v2/keys.whoami', { key: 'sk_doesnotexist1234567' }, rootKey)
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual(keyNotFound)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual(keyNotFound)
    expect(hidden.body.error).toEqual(missing.body.error)
    await h.close()
  })

  test('a key of another workspace is 404 identical to a missing key, even with *', async () => {
    const h = new Harness()
    const { key } = await apiWithKey(h, await h.rootKey('ws'))
    const res = await h.call('/v2/keys.whoami', { key }, await h.rootKey('other-ws'))
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
    await h.close()
  })
})

describe('keyId routes: the key’s real API decides', () => {
  for (const r of KEY_ROUTES) {
    test(`${r.rpc}: the action on another API only is a 403 naming both alternatives with the key’s apiId`, async () => {
      const h = new Harness()
      const admin = await h.rootKey('ws')
      const { apiId, keyId } = await apiWithKey(h, admin)
      const { apiId: otherApi } = await h.ok('apis.createApi', { name: 'other' }, admin)
      const before = await h.ok('keys.getKey', { keyId }, admin)
      const res = await h.call(`/v2/${r.rpc}`, r.body(keyId), await h.rootKey('ws', [`api.${otherApi}.${r.action}`]))
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody([`api.*.${r.action}`, `api.${apiId}.${r.action}`]))
      // Nothing changed, and no key was added by a reroll.
      expect(await h.ok('keys.getKey', { keyId }, admin)).toEqual(before)
      expect((await h.ok('apis.listKeys', { apiId }, admin)).length).toBe(1)
      await h.close()
    })

    test(`${r.rpc}: a key id that does not exist, with the action on some API, is a 404`, async () => {
      const h = new Harness()
      const admin = await h.rootKey('ws')
      const { apiId: otherApi } = await h.ok('apis.createApi', { name: 'other' }, admin)
      const res = await h.call(`/v2/${r.rpc}`, r.body('key_doesnotexist1'), await h.rootKey('ws', [`api.${otherApi}.${r.action}`]))
      expect(res.status).toBe(404)
      expect(res.body).toEqual(keyNotFound)
      await h.close()
    })

    test(`${r.rpc}: a key id that does not exist, without the action anywhere, is a 403`, async () => {
      const h = new Harness()
      const res = await h.call(`/v2/${r.rpc}`, r.body('key_doesnotexist1'), await h.rootKey('ws', [`api.*.${r.wrong}`]))
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody([`api.*.${r.action}`]))
      await h.close()
    })

    test(`${r.rpc}: a deleted key is a 404`, async () => {
      const h = new Harness()
      const admin = await h.rootKey('ws')
      const { keyId } = await apiWithKey(h, admin)
      await h.ok('keys.deleteKey', { keyId }, admin)
      const res = await h.call(`/v2/${r.rpc}`, r.body(keyId), admin)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(keyNotFound)
      await h.close()
    })
  }

  test('keys.getKey with decrypt: decrypt_key on another API only is a 403 naming the key’s apiId', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { apiId, keyId } = await apiWithKey(h, admin)
    const res = await h.call('/v2/keys.getKey', { keyId, decrypt: true }, await h.rootKey('ws', ['api.*.read_key', 'api.api_other123.decrypt_key']))
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['api.*.decrypt_key', `api.${apiId}.decrypt_key`]))
    await h.close()
  })
})

describe('recoverable keys need encrypt_key as well', () => {
  test('keys.createKey with recoverable: create_key alone is a 403 naming encrypt_key', async () => {
    const h = new Harness({ masterKey: { key: TEST_MASTER_KEY } })
    const admin = await h.rootKey('ws')
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    const denied = await h.call('/v2/keys.createKey', { apiId, recoverable: true }, await h.rootKey('ws', [`api.${apiId}.create_key`]))
    expect(denied.status).toBe(403)
    expect(denied.body).toEqual(forbiddenBody(['api.*.encrypt_key', `api.${apiId}.encrypt_key`]))
    const allowed = await h.call(
      '/v2/keys.createKey',
      { apiId, recoverable: true },
      await h.rootKey('ws', [`api.${apiId}.create_key`, `api.${apiId}.encrypt_key`]),
    )
    expect(allowed.status).toBe(200)
    await h.close()
  })

  test('keys.rerollKey of a recoverable key: create_key alone is a 403 naming encrypt_key', async () => {
    const h = new Harness({ masterKey: { key: TEST_MASTER_KEY } })
    const admin = await h.rootKey('ws')
    const { apiId, keyId } = await apiWithKey(h, admin, { recoverable: true })
    const denied = await h.call('/v2/keys.rerollKey', { keyId, expiration: 0 }, await h.rootKey('ws', ['api.*.create_key']))
    expect(denied.status).toBe(403)
    expect(denied.body).toEqual(forbiddenBody(['api.*.encrypt_key', `api.${apiId}.encrypt_key`]))
    const allowed = await h.call('/v2/keys.rerollKey', { keyId, expiration: 0 }, await h.rootKey('ws', ['api.*.create_key', 'api.*.encrypt_key']))
    expect(allowed.status).toBe(200)
    await h.close()
  })
})

describe('apiId routes: an unknown API', () => {
  test.each([
    ['keys.createKey', ['api.*.create_key'], (apiId: string) => ({ apiId })],
    ['apis.listKeys', ['api.*.read_key', 'api.*.read_api'], (apiId: string) => ({ apiId })],
  ] as const)('%s: 404 api_not_found with the wildcard grant', async (rpc, grants, body) => {
    const h = new Harness()
    const res = await h.call(`/v2/${rpc}`, body('api_doesnotexist1'), await h.rootKey('ws', [...grants]))
    expect(res.status).toBe(404)
    expect(res.body).toEqual(apiNotFound)
    await h.close()
  })

  test('keys.createKey: a grant for another API id is a 403 even when the target API does not exist', async () => {
    const h = new Harness()
    const res = await h.call('/v2/keys.createKey', { apiId: 'api_doesnotexist1' }, await h.rootKey('ws', ['api.api_other123.create_key']))
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['api.*.create_key', 'api.api_doesnotexist1.create_key']))
    await h.close()
  })

  test('keys.migrateKeys: an unknown API (with a valid migration) is a 404 api_not_found', async () => {
    const h = new Harness()
    const rootKey = await h.rootKey('ws', ['api.*.create_key'])
    const { id: migrationId } = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const res = await h.call('/v2/keys.migrateKeys', { migrationId, apiId: 'api_doesnotexist1', keys: [{ hash: 'abcdef' }] }, rootKey)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(apiNotFound)
    await h.close()
  })

  test('keys.migrateKeys: an unknown migration is a 404 migration_not_found', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, admin)
    const res = await h.call('/v2/keys.migrateKeys', { migrationId: 'mig_doesnotexist', apiId, keys: [{ hash: 'abcdef' }] }, admin)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('migration', 'The requested migration does not exist.'))
    await h.close()
  })
})

// ---- key access routes (keys.*Permissions / keys.*Roles) --------------------
// update_key on the key's API plus the companion rbac.* permission of each
// route, and rbac.*.create_permission when a slug is new.

const updateKey = both('update_key')

/** A key with permission `documents.read` defined in the workspace and role `editor`. */
async function keyWithRbac(h: Harness, admin: string, body: Record<string, unknown>) {
  await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, admin)
  await h.ok('permissions.createRole', { name: 'editor' }, admin)
  const k = await issueKey(h, 'ws')
  return { body: { keyId: k.keyId, ...body }, vars: { apiId: k.apiId } }
}

const ACCESS_ROUTES: { rpc: string; body: Record<string, unknown>; companions: string[] }[] = [
  { rpc: 'keys.addPermissions', body: { permissions: ['documents.read'] }, companions: ['rbac.*.add_permission_to_key'] },
  { rpc: 'keys.removePermissions', body: { permissions: ['documents.read'] }, companions: ['rbac.*.remove_permission_from_key'] },
  {
    rpc: 'keys.setPermissions',
    body: { permissions: ['documents.read'] },
    companions: ['rbac.*.add_permission_to_key', 'rbac.*.remove_permission_from_key'],
  },
  { rpc: 'keys.addRoles', body: { roles: ['editor'] }, companions: ['rbac.*.add_role_to_key'] },
  // As upstream: removing and replacing roles needs update_key only.
  { rpc: 'keys.removeRoles', body: { roles: ['editor'] }, companions: [] },
  { rpc: 'keys.setRoles', body: { roles: ['editor'] }, companions: [] },
]

for (const route of ACCESS_ROUTES) {
  const denied = [
    { grants: ['api.*.read_key', ...route.companions], missing: updateKey },
    { grants: ['api.api_someother1.update_key', ...route.companions], missing: updateKey },
    ...route.companions.map((missing) => ({
      grants: ['api.*.update_key', ...route.companions.filter((c) => c !== missing)],
      missing: [missing],
    })),
  ]
  describeSecurity({
    rpc: route.rpc,
    setup: (h, admin) => keyWithRbac(h, admin, route.body),
    allowed: [['*'], ['api.*.update_key', ...route.companions], ['api.{apiId}.update_key', ...route.companions]],
    denied,
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: keyNotFound,
  })
}

for (const rpc of ['keys.addPermissions', 'keys.setPermissions']) {
  const companions = rpc === 'keys.addPermissions' ? ['rbac.*.add_permission_to_key'] : ['rbac.*.add_permission_to_key', 'rbac.*.remove_permission_from_key']
  describeSecurity({
    rpc,
    // `documents.new` does not exist yet: creating it needs create_permission.
    setup: (h, admin) => keyWithRbac(h, admin, { permissions: ['documents.read', 'documents.new'] }),
    allowed: [['*'], ['api.*.update_key', ...companions, 'rbac.*.create_permission']],
    denied: [
      { grants: ['api.*.update_key', ...companions], missing: ['rbac.*.create_permission'] },
      { grants: ['api.{apiId}.update_key', ...companions, 'rbac.*.create_role'], missing: ['rbac.*.create_permission'] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: keyNotFound,
  })
}

describe('keys.*Permissions / keys.*Roles: order and atomicity', () => {
  test('without create_permission nothing is granted or created', async () => {
    const h = new Harness()
    await h.rootKey('ws')
    const k = await issueKey(h, 'ws')
    const key = await h.rootKey('ws', ['api.*.update_key', 'rbac.*.add_permission_to_key'])
    const res = await h.call('/v2/keys.addPermissions', { keyId: k.keyId, permissions: ['documents.new'] }, key)
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.create_permission']))
    expect(await h.query('SELECT (SELECT COUNT(*) FROM permissions) + (SELECT COUNT(*) FROM keys_permissions) AS n')).toEqual([{ n: 0 }])
    await h.close()
  })

  test('a missing companion permission is a 403 even for an unknown key (403 before 404)', async () => {
    const h = new Harness()
    const res = await h.call('/v2/keys.addRoles', { keyId: 'key_doesnotexist', roles: ['editor'] }, await h.rootKey('ws', ['api.*.update_key']))
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.add_role_to_key']))
    await h.close()
  })

  test('update_key on some API is enough to learn that an unknown key does not exist', async () => {
    const h = new Harness()
    const key = await h.rootKey('ws', ['api.api_someother1.update_key', 'rbac.*.add_role_to_key'])
    const res = await h.call('/v2/keys.addRoles', { keyId: 'key_doesnotexist', roles: ['editor'] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
    await h.close()
  })
})
