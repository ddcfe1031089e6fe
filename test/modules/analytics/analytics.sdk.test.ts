// analytics.* through the official SDK (@unkey/api 2.5.1) against a listening
// latch, unchanged: the rows of a documented query parse, and refusals arrive
// as the SDK's typed 400 / 403 / 422 classes.
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import { BadRequestErrorResponse, ForbiddenErrorResponse, UnprocessableEntityErrorResponse } from '@unkey/api/models/errors'
import type { Harness } from '../../support/harness'
import { failure, parsed, type SdkFixture, withSdk } from '../../support/sdk'

const REQUEST_ID = expect.stringMatching(/^req_/)

let h: Harness
let unkey: Unkey
let client: SdkFixture['client']
withSdk((f) => {
  ;({ h, unkey, client } = f)
})

let keyId: string
beforeAll(async () => {
  const { apiId } = await unkey.apis.createApi({ name: 'payments' }).then((r) => r.data)
  const created = await unkey.keys.createKey({ apiId, externalId: 'cust_1', credits: { remaining: 2 } })
  keyId = created.data.keyId
  for (let i = 0; i < 3; i++) await unkey.keys.verifyKey({ key: created.data.key, tags: ['route=/checkout'] })
  await unkey.keys.verifyKey({ key: 'unknown_key_123456' })
  await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 1, duration: 60_000 })
  await unkey.ratelimit.limit({ namespace: 'sdk', identifier: 'user_1', limit: 1, duration: 60_000 })
  await h.services.flush()
})

describe('analytics through @unkey/api', () => {
  test('getVerifications: outcomes per key, most frequent first', async () => {
    const res = await parsed(
      unkey.analytics.getVerifications({
        query: 'SELECT key_id, outcome, count() AS n FROM key_verifications_v1 GROUP BY key_id, outcome ORDER BY n DESC, outcome',
      }),
    )
    expect(res).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [
        { key_id: keyId, outcome: 'VALID', n: 2 },
        { key_id: '', outcome: 'NOT_FOUND', n: 1 },
        { key_id: keyId, outcome: 'USAGE_EXCEEDED', n: 1 },
      ],
    })
  })

  test('getVerifications: a day rollup with tags and credits', async () => {
    const res = await parsed(
      unkey.analytics.getVerifications({
        query:
          "SELECT external_id, tags, SUM(count) AS n, SUM(spent_credits) AS credits FROM key_verifications_per_day_v1 WHERE external_id != '' GROUP BY external_id, tags",
      }),
    )
    expect(res.data).toEqual([{ external_id: 'cust_1', tags: ['route=/checkout'], n: 3, credits: 2 }])
  })

  test('getRatelimits: passed and blocked per identifier', async () => {
    const res = await parsed(
      unkey.analytics.getRatelimits({
        query: 'SELECT identifier, countIf(passed) AS allowed, countIf(NOT passed) AS blocked FROM ratelimits_v1 GROUP BY identifier',
      }),
    )
    expect(res).toEqual({ meta: { requestId: REQUEST_ID }, data: [{ identifier: 'user_1', allowed: 1, blocked: 1 }] })
  })

  test('refusals are the typed 400, 403 and 422', async () => {
    const table = await failure(unkey.analytics.getVerifications({ query: 'SELECT * FROM keys' }))
    expect(table).toBeInstanceOf(BadRequestErrorResponse)
    expect((table as BadRequestErrorResponse).data$.error.type).toBe('https://unkey.com/docs/errors/user/bad_request/invalid_analytics_table')

    const scoped = client((await h.services.rootKeys.create({ workspace: 'acme', name: 'ratelimit only', permissions: ['ratelimit.*.read_analytics'] })).key)
    expect(await failure(scoped.analytics.getVerifications({ query: 'SELECT count() FROM key_verifications_v1' }))).toBeInstanceOf(ForbiddenErrorResponse)

    const tooMany = await failure(
      unkey.analytics.getVerifications({
        query:
          'SELECT a.time FROM key_verifications_v1 a CROSS JOIN key_verifications_v1 b CROSS JOIN key_verifications_v1 c CROSS JOIN key_verifications_v1 d CROSS JOIN key_verifications_v1 e CROSS JOIN key_verifications_v1 f CROSS JOIN key_verifications_v1 g',
      }),
    )
    expect(tooMany).toBeInstanceOf(UnprocessableEntityErrorResponse)
    expect((tooMany as UnprocessableEntityErrorResponse).data$.error.type).toBe(
      'https://unkey.com/docs/errors/user/unprocessable_entity/query_rows_limit_exceeded',
    )
  })
})
