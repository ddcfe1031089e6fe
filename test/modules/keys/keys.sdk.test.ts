// keys.*, the key-access routes (keys.*Permissions / keys.*Roles) and
// apis.listKeys through the official SDK (@unkey/api 2.5.1) against a real
// listening latch: every success must parse (no ResponseValidationError) and
// every error status must arrive as its typed error class.
import { beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import type { Unkey } from '@unkey/api'
import { BadRequestErrorResponse, ForbiddenErrorResponse, NotFoundErrorResponse, UnauthorizedErrorResponse } from '@unkey/api/models/errors'
import { type Harness, PERMISSION_ID, REQUEST_ID, ROLE_ID } from '../../support/harness'
import { issueKey, verifiedAccess } from '../../support/keys'
import { allPages, failure, parsed, type SdkFixture, withSdk } from '../../support/sdk'

const DOCS = 'https://unkey.com/docs/errors/'

let h: Harness
let unkey: Unkey
let client: SdkFixture['client']
let wsId: string
let now: number
withSdk((f) => {
  ;({ h, unkey, client, workspaceId: wsId } = f)
  now = f.h.clock.now()
})

async function newApi(name = 'payments'): Promise<string> {
  return (await parsed(unkey.apis.createApi({ name }))).data.apiId
}

const sha256Base64 = (s: string) => createHash('sha256').update(s).digest('base64')

describe('apis.listKeys', () => {
  test('listKeys pages with limit 2 over 5 keys: the iterator ends and yields every key once', async () => {
    const apiId = await newApi('paged')
    const created: string[] = []
    for (let i = 0; i < 5; i++) created.push((await parsed(unkey.keys.createKey({ apiId, name: `key ${i}` }))).data.keyId)

    const first = await parsed(unkey.apis.listKeys({ apiId, limit: 2 }))
    const seen: string[] = []
    const pages = (await allPages(first)).map((page) => {
      for (const k of page.result.data) {
        expect(k).toEqual({ keyId: k.keyId, start: expect.any(String), enabled: true, name: expect.stringMatching(/^key \d$/), createdAt: now })
        seen.push(k.keyId)
      }
      return { count: page.result.data.length, hasMore: page.result.pagination!.hasMore, cursor: page.result.pagination!.cursor }
    })
    expect(pages.map((p) => [p.count, p.hasMore])).toEqual([
      [2, true],
      [2, true],
      [1, false],
    ])
    expect(pages[2]!.cursor).toBeUndefined()
    expect(seen.length).toBe(5)
    expect(new Set(seen).size).toBe(5)
    expect([...seen].sort()).toEqual([...created].sort())
  })

  test('listKeys filters by externalId; an unknown externalId is an empty page', async () => {
    const apiId = await newApi('by-owner')
    const { keyId } = (await parsed(unkey.keys.createKey({ apiId, externalId: 'owner_1' }))).data
    await parsed(unkey.keys.createKey({ apiId }))
    const mine = await parsed(unkey.apis.listKeys({ apiId, externalId: 'owner_1' }))
    expect(mine.result.data.map((k) => k.keyId)).toEqual([keyId])
    expect(mine.result.data[0]!.identity).toEqual({ id: expect.stringMatching(/^id_/), externalId: 'owner_1' })
    const none = await parsed(unkey.apis.listKeys({ apiId, externalId: 'nobody' }))
    expect(none.result).toEqual({ meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } })
  })

  test('listKeys of an unknown API is a NotFoundErrorResponse', async () => {
    const err = await failure(unkey.apis.listKeys({ apiId: 'api_doesnotexist1' }))
    expect(err).toBeInstanceOf(NotFoundErrorResponse)
    expect((err as NotFoundErrorResponse).error.type).toBe(`${DOCS}unkey/data/api_not_found`)
  })
})

