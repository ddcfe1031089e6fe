// keys.updateCredits: set, increment or decrement a key's balance (set null =
// unlimited), applying a due refill first; the next verify sees the result.
// Its root-key security is in keys.security.test.ts, its SDK test in
// keys.sdk.test.ts.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let get: KeysFixture['get']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, create, get, verify } = f))

describe('keys.updateCredits', () => {
  test('set, increment, decrement (floored at zero), set null = unlimited', async () => {
    const { keyId } = await create({ credits: { remaining: 5, refill: { interval: 'daily', amount: 5 } } })
    const call = (operation: string, value?: number | null) => h.ok('keys.updateCredits', { keyId, operation, ...(value !== undefined ? { value } : {}) }, root)
    expect(await call('increment', 3)).toEqual({ remaining: 8, refill: { interval: 'daily', amount: 5 } })
    expect(await call('decrement', 100)).toEqual({ remaining: 0, refill: { interval: 'daily', amount: 5 } })
    expect(await call('set', 42)).toEqual({ remaining: 42, refill: { interval: 'daily', amount: 5 } })
    expect(await call('set', null)).toEqual({ remaining: null })
    expect((await get(keyId)).credits).toBeUndefined()
  })

  test('applies a due refill before incrementing', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 12))
    const { keyId } = await create({ credits: { remaining: 1, refill: { interval: 'daily', amount: 10 } } })
    h.clock.set(Date.UTC(2026, 5, 16, 9))
    expect(await h.ok('keys.updateCredits', { keyId, operation: 'increment', value: 5 }, root)).toEqual({
      remaining: 15,
      refill: { interval: 'daily', amount: 10 },
    })
  })

  test('the result is visible to the very next verify', async () => {
    const { key, keyId } = await create({ credits: { remaining: 1 } })
    expect((await verify({ key })).credits).toBe(0)
    await h.ok('keys.updateCredits', { keyId, operation: 'increment', value: 5 }, root)
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 4 })
    await h.ok('keys.updateCredits', { keyId, operation: 'set', value: null }, root)
    const unlimited = await verify({ key })
    expect(unlimited.valid).toBe(true)
    expect(unlimited.credits).toBeUndefined()
  })
})

describe('keys.updateCredits errors', () => {
  test('missing value, unlimited key, bad operation', async () => {
    const limited = await create({ credits: { remaining: 5 } })
    const noValue = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'increment' }, root)
    expect(noValue.status).toBe(400)
    expect(noValue.body.error.detail).toBe('When specifying an increment or decrement operation, a value must be provided.')
    const unlimited = await create()
    const res = await h.call('/v2/keys.updateCredits', { keyId: unlimited.keyId, operation: 'decrement', value: 1 }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe('You cannot increment or decrement a key with unlimited credits.')
    const op = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'multiply', value: 2 }, root)
    expect(op.status).toBe(400)
    expect(op.body.error.errors[0].location).toBe('body.operation')
    const negative = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'set', value: -1 }, root)
    expect(negative.status).toBe(400)
  })

  test('an increment past 2^53-1 is a 400 and nothing is written', async () => {
    const { keyId, key } = await create({ credits: { remaining: Number.MAX_SAFE_INTEGER - 1 } })
    const res = await h.call('/v2/keys.updateCredits', { keyId, operation: 'increment', value: 10 }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe(`The balance would exceed ${Number.MAX_SAFE_INTEGER} credits.`)
    expect((await h.ok('keys.verifyKey', { key }, root)).credits).toBe(Number.MAX_SAFE_INTEGER - 2)
  })
})
