// Property test over every RPC route: whatever JSON body arrives, the answer
// is a well-formed envelope and never a 500. Bodies are random JSON values and
// random mutations of plausible bodies (right field names, wrong types/sizes).
import { afterAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Harness } from '../support/harness'

// A fixed seed keeps CI deterministic; FUZZ_SEED=<n> explores other inputs.
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261127) })

const h = new Harness()
const root = await h.rootKey('fuzz')
afterAll(() => h.close())

const routes = h.app.routes.filter((r) => r.method === 'POST' && r.path.startsWith('/v2/')).map((r) => r.path)

const FIELD_NAMES = [
  'apiId',
  'keyId',
  'key',
  'name',
  'prefix',
  'byteLength',
  'externalId',
  'meta',
  'roles',
  'permissions',
  'expires',
  'credits',
  'remaining',
  'refill',
  'interval',
  'amount',
  'refillDay',
  'ratelimits',
  'limit',
  'duration',
  'autoApply',
  'enabled',
  'recoverable',
  'decrypt',
  'permanent',
  'operation',
  'value',
  'expiration',
  'cursor',
  'search',
  'identity',
  'permission',
  'role',
  'roleId',
  'slug',
  'description',
  'namespace',
  'identifier',
  'cost',
  'tags',
  'migrationId',
  'hash',
  'keys',
  'rootKeyId',
  'gracePeriodMs',
  'expiresIn',
  'deleteProtection',
]

const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'api_00000000', 'key_00000000', '*', 'a'.repeat(600), '\u0000', '💥', 'daily', 'monthly', 'set', 'increment'),
  fc.integer(),
  fc.constantFrom(0, -1, 1.5, 1e300, -1e300, 2 ** 63, Number.MAX_SAFE_INTEGER, -0),
  fc.boolean(),
  fc.constant(null),
)
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELD_NAMES), tie('v'), { maxKeys: 5 }),
  ),
})).v
const plausibleBody = fc.dictionary(fc.constantFrom(...FIELD_NAMES), value, { maxKeys: 8 })
const anyBody = fc.oneof(plausibleBody, value)

/** A valid body per route, so that one mutated field reaches the handler's own logic. */
async function templates(): Promise<Record<string, Record<string, unknown>>> {
  const { apiId } = await h.ok('apis.createApi', { name: 'fuzz api' }, root)
  const { keyId, key } = await h.ok('keys.createKey', { apiId, credits: { remaining: 10 }, externalId: 'fuzz-user' }, root)
  await h.ok('permissions.createRole', { name: 'fuzz-role', permissions: ['fuzz.perm'] }, root)
  const limit = { namespace: 'fuzz-ns', identifier: 'user', limit: 10, duration: 60000 }
  await h.ok('ratelimit.limit', limit, root)
  await h.ok('ratelimit.setOverride', { namespace: 'fuzz-ns', identifier: 'u*', limit: 5, duration: 1000 }, root)
  const migrationId = (await h.services.keyMigrations.create(await h.workspaceId('fuzz'), 'sha256_hex')).id
  await h.ok('ratelimit.limit', { ...limit, namespace: 'fuzz-doomed' }, root)
  const target = await h.ok('rootKeys.createRootKey', { name: 'fuzz target', permissions: ['api.*.read_api'] }, root)
  return {
    '/v2/apis.createApi': { name: 'another api' },
    '/v2/apis.getApi': { apiId },
    '/v2/apis.listKeys': { apiId, limit: 5 },
    '/v2/apis.listApis': { limit: 5 },
    '/v2/apis.updateApi': { apiId, name: 'renamed api', deleteProtection: false },
    '/v2/keys.createKey': {
      apiId,
      prefix: 'sk',
      meta: { a: 1 },
      credits: { remaining: 5, refill: { interval: 'monthly', amount: 5, refillDay: 3 } },
      ratelimits: [{ name: 'rl1', limit: 1, duration: 1000 }],
    },
    '/v2/keys.verifyKey': { key, credits: { cost: 1 }, permissions: 'fuzz.perm', ratelimits: [{ name: 'inline', limit: 5, duration: 1000 }], tags: ['t'] },
    '/v2/keys.getKey': { keyId },
    '/v2/keys.whoami': { key },
    '/v2/keys.updateKey': { keyId, name: 'n', meta: null, credits: { remaining: 3 }, ratelimits: [], roles: ['fuzz-role'] },
    '/v2/keys.updateCredits': { keyId, operation: 'increment', value: 1 },
    '/v2/keys.rerollKey': { keyId, expiration: 60000 },
    '/v2/keys.migrateKeys': { migrationId, apiId, keys: [{ hash: 'abcdef0123' }] },
    '/v2/keys.addPermissions': { keyId, permissions: ['p1'] },
    '/v2/keys.removePermissions': { keyId, permissions: ['p1'] },
    '/v2/keys.setPermissions': { keyId, permissions: ['p2'] },
    '/v2/keys.addRoles': { keyId, roles: ['fuzz-role'] },
    '/v2/keys.removeRoles': { keyId, roles: ['fuzz-role'] },
    '/v2/keys.setRoles': { keyId, roles: ['fuzz-role'] },
    '/v2/identities.createIdentity': { externalId: 'new-user', meta: { x: 1 }, ratelimits: [{ name: 'rl1', limit: 1, duration: 1000 }] },
    '/v2/identities.getIdentity': { identity: 'fuzz-user' },
    '/v2/identities.listIdentities': { limit: 5 },
    '/v2/identities.updateIdentity': { identity: 'fuzz-user', meta: { y: 2 } },
    '/v2/permissions.createPermission': { name: 'n', slug: 'new.slug' },
    '/v2/permissions.getPermission': { permission: 'fuzz.perm' },
    '/v2/permissions.listPermissions': { limit: 5, search: 'fuzz' },
    '/v2/permissions.createRole': { name: 'other-role', permissions: ['a.b'] },
    '/v2/permissions.getRole': { role: 'fuzz-role' },
    '/v2/permissions.listRoles': { limit: 5 },
    '/v2/permissions.setRolePermissions': { roleId: 'fuzz-role', permissions: ['fuzz.perm'] },
    '/v2/ratelimit.limit': limit,
    // Sent as a one-element array (see below).
    '/v2/ratelimit.multiLimit': limit,
    '/v2/ratelimit.setOverride': { namespace: 'fuzz-ns', identifier: 'x*', limit: 1, duration: 1000 },
    '/v2/ratelimit.getOverride': { namespace: 'fuzz-ns', identifier: 'user' },
    '/v2/ratelimit.listOverrides': { namespace: 'fuzz-ns', limit: 5 },
    '/v2/ratelimit.listNamespaces': { limit: 5 },
    '/v2/ratelimit.deleteNamespace': { namespace: 'fuzz-doomed' },
    '/v2/rootKeys.whoami': {},
    '/v2/rootKeys.createRootKey': { name: 'fuzz key', permissions: ['api.*.read_api'], expiresIn: 60000 },
    '/v2/rootKeys.listRootKeys': { limit: 5 },
    '/v2/rootKeys.rotateRootKey': { rootKeyId: target.rootKeyId, gracePeriodMs: 60000 },
    '/v2/rootKeys.revokeRootKey': { rootKeyId: target.rootKeyId },
  }
}