describe('keys.createKey, getKey, whoami, verifyKey', () => {
  let apiId: string
  beforeAll(async () => {
    apiId = await newApi('keys')
  })

  test('createKey with every optional field; getKey and whoami return all of it', async () => {
    const expires = now + 86_400_000
    const res = await parsed(
      unkey.keys.createKey({
        apiId,
        prefix: 'sdk',
        name: 'full key',
        byteLength: 32,
        externalId: 'user_123',
        meta: { plan: 'pro', seats: 3 },
        permissions: ['docs.read', 'docs.write'],
        expires,
        credits: { remaining: 100, refill: { interval: 'monthly', amount: 100, refillDay: 1 } },
        ratelimits: [{ name: 'requests', limit: 10, duration: 60_000, autoApply: true }],
        enabled: true,
      }),
    )
    expect(res).toEqual({
      meta: { requestId: REQUEST_ID },
      data: { keyId: expect.stringMatching(/^key_/), key: expect.stringMatching(/^sdk_[1-9A-HJ-NP-Za-km-z]+$/) },
    })
    const { keyId, key } = res.data
    // 32 random bytes in base58 are 43 or 44 characters.
    expect(key.length - 'sdk_'.length).toBeGreaterThanOrEqual(43)

    const expected = {
      keyId,
      start: key.slice(0, 'sdk_'.length + 4),
      enabled: true,
      name: 'full key',
      meta: { plan: 'pro', seats: 3 },
      createdAt: now,
      expires,
      permissions: ['docs.read', 'docs.write'],
      credits: { remaining: 100, refill: { interval: 'monthly' as const, amount: 100, refillDay: 1 } },
      identity: { id: expect.stringMatching(/^id_/), externalId: 'user_123' },
      ratelimits: [{ id: expect.stringMatching(/^rl_/), name: 'requests', limit: 10, duration: 60_000, autoApply: true }],
    }
    const got = await parsed(unkey.keys.getKey({ keyId }))
    expect(got).toEqual({ meta: { requestId: REQUEST_ID }, data: expected })
    expect(await parsed(unkey.keys.whoami({ key }))).toEqual({ meta: { requestId: REQUEST_ID }, data: expected })
    // decrypt on a key that is not recoverable: no plaintext, still parses.
    expect((await parsed(unkey.keys.getKey({ keyId, decrypt: true }))).data).toEqual(expected)

    const verified = await parsed(unkey.keys.verifyKey({ key }))
    // The auto-applied ratelimit's result is checked in its own test below.
    const { ratelimits: _checked, ...rest } = verified.data
    expect({ meta: verified.meta, data: rest }).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        valid: true,
        code: 'VALID',
        keyId,
        name: 'full key',
        meta: { plan: 'pro', seats: 3 },
        expires,
        credits: 99,
        enabled: true,
        permissions: ['docs.read', 'docs.write'],
        identity: { id: got.data.identity!.id, externalId: 'user_123' },
      },
    })
  })

  test('verifyKey reports the auto-applied ratelimit of the key', async () => {
    const { keyId, key } = (await parsed(unkey.keys.createKey({ apiId, ratelimits: [{ name: 'requests', limit: 10, duration: 60_000, autoApply: true }] })))
      .data
    const rl = (await parsed(unkey.keys.getKey({ keyId }))).data.ratelimits![0]!
    expect((await parsed(unkey.keys.verifyKey({ key }))).data).toEqual({
      valid: true,
      code: 'VALID',
      keyId,
      enabled: true,
      ratelimits: [{ exceeded: false, id: rl.id, name: 'requests', limit: 10, duration: 60_000, reset: expect.any(Number), remaining: 9, autoApply: true }],
    })
  })

  test('a minimal key: optional fields are absent, not null', async () => {
    const { keyId, key } = (await parsed(unkey.keys.createKey({ apiId }))).data
    expect(key).toMatch(/^[1-9A-HJ-NP-Za-km-z]{20,}$/)
    expect((await parsed(unkey.keys.getKey({ keyId }))).data).toEqual({ keyId, start: key.slice(0, 4), enabled: true, createdAt: now })
    expect((await parsed(unkey.keys.verifyKey({ key }))).data).toEqual({ valid: true, code: 'VALID', keyId, enabled: true })
  })

  test('verifyKey: NOT_FOUND, DISABLED, EXPIRED and USAGE_EXCEEDED', async () => {
    expect((await parsed(unkey.keys.verifyKey({ key: 'sdk_doesnotexist123456' }))).data).toEqual({ valid: false, code: 'NOT_FOUND' })

    const disabled = (await parsed(unkey.keys.createKey({ apiId, enabled: false }))).data
    expect((await parsed(unkey.keys.verifyKey({ key: disabled.key }))).data).toEqual({
      valid: false,
      code: 'DISABLED',
      keyId: disabled.keyId,
      enabled: false,
    })

    const expired = (await parsed(unkey.keys.createKey({ apiId, expires: now - 1000 }))).data
    expect((await parsed(unkey.keys.verifyKey({ key: expired.key }))).data).toEqual({
      valid: false,
      code: 'EXPIRED',
      keyId: expired.keyId,
      expires: now - 1000,
      enabled: true,
    })

    const metered = (await parsed(unkey.keys.createKey({ apiId, credits: { remaining: 2 } }))).data
    expect((await parsed(unkey.keys.verifyKey({ key: metered.key, credits: { cost: 2 } }))).data).toEqual({
      valid: true,
      code: 'VALID',
      keyId: metered.keyId,
      credits: 0,
      enabled: true,
    })
    expect((await parsed(unkey.keys.verifyKey({ key: metered.key }))).data).toEqual({
      valid: false,
      code: 'USAGE_EXCEEDED',
      keyId: metered.keyId,
      credits: 0,
      enabled: true,
    })
    // getKey sees the spent credits.
    expect((await parsed(unkey.keys.getKey({ keyId: metered.keyId }))).data.credits).toEqual({ remaining: 0 })
  })

  test('verifyKey with a permission query', async () => {
    const { key } = (await parsed(unkey.keys.createKey({ apiId, permissions: ['docs.read'] }))).data
    expect((await parsed(unkey.keys.verifyKey({ key, permissions: 'docs.read' }))).data.code).toBe('VALID')
    expect((await parsed(unkey.keys.verifyKey({ key, permissions: 'docs.read AND docs.write' }))).data.code).toBe('INSUFFICIENT_PERMISSIONS')
  })
})

