// ratelimit.* through the official SDK (@unkey/api 2.5.1) against a listening
// latch: successes must parse (a ResponseValidationError fails the test) and
// error statuses must arrive as the SDK's typed error classes.
import { describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import { BadRequestErrorResponse, ForbiddenErrorResponse, GoneErrorResponse, NotFoundErrorResponse } from '@unkey/api/models/errors'
import type { Harness } from '../../support/harness'
import { allPages, type SdkFixture, withSdk } from '../../support/sdk'

const REQUEST_ID = expect.stringMatching(/^req_/)

let h: Harness
let unkey: Unkey
let client: SdkFixture['client']
let now: number
withSdk((f) => {
  ;({ h, unkey, client } = f)
  now = f.h.clock.now()
})

describe('ratelimit through @unkey/api', () => {
  test('limit: passes, then is refused; overrideId absent without an override', async () => {
    const first = await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 2, duration: 60_000 })
    expect(first).toEqual({ meta: { requestId: REQUEST_ID }, data: { limit: 2, remaining: 1, reset: now + 60_000, success: true } })
    await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 2, duration: 60_000 })
    const third = await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 2, duration: 60_000, cost: 1 })
    expect(third.data).toEqual({ limit: 2, remaining: 0, reset: now + 60_000, success: false })
  })

  test('overrides: set, get (wildcard-aware), list with pagination, applied by limit and multiLimit, delete', async () => {
    const ids: string[] = []
    for (const identifier of ['vip_*', 'vip_1', 'bot_*']) {
      const set = await unkey.ratelimit.setOverride({ namespace: 'sdk', identifier, limit: 50, duration: 10_000 })
      expect(set).toEqual({ meta: { requestId: REQUEST_ID }, data: { overrideId: expect.stringMatching(/^rlor_/) } })
      ids.push(set.data.overrideId)
    }

    const got = await unkey.ratelimit.getOverride({ namespace: 'sdk', identifier: 'vip_2' })
    expect(got.data).toEqual({ overrideId: ids[0]!, duration: 10_000, identifier: 'vip_*', limit: 50 })

    const limited = await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'vip_1', limit: 1, duration: 1000 })
    expect(limited.data).toEqual({ limit: 50, remaining: 49, reset: now + 10_000, success: true, overrideId: ids[1]! })

    const multi = await unkey.ratelimit.multiLimit([
      { namespace: 'sdk', identifier: 'bot_9', limit: 1, duration: 1000 },
      { namespace: 'sdk-other', identifier: 'user_1', limit: 5, duration: 1000, cost: 2 },
    ])
    expect(multi).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        passed: true,
        limits: [
          { namespace: 'sdk', identifier: 'bot_9', limit: 50, remaining: 49, reset: now + 10_000, passed: true, overrideId: ids[2]! },
          { namespace: 'sdk-other', identifier: 'user_1', limit: 5, remaining: 3, reset: now + 1000, passed: true },
        ],
      },
    })

    // Two per page: the iterator follows the cursor and stops on the last page.
    const pages = await allPages(await unkey.ratelimit.listOverrides({ namespace: 'sdk', limit: 2 }))
    expect(pages.flatMap((page) => page.result.data.map((o) => o.overrideId))).toEqual([...ids].sort())
    expect(pages.map((page) => page.result.pagination?.hasMore)).toEqual([true, false])

    const deleted = await unkey.ratelimit.deleteOverride({ namespace: 'sdk', identifier: 'vip_1' })
    expect(deleted).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await unkey.ratelimit.getOverride({ namespace: 'sdk', identifier: 'vip_1' })).data.overrideId).toBe(ids[0]!)
  })

  test('errors arrive as typed classes: 400, 403, 404, 410', async () => {
    const invalid = unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 0, duration: 1000 })
    await expect(invalid).rejects.toBeInstanceOf(BadRequestErrorResponse)
    await invalid.catch((e: BadRequestErrorResponse) => {
      expect(e.statusCode).toBe(400)
      expect(e.data$.error.errors).toEqual([{ location: 'body.limit', message: 'Expected integer to be greater or equal to 1' }])
    })

    const weak = client(await h.rootKey('acme', ['ratelimit.*.read_override']))
    await expect(weak.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 1, duration: 1000 })).rejects.toBeInstanceOf(ForbiddenErrorResponse)

    const missing = unkey.ratelimit.getOverride({ namespace: 'nowhere', identifier: 'user_1' })
    await expect(missing).rejects.toBeInstanceOf(NotFoundErrorResponse)
    await missing.catch((e: NotFoundErrorResponse) => expect(e.data$.error.detail).toBe('This namespace does not exist.'))
    await expect(unkey.ratelimit.deleteOverride({ namespace: 'sdk', identifier: 'nobody' })).rejects.toBeInstanceOf(NotFoundErrorResponse)
    await expect(unkey.ratelimit.listOverrides({ namespace: 'nowhere' })).rejects.toBeInstanceOf(NotFoundErrorResponse)
    await expect(unkey.ratelimit.setOverride({ namespace: 'nowhere', identifier: 'x', limit: 1, duration: 1000 })).rejects.toBeInstanceOf(NotFoundErrorResponse)

    const ws = await h.workspaceId('acme')
    await h.services.ratelimit.deleteNamespace(ws, (await h.services.ratelimit.findNamespace(ws, 'sdk-other'))!.id)
    const gone = unkey.ratelimit.limit({ namespace: 'sdk-other', identifier: 'user_1', limit: 1, duration: 1000 })
    await expect(gone).rejects.toBeInstanceOf(GoneErrorResponse)
    await gone.catch((e: GoneErrorResponse) => {
      expect(e.statusCode).toBe(410)
      expect(e.data$.error.type).toBe('https://unkey.com/docs/errors/unkey/data/ratelimit_namespace_gone')
    })
    await expect(unkey.ratelimit.multiLimit([{ namespace: 'sdk-other', identifier: 'u', limit: 1, duration: 1000 }])).rejects.toBeInstanceOf(GoneErrorResponse)
  })
})
