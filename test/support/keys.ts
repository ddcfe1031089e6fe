// Keys as the tests of several areas need them: a key issued straight through
// the services (to grant permissions, roles or an identity to), what
// verification currently believes about it, the 404 every keyId route answers,
// and the fixture of the keys.* route tests.
import { type ApiFixture, notFoundBody, type Harness, withApi } from './harness'

/** A fresh API and key in `workspace` (which must already have a root key). */
export async function issueKey(h: Harness, workspace = 'acme', input: { externalId?: string; permissions?: string[]; roles?: string[] } = {}) {
  const workspaceId = await h.workspaceId(workspace)
  const api = await h.services.apis.create(workspaceId, 'payments')
  const { keyId, key } = await h.services.keys.create(workspaceId, { apiId: api.id, ...input })
  return { keyId, key, apiId: api.id, workspaceId }
}

export type IssuedKey = Awaited<ReturnType<typeof issueKey>>

/** The key's permissions and roles as verification sees them (through the key cache). */
export async function verifiedAccess(h: Harness, plaintext: string, workspace = 'acme') {
  return (await h.services.keyLoader.findByPlaintext(await h.workspaceId(workspace), plaintext))!.access
}

/** The key's identity as verification sees it (through the key cache). */
export async function verifiedIdentity(h: Harness, plaintext: string, workspace = 'acme') {
  return (await h.services.keyLoader.findByPlaintext(await h.workspaceId(workspace), plaintext))!.identity
}

/** The 404 of every route that takes a keyId (or a key) it cannot see. */
export const keyNotFound = notFoundBody('key', 'The requested key does not exist or has been deleted.')

export interface KeysFixture extends ApiFixture {
  /** keys.createKey on the fixture's API as its root key; returns `data`. */
  create: (body?: Record<string, unknown>) => Promise<{ keyId: string; key: string }>
  /** keys.getKey as the fixture's root key; returns `data`. */
  get: (keyId: string) => Promise<any>
  /** keys.verifyKey as `rootKey` (the fixture's by default); returns `data`. */
  verify: (body: Record<string, unknown>, rootKey?: string) => Promise<any>
}

/** withApi, plus create / get / verify bound to its API and root key. */
export function withKeys(assign: (fixture: KeysFixture) => unknown): void {
  withApi(({ h, root, apiId }) =>
    assign({
      h,
      root,
      apiId,
      create: (body = {}) => h.ok('keys.createKey', { apiId, ...body }, root),
      get: (keyId) => h.ok('keys.getKey', { keyId }, root),
      verify: (body, rootKey = root) => h.ok('keys.verifyKey', body, rootKey),
    }),
  )
}