describe('keys.updateKey, updateCredits, rerollKey, deleteKey', () => {
  let apiId: string
  beforeAll(async () => {
    apiId = await newApi('updates')
  })

  const fullKey = async () =>
    (
      await parsed(
        unkey.keys.createKey({
          apiId,
          prefix: 'upd',
          name: 'to clear',
          externalId: 'owner_upd',
          meta: { a: 1 },
          permissions: ['p.one'],
          expires: now + 60_000,
          credits: { remaining: 5, refill: { interval: 'daily', amount: 5 } },
          ratelimits: [{ name: 'burst', limit: 5, duration: 1000, autoApply: false }],
        }),
      )
    ).data

  test('updateKey with values, then with nulls: getKey parses and the cleared fields are absent', async () => {
    const { keyId, key } = await fullKey()
    expect(await parsed(unkey.keys.updateKey({ keyId, name: 'renamed', meta: { b: 2 }, enabled: false }))).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {},
    })
    const updated = (await parsed(unkey.keys.getKey({ keyId }))).data
    expect(updated).toMatchObject({ name: 'renamed', meta: { b: 2 }, enabled: false, updatedAt: now })

    expect(
      await parsed(
        unkey.keys.updateKey({
          keyId,
          name: null,
          externalId: null,
          meta: null,
          expires: null,
          credits: null,
          ratelimits: [],
          permissions: [],
          enabled: true,
        }),
      ),
    ).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect(await parsed(unkey.keys.getKey({ keyId }))).toEqual({
      meta: { requestId: REQUEST_ID },
      data: { keyId, start: key.slice(0, 8), enabled: true, createdAt: now, updatedAt: now },
    })
    expect((await parsed(unkey.keys.verifyKey({ key }))).data).toEqual({ valid: true, code: 'VALID', keyId, enabled: true })
  })

  test('updateKey: credits.refill null clears only the refill', async () => {
    const { keyId } = await fullKey()
    await parsed(unkey.keys.updateKey({ keyId, credits: { refill: null } }))
    expect((await parsed(unkey.keys.getKey({ keyId }))).data.credits).toEqual({ remaining: 5 })
  })

  test('updateCredits: set, increment, decrement (floors at 0), set null → remaining null', async () => {
    const { keyId, key } = (await parsed(unkey.keys.createKey({ apiId, credits: { remaining: 10 } }))).data
    const op = (operation: 'set' | 'increment' | 'decrement', value: number | null) => parsed(unkey.keys.updateCredits({ keyId, operation, value }))
    expect(await op('set', 50)).toEqual({ meta: { requestId: REQUEST_ID }, data: { remaining: 50 } })
    expect((await op('increment', 5)).data).toEqual({ remaining: 55 })
    expect((await op('decrement', 15)).data).toEqual({ remaining: 40 })
    expect((await parsed(unkey.keys.verifyKey({ key }))).data.credits).toBe(39)
    expect((await op('decrement', 100)).data).toEqual({ remaining: 0 })
    expect((await parsed(unkey.keys.verifyKey({ key }))).data.code).toBe('USAGE_EXCEEDED')
    expect((await op('set', null)).data).toEqual({ remaining: null })
    // Unlimited now: getKey has no credits, verify no credits field.
    expect((await parsed(unkey.keys.getKey({ keyId }))).data).not.toHaveProperty('credits')
    expect((await parsed(unkey.keys.verifyKey({ key }))).data).toEqual({ valid: true, code: 'VALID', keyId, enabled: true })

    const err = await failure(unkey.keys.updateCredits({ keyId, operation: 'increment', value: 1 }))
    expect(err).toBeInstanceOf(BadRequestErrorResponse)
    expect((err as BadRequestErrorResponse).error).toEqual({
      title: 'Bad Request',
      detail: 'You cannot increment or decrement a key with unlimited credits.',
      status: 400,
      type: `${DOCS}unkey/application/invalid_input`,
      errors: [{ location: 'body.operation', message: 'the key has unlimited credits', fix: "Use operation 'set' to give it a balance." }],
    })
  })

  test('updateCredits keeps and returns the refill', async () => {
    const { keyId } = await fullKey()
    expect((await parsed(unkey.keys.updateCredits({ keyId, operation: 'increment', value: 1 }))).data).toEqual({
      remaining: 6,
      refill: { interval: 'daily', amount: 5 },
    })
  })

  test('rerollKey: the new key copies the settings; expiration 0 expires the old one now', async () => {
    const old = await fullKey()
    const res = await parsed(unkey.keys.rerollKey({ keyId: old.keyId, expiration: 0 }))
    expect(res).toEqual({ meta: { requestId: REQUEST_ID }, data: { keyId: expect.stringMatching(/^key_/), key: expect.stringMatching(/^upd_/) } })
    expect(res.data.keyId).not.toBe(old.keyId)

    expect((await parsed(unkey.keys.verifyKey({ key: old.key }))).data.code).toBe('EXPIRED')
    const fresh = await parsed(unkey.keys.verifyKey({ key: res.data.key }))
    expect(fresh.data).toMatchObject({ valid: true, code: 'VALID', keyId: res.data.keyId, name: 'to clear', meta: { a: 1 }, permissions: ['p.one'] })

    const copy = (await parsed(unkey.keys.getKey({ keyId: res.data.keyId }))).data
    expect(copy).toMatchObject({
      name: 'to clear',
      meta: { a: 1 },
      expires: now + 60_000,
      permissions: ['p.one'],
      identity: { externalId: 'owner_upd' },
      ratelimits: [{ name: 'burst', limit: 5, duration: 1000, autoApply: false }],
    })
  })

  test('rerollKey with an expiration keeps the old key valid until then, rounded up to the next full minute', async () => {
    const { keyId, key } = (await parsed(unkey.keys.createKey({ apiId }))).data
    await parsed(unkey.keys.rerollKey({ keyId, expiration: 90_000 }))
    expect((await parsed(unkey.keys.verifyKey({ key }))).data.code).toBe('VALID')
    // The test clock stands on a full minute: now + 90 s rounds up to now + 2 min (as upstream).
    expect((await parsed(unkey.keys.getKey({ keyId }))).data.expires).toBe(now + 120_000)
  })

  test('deleteKey: the key stops verifying and is gone; permanent delete works too', async () => {
    const { keyId, key } = (await parsed(unkey.keys.createKey({ apiId }))).data
    expect(await parsed(unkey.keys.deleteKey({ keyId }))).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await parsed(unkey.keys.verifyKey({ key }))).data).toEqual({ valid: false, code: 'NOT_FOUND' })
    expect(await failure(unkey.keys.getKey({ keyId }))).toBeInstanceOf(NotFoundErrorResponse)
    expect(await failure(unkey.keys.deleteKey({ keyId }))).toBeInstanceOf(NotFoundErrorResponse)

    const other = (await parsed(unkey.keys.createKey({ apiId }))).data
    expect((await parsed(unkey.keys.deleteKey({ keyId: other.keyId, permanent: true }))).data).toEqual({})
    expect((await parsed(unkey.keys.verifyKey({ key: other.key }))).data.code).toBe('NOT_FOUND')
  })
})

