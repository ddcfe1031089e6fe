// The key-access routes (keys.add|remove|set Permissions|Roles, served by
// src/modules/keys/access-routes.ts): their fixture, and the errors all six
// share, as data: the fields the schema rejects, a 404 for a key that is
// unknown, of another workspace, deleted or of a deleted API, and for the
// roles routes a 404 naming an unknown role. Each route's test file calls
// describeKeyAccessErrors once.
import { beforeEach, describe, expect, test } from 'bun:test'
import { type Harness, invalidBody, notFoundBody, withHarness } from './harness'
import { type IssuedKey, issueKey, keyNotFound, verifiedAccess } from './keys'

export interface KeyAccessFixture {
  h: Harness
  /** A `*` root key of workspace 'acme'. */
  root: string
  /** A key of workspace 'acme' whose access the test changes. */
  k: IssuedKey
}

/** Before each test: withHarness in workspace 'acme' and a key issued there. Returns a getter of the current fixture. */
export function withKeyAccess(assign: (fixture: KeyAccessFixture) => unknown): () => KeyAccessFixture {
  let current: KeyAccessFixture
  withHarness(async ({ h, root }) => {
    current = { h, root, k: await issueKey(h) }
    await assign(current)
  }, 'acme')
  return () => current
}

/** The slugs of a list of permissions, in its order. */
export const slugs = (permissions: { slug: string }[]) => permissions.map((p) => p.slug)

/** Roles 'editor' (documents.write and documents.read, described 'Edits'), 'viewer' (documents.read) and 'auditor' (nothing); returns editor's id. */
export async function createEditorViewerAuditor(h: Harness, root: string): Promise<string> {
  const editor = await h.ok('permissions.createRole', { name: 'editor', description: 'Edits', permissions: ['documents.write', 'documents.read'] }, root)
  await h.ok('permissions.createRole', { name: 'viewer', permissions: ['documents.read'] }, root)
  await h.ok('permissions.createRole', { name: 'auditor' }, root)
  return editor.roleId
}

/** The schema's message for a slug with a character it does not allow. */
export const SLUG_PATTERN = "Expected string to match '^[a-zA-Z0-9_:\\-\\.\\*]+$'"

/** `n` strings made by `f`. */
export const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i))

export interface KeyAccessErrors {
  /** e.g. 'keys.addRoles' */
  rpc: string
  /** The rest of a valid body (besides keyId), for the 404 cases. */
  body: Record<string, unknown>
  /** Bodies, given the key's id, that are a 400 naming `location` with `message`. */
  invalid: [(keyId: string) => unknown, string, string][]
  /** The keys.*Roles routes: a role name that does not exist is a 404 naming it. */
  namesUnknownRole?: boolean
}

export function describeKeyAccessErrors(fixture: () => KeyAccessFixture, c: KeyAccessErrors): void {
  describe(`${c.rpc} validation (400 names the field)`, () => {
    test.each(c.invalid)(`${c.rpc} is a 400 (%#)`, async (body, location, message) => {
      const { h, root: key, k } = fixture()
      const res = await h.call(`/v2/${c.rpc}`, body(k.keyId), key)
      expect(res.status).toBe(400)
      expect(res.body).toEqual(invalidBody(c.rpc, location, message))
    })
  })

  describe(`${c.rpc}: 404 for the key`, () => {
    beforeEach(async () => {
      const { h, root: key } = fixture()
      await h.ok('permissions.createRole', { name: 'editor', permissions: ['a'] }, key)
    })

    test('an unknown key', async () => {
      const { h, root: key } = fixture()
      const res = await h.call(`/v2/${c.rpc}`, { keyId: 'key_doesnotexist', ...c.body }, key)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(keyNotFound)
    })

    test('a key of another workspace is not found and not changed', async () => {
      const { h } = fixture()
      const theirs = await issueKey(h, 'acme', { permissions: ['a'], roles: ['editor'] })
      const other = await h.rootKey('other')
      const res = await h.call(`/v2/${c.rpc}`, { keyId: theirs.keyId, ...c.body }, other)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(keyNotFound)
      expect(await verifiedAccess(h, theirs.key)).toEqual({ permissions: ['a'], roles: ['editor'] })
    })

    test('a deleted key, and a key of a deleted API', async () => {
      const { h, root: key, k } = fixture()
      await h.ok('keys.deleteKey', { keyId: k.keyId }, key)
      expect((await h.call(`/v2/${c.rpc}`, { keyId: k.keyId, ...c.body }, key)).body).toEqual(keyNotFound)
      const second = await issueKey(h)
      await h.ok('apis.deleteApi', { apiId: second.apiId }, key)
      expect((await h.call(`/v2/${c.rpc}`, { keyId: second.keyId, ...c.body }, key)).body).toEqual(keyNotFound)
    })
  })

  if (c.namesUnknownRole) {
    test(`${c.rpc} names the unknown role (nothing changes)`, async () => {
      const { h, root: key, k } = fixture()
      await h.ok('permissions.createRole', { name: 'editor', permissions: ['a'] }, key)
      await h.ok('permissions.createRole', { name: 'viewer' }, key)
      await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
      const res = await h.call(`/v2/${c.rpc}`, { keyId: k.keyId, roles: ['viewer', 'ghost'] }, key)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(notFoundBody('role', "Role 'ghost' was not found."))
      expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['a'], roles: ['editor'] })
    })
  }
}
