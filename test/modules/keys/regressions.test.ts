// Defects found in review, each pinned by a test.
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { Elysia, t } from 'elysia'
import { errorHandler } from '../../../src/http/error-handler'
import { errorBody, Harness, withApi } from '../../support/harness'

let h: Harness
let root: string
let apiId: string
withApi((f) => ({ h, root, apiId } = f))

const hex = (s: string) => createHash('sha256').update(s).digest('hex')

describe('migrated keys never expose their secret through start', () => {
  test('a secret full of underscores keeps at most prefix + 4 characters; reroll does not reuse it', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_hex')
    const plaintext = 'Zm9vYmFyYmF6cXV4_c29tZXRoaW5nZ2FycGx5_x7Q'
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: hex(plaintext) }] }, root)
    expect((await h.ok('keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)).valid).toBe(true)
    const { start } = await h.ok('keys.getKey', { keyId: migrated[0].keyId }, root)
    expect(start).toBe('Zm9vYmFyYmF6cXV4_c29t')
    const rerolled = await h.ok('keys.rerollKey', { keyId: migrated[0].keyId, expiration: 0 }, root)
    expect(rerolled.key).toStartWith('Zm9vYmFyYmF6cXV4_')
    expect(rerolled.key).not.toContain('c29tZXRoaW5n')
  })

  test('a long or non-alphanumeric head is not taken for a prefix', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const plaintext = 'this-is-not-a-prefix_secretsecret'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    await h.ok('keys.verifyKey', { key: plaintext }, root)
    expect((await h.ok('keys.getKey', { keyId: migrated[0].keyId }, root)).start).toBe('this')
  })

  test('a key of another workspace looked up by plaintext is not written to', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const plaintext = 'shared_abcdefghijkl'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    const other = await h.rootKey('other')
    expect((await h.ok('keys.verifyKey', { key: plaintext }, other)).code).toBe('NOT_FOUND')
    expect(h.db.query('SELECT start FROM keys WHERE id = ?').get(migrated[0].keyId)).toEqual({ start: '' })
  })
})

describe('completing a migration whose hash sits on a deleted key', () => {
  test('the deleted key gives up the hash and the migrated key verifies', async () => {
    const plaintext = 'reissued_key_1234'
    const { keyId } = await h.ok('keys.createKey', { apiId }, root)
    // Make the deleted key hold the native hash of `plaintext`.
    h.db.query('UPDATE keys SET hash = ? WHERE id = ?').run(createHash('sha256').update(plaintext).digest('base64'), keyId)
    await h.ok('keys.deleteKey', { keyId }, root)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_hex')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: hex(plaintext) }] }, root)
    const res = await h.call('/v2/keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ valid: true, keyId: migrated[0].keyId })
  })
})

describe('numbers and nesting that used to break responses', () => {
  test('an increment past 2^53-1 is a 400 and nothing is written', async () => {
    const { keyId, key } = await h.ok('keys.createKey', { apiId, credits: { remaining: Number.MAX_SAFE_INTEGER - 1 } }, root)
    const res = await h.call('/v2/keys.updateCredits', { keyId, operation: 'increment', value: 10 }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe(`The balance would exceed ${Number.MAX_SAFE_INTEGER} credits.`)
    expect((await h.ok('keys.verifyKey', { key }, root)).credits).toBe(Number.MAX_SAFE_INTEGER - 2)
  })

  test('an inline verify ratelimit with a duration under 1 s is a 400', async () => {
    const { key } = await h.ok('keys.createKey', { apiId }, root)
    const res = await h.call('/v2/keys.verifyKey', { key, ratelimits: [{ name: 'abc', limit: 5, duration: 0 }] }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.errors[0].location).toBe('body.ratelimits[0].duration')
  })

  test.each(['keys.createKey', 'identities.createIdentity'])('%s: meta nested 100,000 levels deep is a 400, not a crash', async (rpc) => {
    // Written by hand: JSON.stringify itself cannot go this deep.
    const meta = '{"a":'.repeat(100_000) + '{"leaf":true}' + '}'.repeat(100_000)
    const body = rpc === 'keys.createKey' ? `{"apiId":"${apiId}","meta":${meta}}` : `{"externalId":"deep","meta":${meta}}`
    const res = await h.call(`/v2/${rpc}`, body, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'Metadata is nested too deeply: at most 32 levels are allowed.', [
        { location: 'body.meta', message: 'nested deeper than 32 levels' },
      ]),
    )
  })

  test('strings with lone surrogates are a 400 naming the field', async () => {
    const res = await h.call('/v2/ratelimit.limit', '{"namespace":"\\ud800","identifier":"x","limit":5,"duration":1000}', root)
    expect(res.status).toBe(400)
    expect(res.body.error.errors).toEqual([{ location: 'body.namespace', message: 'not well-formed Unicode text' }])
  })

  test('a response that breaks its own schema is a 500 (our fault), not a 400', async () => {
    const errors: unknown[] = []
    const app = new Elysia({ normalize: false })
      .use(errorHandler((_, e) => errors.push(e), async () => {}, 2 * 1024 * 1024))
      .get('/broken', () => ({ n: 'not a number' }) as never, { response: { 200: t.Object({ n: t.Number() }) } })
    const res = await app.handle(new Request('http://localhost/broken'))
    expect(res.status).toBe(500)
    expect(errors).toHaveLength(1)
  })
})

describe('refill schedule after updates', () => {
  test('adding a refill to an old key does not refill it at once', async () => {
    const { keyId, key } = await h.ok('keys.createKey', { apiId }, root)
    h.clock.advance(3 * 86_400_000)
    await h.ok('keys.updateKey', { keyId, credits: { remaining: 0, refill: { interval: 'daily', amount: 100 } } }, root)
    expect((await h.ok('keys.verifyKey', { key }, root)).code).toBe('USAGE_EXCEEDED')
    h.clock.set(Math.ceil(h.clock.now() / 86_400_000) * 86_400_000 + 1)
    expect(await h.ok('keys.verifyKey', { key }, root)).toMatchObject({ valid: true, credits: 99 })
  })

  test('updateCredits applies a due refill before incrementing', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 12))
    const { keyId } = await h.ok('keys.createKey', { apiId, credits: { remaining: 1, refill: { interval: 'daily', amount: 10 } } }, root)
    h.clock.set(Date.UTC(2026, 5, 16, 9))
    expect(await h.ok('keys.updateCredits', { keyId, operation: 'increment', value: 5 }, root)).toEqual({
      remaining: 15,
      refill: { interval: 'daily', amount: 10 },
    })
  })
})