describe('keys.migrateKeys', () => {
  test('imports keys by hash; they verify; a known hash is reported as failed', async () => {
    const apiId = await newApi('migrated')
    const migrationId = (await h.services.keyMigrations.create(wsId, 'sha256_base64')).id
    const plaintext = 'legacy_9f8e7d6c5b4a3f2e1d0c'
    const hash = sha256Base64(plaintext)
    const res = await parsed(
      unkey.keys.migrateKeys({
        migrationId,
        apiId,
        keys: [{ hash, name: 'imported', meta: { from: 'legacy' }, credits: { remaining: 3 }, permissions: ['legacy.read'], enabled: true }],
      }),
    )
    expect(res).toEqual({ meta: { requestId: REQUEST_ID }, data: { migrated: [{ hash, keyId: expect.stringMatching(/^key_/) }], failed: [] } })
    const keyId = res.data.migrated[0]!.keyId

    expect((await parsed(unkey.keys.verifyKey({ key: plaintext }))).data).toEqual({
      valid: true,
      code: 'VALID',
      keyId,
      name: 'imported',
      meta: { from: 'legacy' },
      credits: 2,
      enabled: true,
      permissions: ['legacy.read'],
    })
    expect((await parsed(unkey.keys.getKey({ keyId }))).data).toMatchObject({ keyId, start: 'legacy_9f8e', name: 'imported' })

    const again = await parsed(unkey.keys.migrateKeys({ migrationId, apiId, keys: [{ hash }, { hash: sha256Base64('another') }] }))
    expect(again.data.failed).toEqual([hash])
    expect(again.data.migrated).toEqual([{ hash: sha256Base64('another'), keyId: expect.stringMatching(/^key_/) }])
  })
})