/** Paths of null values outside `meta`, other than credits.remaining. */
function nullFields(value: unknown, path = ''): string[] {
  if (value === null) return path.endsWith('.remaining') ? [] : [path]
  if (typeof value !== 'object') return []
  return Object.entries(value as object).flatMap(([k, v]) => (k === 'meta' ? [] : nullFields(v, `${path}.${k}`)))
}

function expectWellFormed(res: { status: number; body: any }, sent: unknown) {
  expect(res.status, JSON.stringify(sent)).toBeOneOf([200, 400, 403, 404, 409, 410, 412])
  expect(res.body.meta.requestId).toMatch(/^req_/)
  if (res.status !== 200) {
    expect(res.body.error.status).toBe(res.status)
    expect(res.body.error.title).toBeString()
    if (res.status === 400) expect(res.body.error.errors).toBeArray()
  } else {
    // Optional fields are left out, never null (the SDK rejects null), except credits.remaining.
    // `meta` is the caller's own JSON and may hold anything.
    expect(nullFields(res.body)).toEqual([])
  }
}

// Built before any describe: a describe callback that awaits registers its tests late (Deno's runner refuses that).
const valid = await templates()

describe('a valid body with one field changed never makes a route fail with 500', () => {
  const mutated = (path: string) => {
    const template = valid[path]!
    const fields = Object.keys(template)
    return fc.tuple(fc.constantFrom(...fields, ...FIELD_NAMES), value).map(([field, v]) => ({ ...template, [field]: v }))
  }
  test.each(Object.keys(valid))('%s', async (path) => {
    await fc.assert(
      fc.asyncProperty(mutated(path), async (body) => {
        const sent = path.endsWith('multiLimit') ? [body] : body
        expectWellFormed(await h.call(path, sent, root), sent)
      }),
      { numRuns: 80 },
    )
    expect(h.errors).toEqual([])
  })
})

describe('no input makes a route fail with 500', () => {
  test.each(routes)('%s', async (path) => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        expectWellFormed(await h.call(path, body, root), body)
      }),
      { numRuns: 60 },
    )
    expect(h.errors).toEqual([])
  })
})
