// identities.* through the official SDK (@unkey/api) against a real listening
// latch: successes parse (deleteIdentity answers `meta` only), lists stop
// paging, and errors arrive as typed classes — for deleteIdentity only because
// its errors are application/problem+json.
import { describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import {
  BadRequestErrorResponse,
  ConflictErrorResponse,
  ForbiddenErrorResponse,
  NotFoundErrorResponse,
  UnauthorizedErrorResponse,
} from '@unkey/api/models/errors'
import { type Harness, IDENTITY_ID, RATELIMIT_ID, REQUEST_ID } from '../../support/harness'
import { issueKey, verifiedIdentity } from '../../support/keys'
import { allPages, failure, parsed, type SdkFixture, withSdk } from '../../support/sdk'

let h: Harness
let unkey: Unkey
let client: SdkFixture['client']
withSdk((f) => ({ h, unkey, client } = f))

describe('identities', () => {
  test('createIdentity, getIdentity, updateIdentity, deleteIdentity parse', async () => {
    const created = await parsed(
      unkey.identities.createIdentity({
        externalId: 'sdk-user',
        meta: { plan: 'pro' },
        ratelimits: [{ name: 'requests', limit: 10, duration: 60_000, autoApply: true }],
      }),
    )
    expect(created).toEqual({ meta: { requestId: REQUEST_ID }, data: { identityId: IDENTITY_ID } })
    const identityId = created.data.identityId

    const got = await parsed(unkey.identities.getIdentity({ identity: 'sdk-user' }))
    expect(got.data).toEqual({
      id: identityId,
      externalId: 'sdk-user',
      meta: { plan: 'pro' },
      ratelimits: [{ id: RATELIMIT_ID, name: 'requests', limit: 10, duration: 60_000, autoApply: true }],
    })

    const k = await issueKey(h, 'acme', { externalId: 'sdk-user' })
    expect((await verifiedIdentity(h, k.key))?.meta).toEqual({ plan: 'pro' })
    const updated = await parsed(unkey.identities.updateIdentity({ identity: identityId, meta: { plan: 'team' }, ratelimits: [] }))
    expect(updated.data).toEqual({ id: identityId, externalId: 'sdk-user', meta: { plan: 'team' } })
    expect((await verifiedIdentity(h, k.key))?.meta).toEqual({ plan: 'team' })

    const deleted = await parsed(unkey.identities.deleteIdentity({ identity: identityId }))
    expect(deleted).toEqual({ meta: { requestId: REQUEST_ID } })
    expect(await verifiedIdentity(h, k.key)).toBeNull()
  })

  test('an identity without meta or ratelimits parses', async () => {
    const { data } = await parsed(unkey.identities.createIdentity({ externalId: 'sdk-bare' }))
    expect((await parsed(unkey.identities.getIdentity({ identity: data.identityId }))).data).toEqual({ id: data.identityId, externalId: 'sdk-bare' })
  })

  test('listIdentities: the iterator visits every page once and stops', async () => {
    const externalIds = Array.from({ length: 5 }, (_, i) => `sdk-list-${i}`)
    for (const externalId of externalIds) await parsed(unkey.identities.createIdentity({ externalId }))
    const first = await parsed(unkey.identities.listIdentities({ limit: 2, search: 'sdk-list' }))
    const pages = await allPages(first)
    expect(pages).toHaveLength(3)
    expect(pages.flatMap((page) => page.result.data.map((i) => i.externalId)).sort()).toEqual(externalIds)
  })
})

describe('typed errors', () => {
  test('a duplicate externalId is a ConflictErrorResponse', async () => {
    await parsed(unkey.identities.createIdentity({ externalId: 'sdk-dup' }))
    const error = await failure(unkey.identities.createIdentity({ externalId: 'sdk-dup' }))
    expect(error).toBeInstanceOf(ConflictErrorResponse)
    expect((error as ConflictErrorResponse).error.detail).toBe("Identity with externalId 'sdk-dup' already exists in this workspace.")
  })

  test('missing identities are NotFoundErrorResponse, deleteIdentity included', async () => {
    expect(await failure(unkey.identities.getIdentity({ identity: 'sdk-nobody' }))).toBeInstanceOf(NotFoundErrorResponse)
    expect(await failure(unkey.identities.updateIdentity({ identity: 'sdk-nobody', meta: {} }))).toBeInstanceOf(NotFoundErrorResponse)
    const deleted = await failure(unkey.identities.deleteIdentity({ identity: 'sdk-nobody' }))
    expect(deleted).toBeInstanceOf(NotFoundErrorResponse)
    expect((deleted as NotFoundErrorResponse).error.detail).toBe('This identity does not exist.')
  })

  test('deleteIdentity: 400, 401 and 403 are typed too', async () => {
    expect(await failure(unkey.identities.deleteIdentity({ identity: '' }))).toBeInstanceOf(BadRequestErrorResponse)
    expect(await failure(client('unkey_doesnotexist123456').identities.deleteIdentity({ identity: 'x' }))).toBeInstanceOf(UnauthorizedErrorResponse)
    const reader = client(await h.rootKey('acme', ['identity.*.read_identity']))
    const forbidden = await failure(reader.identities.deleteIdentity({ identity: 'x' }))
    expect(forbidden).toBeInstanceOf(ForbiddenErrorResponse)
    expect((forbidden as ForbiddenErrorResponse).error.detail).toBe("Your key does not have the required 'identity.*.delete_identity' permission")
  })

  test('oversized meta and duplicate ratelimit names are BadRequestErrorResponse', async () => {
    const big = await failure(unkey.identities.createIdentity({ externalId: 'sdk-big', meta: { blob: 'x'.repeat(1024 * 1024) } }))
    expect(big).toBeInstanceOf(BadRequestErrorResponse)
    const rl = { name: 'requests', limit: 1, duration: 1000, autoApply: false }
    expect(await failure(unkey.identities.createIdentity({ externalId: 'sdk-rl', ratelimits: [rl, rl] }))).toBeInstanceOf(BadRequestErrorResponse)
  })
})
