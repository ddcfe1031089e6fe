// What a client stores comes back exactly as it sent it: names, descriptions
// and meta of any Unicode text (all planes; NUL characters and lone
// surrogates are refused with a 400, see nul-characters.test.ts) and any JSON
// shape, through every read path: the stored row (getKey, getIdentity,
// getPermission, getRole, getApi) and the verification cache, with the key
// held as an object and packed into one string. Runs on SQLite, on PostgreSQL
// (npm run test:postgres includes this file) and under Deno, whose
// node:sqlite once cut strings at a NUL.
import { afterAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Harness } from '../support/harness'

/** Text of `min` to `max` code points from anywhere in Unicode, without NUL. */
const text = (min: number, max: number) =>
  fc
    .string({ unit: 'binary', minLength: min, maxLength: max })
    .map((s) => s.replaceAll('\u0000', '\u0001'))
    .filter((s) => s.length >= min)

/**
 * A meta object as the wire carries it: built from arbitrary JSON, then sent
 * and compared as the JSON text's value (-0 is 0 on the wire), without NULs or
 * `__proto__` keys (both refused).
 */
const meta = fc
  .dictionary(text(0, 12), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), { maxKeys: 8 })
  .map((value) => JSON.parse(JSON.stringify(value).replaceAll('\\u0000', '\\u0001'), (k, v) => (k === '__proto__' ? undefined : v)) as Record<string, unknown>)

const RUNS = 100

describe('stored text and meta come back exactly', () => {
  // keyCacheObjectEntries 0: every key that can be is held packed, so a verification reads it back through the packed record.
  const packed = new Harness({ tunables: { keyCacheObjectEntries: 0 } })
  const objects = new Harness()
  afterAll(async () => {
    await packed.close()
    await objects.close()
  })

  const setup = async (h: Harness) => {
    const root = await h.rootKey('ws')
    const { apiId } = await h.ok('apis.createApi', { name: 'round trip' }, root)
    return { root, apiId }
  }

  for (const [name, h] of [
    ['held as objects', objects],
    ['held packed', packed],
  ] as const) {
    test(`a key's name and meta, from its row and from a verification (${name})`, async () => {
      const { root, apiId } = await setup(h)
      await fc.assert(
        fc.asyncProperty(text(1, 60), meta, async (keyName, keyMeta) => {
          const { keyId, key } = await h.ok('keys.createKey', { apiId, name: keyName, meta: keyMeta }, root)
          const stored = await h.ok('keys.getKey', { keyId }, root)
          expect({ name: stored.name, meta: stored.meta ?? {} }).toEqual({ name: keyName, meta: keyMeta })
          // Twice: the first verification may load the key, the second reads the cache.
          for (let i = 0; i < 2; i++) {
            const verified = await h.ok('keys.verifyKey', { key }, root)
            expect({ valid: verified.valid, name: verified.name, meta: verified.meta ?? {} }).toEqual({ valid: true, name: keyName, meta: keyMeta })
          }
        }),
        { numRuns: RUNS },
      )
      expect(h.errors).toEqual([])
    })
  }

  test("an API's name, an identity's meta, a permission's and a role's name and description", async () => {
    const h = objects
    const root = await h.rootKey('other')
    let n = 0
    await fc.assert(
      fc.asyncProperty(text(3, 60), meta, text(1, 60), text(0, 120), async (apiName, identityMeta, label, description) => {
        n++
        const { apiId } = await h.ok('apis.createApi', { name: apiName }, root)
        expect((await h.ok('apis.getApi', { apiId }, root)).name).toBe(apiName)

        const externalId = `user_${n}`
        await h.ok('identities.createIdentity', { externalId, meta: identityMeta }, root)
        expect((await h.ok('identities.getIdentity', { identity: externalId }, root)).meta ?? {}).toEqual(identityMeta)

        const { permissionId } = await h.ok('permissions.createPermission', { name: label, slug: `p.${n}`, description }, root)
        const permission = await h.ok('permissions.getPermission', { permission: permissionId }, root)
        expect({ name: permission.name, description: permission.description ?? '' }).toEqual({ name: label, description })

        // Role names are unique in a workspace: the run's number keeps them apart.
        const roleName = `${label}#${n}`
        const { roleId } = await h.ok('permissions.createRole', { name: roleName, description }, root)
        const role = await h.ok('permissions.getRole', { role: roleId }, root)
        expect({ name: role.name, description: role.description ?? '' }).toEqual({ name: roleName, description })
      }),
      { numRuns: RUNS },
    )
    expect(h.errors).toEqual([])
  })
})
