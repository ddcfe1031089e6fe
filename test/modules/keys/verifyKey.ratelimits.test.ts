// keys.verifyKey with ratelimits: auto-applied and requested limits of the
// key and its identity, inline limits, all-or-nothing, before credits.
import { beforeEach, describe, expect, test } from 'bun:test'
import { errorBody, type Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, create, verify } = f))
beforeEach(() => {
  // Start on a window boundary so that windows are easy to reason about.
  h.clock.set(Date.UTC(2026, 5, 15, 12, 0, 0))
})

describe('verifyKey ratelimits', () => {
  test('auto-applied key limits are checked on every verify and reported', async () => {
    const { key } = await create({ ratelimits: [{ name: 'per-second', limit: 2, duration: 1000, autoApply: true }] })
    const first = await verify({ key })
    expect(first.ratelimits).toEqual([
      {
        exceeded: false,
        id: expect.stringMatching(/^rl_/),
        name: 'per-second',
        limit: 2,
        duration: 1000,
        reset: h.clock.now() + 1000,
        remaining: 1,
        autoApply: true,
      },
    ])
    expect((await verify({ key })).code).toBe('VALID')
    const third = await verify({ key })
    expect(third).toMatchObject({ valid: false, code: 'RATE_LIMITED' })
    expect(third.ratelimits[0]).toMatchObject({ exceeded: true, remaining: 0 })
    // The sliding window still counts most of the previous second just after it.
    h.clock.advance(1000)
    expect((await verify({ key })).code).toBe('RATE_LIMITED')
    h.clock.advance(1000)
    expect((await verify({ key })).code).toBe('VALID')
  })

  test('limits that are not auto-applied are only checked when requested by name, with a cost', async () => {
    const { key } = await create({ ratelimits: [{ name: 'tokens', limit: 10, duration: 60_000 }] })
    expect((await verify({ key })).ratelimits).toBeUndefined()
    expect((await verify({ key, ratelimits: [{ name: 'tokens', cost: 7 }] })).ratelimits[0]).toMatchObject({ remaining: 3, autoApply: false })
    expect((await verify({ key, ratelimits: [{ name: 'tokens', cost: 4 }] })).code).toBe('RATE_LIMITED')
    expect((await verify({ key, ratelimits: [{ name: 'tokens', cost: 3 }] })).code).toBe('VALID')
  })

  test('identity limits are shared by all keys of the identity; a key limit of the same name wins', async () => {
    const identity = await h.ok(
      'identities.createIdentity',
      { externalId: 'org_1', ratelimits: [{ name: 'org', limit: 3, duration: 60_000, autoApply: true }] },
      root,
    )
    expect(identity.identityId).toMatch(/^id_/)
    const a = await create({ externalId: 'org_1' })
    const b = await create({ externalId: 'org_1' })
    const own = await create({ externalId: 'org_1', ratelimits: [{ name: 'org', limit: 100, duration: 60_000, autoApply: true }] })
    expect((await verify({ key: a.key })).ratelimits[0]).toMatchObject({ name: 'org', remaining: 2 })
    expect((await verify({ key: b.key })).ratelimits[0]).toMatchObject({ name: 'org', remaining: 1 })
    expect((await verify({ key: a.key })).code).toBe('VALID')
    expect((await verify({ key: b.key })).code).toBe('RATE_LIMITED')
    const mine = await verify({ key: own.key })
    expect(mine).toMatchObject({ code: 'VALID' })
    expect(mine.ratelimits).toEqual([expect.objectContaining({ name: 'org', limit: 100, remaining: 99 })])
    expect(mine.identity.ratelimits).toEqual([{ id: expect.stringMatching(/^rl_/), name: 'org', limit: 3, duration: 60_000, autoApply: true }])
  })

  test('inline limit + duration is applied per key without a stored definition', async () => {
    const { key } = await create()
    const first = await verify({ key, ratelimits: [{ name: 'adhoc', limit: 1, duration: 5000 }] })
    expect(first.ratelimits).toEqual([
      {
        exceeded: false,
        id: expect.stringMatching(/^rl_/),
        name: 'adhoc',
        limit: 1,
        duration: 5000,
        reset: h.clock.now() + 5000,
        remaining: 0,
        autoApply: false,
      },
    ])
    expect((await verify({ key, ratelimits: [{ name: 'adhoc', limit: 1, duration: 5000 }] })).code).toBe('RATE_LIMITED')
  })

  test('an unknown limit name without inline values is a 412', async () => {
    const { key, keyId } = await create()
    const res = await h.call('/v2/keys.verifyKey', { key, ratelimits: [{ name: 'missing' }] }, root)
    expect(res.status).toBe(412)
    expect(res.body).toEqual(
      errorBody(
        412,
        'Precondition Failed',
        'unkey/application/precondition_failed',
        `Ratelimit 'missing' was requested but does not exist for key '${keyId}' and the key has no identity.`,
      ),
    )
  })

  test('several limits are all-or-nothing', async () => {
    const { key } = await create({
      ratelimits: [
        { name: 'wide', limit: 100, duration: 60_000, autoApply: true },
        { name: 'narrow', limit: 1, duration: 60_000 },
      ],
    })
    expect((await verify({ key, ratelimits: [{ name: 'narrow' }] })).code).toBe('VALID')
    const denied = await verify({ key, ratelimits: [{ name: 'narrow' }] })
    expect(denied.code).toBe('RATE_LIMITED')
    const wide = denied.ratelimits.find((r: any) => r.name === 'wide')
    expect(wide).toMatchObject({ exceeded: false, remaining: 99 })
    // The refused verify consumed nothing from 'wide'.
    expect((await verify({ key })).ratelimits[0]).toMatchObject({ name: 'wide', remaining: 98 })
  })

  test('RATE_LIMITED comes before credits: a limited request spends no credits', async () => {
    const { key } = await create({ credits: { remaining: 5 }, ratelimits: [{ name: 'rl1', limit: 1, duration: 60_000, autoApply: true }] })
    expect(await verify({ key })).toMatchObject({ code: 'VALID', credits: 4 })
    expect(await verify({ key })).toMatchObject({ code: 'RATE_LIMITED', credits: 4 })
  })

  test('an inline verify ratelimit with a duration under 1 s is a 400', async () => {
    const { key } = await create()
    const res = await h.call('/v2/keys.verifyKey', { key, ratelimits: [{ name: 'abc', limit: 5, duration: 0 }] }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.errors[0].location).toBe('body.ratelimits[0].duration')
  })
})