describe('keys.*Permissions and keys.*Roles', () => {
  test('add/remove/setPermissions and add/remove/setRoles parse; verification sees each change', async () => {
    await parsed(unkey.permissions.createRole({ name: 'sdk-key-role', permissions: ['sdk.key.via-role'] }))
    const k = await issueKey(h)

    const added = await parsed(unkey.keys.addPermissions({ keyId: k.keyId, permissions: ['sdk.key.a', 'sdk.key.b'] }))
    expect(added.data).toEqual([
      { id: PERMISSION_ID, name: 'sdk.key.a', slug: 'sdk.key.a' },
      { id: PERMISSION_ID, name: 'sdk.key.b', slug: 'sdk.key.b' },
    ])
    const removed = await parsed(unkey.keys.removePermissions({ keyId: k.keyId, permissions: ['sdk.key.a'] }))
    expect(removed.data.map((p) => p.slug)).toEqual(['sdk.key.b'])
    const set = await parsed(unkey.keys.setPermissions({ keyId: k.keyId, permissions: ['sdk.key.c'] }))
    expect(set.data.map((p) => p.slug)).toEqual(['sdk.key.c'])

    const roles = await parsed(unkey.keys.addRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))
    expect(roles.data).toEqual([
      { id: ROLE_ID, name: 'sdk-key-role', permissions: [{ id: PERMISSION_ID, name: 'sdk.key.via-role', slug: 'sdk.key.via-role' }] },
    ])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['sdk.key.c', 'sdk.key.via-role'], roles: ['sdk-key-role'] })

    expect((await parsed(unkey.keys.removeRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))).data).toEqual([])
    expect((await parsed(unkey.keys.setRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))).data.map((r) => r.name)).toEqual(['sdk-key-role'])
    expect((await parsed(unkey.keys.setRoles({ keyId: k.keyId, roles: [] }))).data).toEqual([])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['sdk.key.c'], roles: [] })
  })

  test('unknown keys, roles and permissions are NotFoundErrorResponse', async () => {
    const k = await issueKey(h)
    const unknownKey = await failure(unkey.keys.addPermissions({ keyId: 'key_doesnotexist', permissions: ['a'] }))
    expect(unknownKey).toBeInstanceOf(NotFoundErrorResponse)
    const unknownRole = await failure(unkey.keys.addRoles({ keyId: k.keyId, roles: ['sdk-ghost'] }))
    expect(unknownRole).toBeInstanceOf(NotFoundErrorResponse)
    expect((unknownRole as NotFoundErrorResponse).error.detail).toBe("Role 'sdk-ghost' was not found.")
    const unknownPermission = await failure(unkey.keys.removePermissions({ keyId: k.keyId, permissions: ['sdk.ghost'] }))
    expect(unknownPermission).toBeInstanceOf(NotFoundErrorResponse)
  })

  test('an empty roles list is a BadRequestErrorResponse', async () => {
    const emptyList = await failure(unkey.keys.addRoles({ keyId: 'key_whatever', roles: [] }))
    expect(emptyList).toBeInstanceOf(BadRequestErrorResponse)
  })

  test('a missing rbac permission is a ForbiddenErrorResponse naming it', async () => {
    const k = await issueKey(h)
    const limited = client(await h.rootKey('acme', ['api.*.update_key']))
    const error = await failure(limited.keys.addPermissions({ keyId: k.keyId, permissions: ['sdk.x'] }))
    expect(error).toBeInstanceOf(ForbiddenErrorResponse)
    expect((error as ForbiddenErrorResponse).error.detail).toBe("Your key does not have the required 'rbac.*.add_permission_to_key' permission")
  })
})

describe('error statuses map to the SDK’s typed errors', () => {
  let apiId: string
  let keyId: string
  beforeAll(async () => {
    apiId = await newApi('errors')
    keyId = (await parsed(unkey.keys.createKey({ apiId }))).data.keyId
  })

  test('400 → BadRequestErrorResponse (lengths and ranges are only checked by the server)', async () => {
    for (const call of [
      () => unkey.keys.createKey({ apiId, name: '' }),
      () => unkey.keys.createKey({ apiId, byteLength: 8 }),
      () => unkey.keys.updateKey({ keyId, name: '' }),
      () => unkey.keys.rerollKey({ keyId, expiration: -1 }),
      () => unkey.keys.updateCredits({ keyId, operation: 'decrement' }),
      () => unkey.keys.verifyKey({ key: '' }),
      () => unkey.apis.listKeys({ apiId, limit: 0 }),
    ]) {
      const err = await failure(call())
      expect(err).toBeInstanceOf(BadRequestErrorResponse)
      expect(err.statusCode).toBe(400)
      const body = (err as BadRequestErrorResponse).data$
      expect(body.meta.requestId).toEqual(REQUEST_ID)
      expect(body.error).toMatchObject({ title: 'Bad Request', status: 400, type: `${DOCS}unkey/application/invalid_input` })
      expect(body.error.errors.length).toBeGreaterThan(0)
    }
  })

  test('401 → UnauthorizedErrorResponse for a wrong root key', async () => {
    const wrong = client('unkey_thisisnotarealrootkey1234')
    for (const call of [() => wrong.keys.createKey({ apiId }), () => wrong.keys.verifyKey({ key: 'abc' }), () => wrong.apis.listKeys({ apiId })]) {
      const err = await failure(call())
      expect(err).toBeInstanceOf(UnauthorizedErrorResponse)
      expect(err.statusCode).toBe(401)
      expect({ meta: (err as UnauthorizedErrorResponse).meta, error: (err as UnauthorizedErrorResponse).error }).toEqual({
        meta: { requestId: REQUEST_ID },
        error: {
          title: 'Unauthorized',
          detail: 'The provided root key is invalid or has been revoked',
          status: 401,
          type: `${DOCS}unauthorized`,
        },
      })
    }
  })

  test('403 → ForbiddenErrorResponse for a missing permission', async () => {
    const limited = client(await h.rootKey('acme', ['api.*.read_api']))
    const cases: [() => Promise<unknown>, string][] = [
      [() => limited.keys.createKey({ apiId }), `'api.*.create_key' or 'api.${apiId}.create_key'`],
      [() => limited.keys.getKey({ keyId }), `'api.*.read_key' or 'api.${apiId}.read_key'`],
      [() => limited.keys.updateKey({ keyId, name: 'x' }), `'api.*.update_key' or 'api.${apiId}.update_key'`],
      [() => limited.keys.deleteKey({ keyId }), `'api.*.delete_key' or 'api.${apiId}.delete_key'`],
      [() => limited.keys.verifyKey({ key: 'abc' }), `'api.*.verify_key'`],
      [() => limited.apis.listKeys({ apiId }), `'api.*.read_key' or 'api.${apiId}.read_key'`],
    ]
    for (const [call, permissions] of cases) {
      const err = await failure(call())
      expect(err).toBeInstanceOf(ForbiddenErrorResponse)
      expect(err.statusCode).toBe(403)
      expect((err as ForbiddenErrorResponse).error).toEqual({
        title: 'Forbidden',
        detail: `Your key does not have the required ${permissions} permission`,
        status: 403,
        type: `${DOCS}forbidden`,
      })
    }
  })

  test('404 → NotFoundErrorResponse for an unknown key, API or migration', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => unkey.keys.getKey({ keyId: 'key_doesnotexist1' }), 'key'],
      [() => unkey.keys.updateKey({ keyId: 'key_doesnotexist1', name: 'x' }), 'key'],
      [() => unkey.keys.deleteKey({ keyId: 'key_doesnotexist1' }), 'key'],
      [() => unkey.keys.updateCredits({ keyId: 'key_doesnotexist1', operation: 'set', value: 1 }), 'key'],
      [() => unkey.keys.rerollKey({ keyId: 'key_doesnotexist1', expiration: 0 }), 'key'],
      [() => unkey.keys.whoami({ key: 'sdk_doesnotexist123456' }), 'key'],
      [() => unkey.keys.createKey({ apiId: 'api_doesnotexist1' }), 'api'],
      [() => unkey.keys.migrateKeys({ migrationId: 'mig_doesnotexist', apiId, keys: [{ hash: 'abcdef' }] }), 'migration'],
    ]
    for (const [call, kind] of cases) {
      const err = await failure(call())
      expect(err).toBeInstanceOf(NotFoundErrorResponse)
      expect(err.statusCode).toBe(404)
      expect((err as NotFoundErrorResponse).error).toMatchObject({ title: 'Not Found', status: 404, type: `${DOCS}unkey/data/${kind}_not_found` })
    }
  })
})
