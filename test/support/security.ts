// The shared security checks every protected route gets: each cause of 401,
// 403 for permission sets that must not pass, success for those that must,
// and isolation from other workspaces. The permission matrix is data.
import { describe, expect, test } from 'bun:test'
import { forbiddenBody, Harness, unauthorizedBody } from './harness'

export interface SecurityCase {
  /** e.g. 'apis.getApi' */
  rpc: string
  /**
   * Creates what the call needs in workspace `ws` (as a `*` root key `adminKey`)
   * and returns the request body plus values for `{name}` placeholders in the
   * permission matrix (e.g. `api.{apiId}.read_api`).
   */
  setup: (h: Harness, adminKey: string) => Promise<{ body: unknown; vars?: Record<string, string> }>
  /** Permission sets that must be allowed (status 200 expected). */
  allowed: string[][]
  /** Permission sets that must be refused, with the alternatives the 403 detail names. */
  denied: { grants: string[]; missing: string[] }[]
  /** Expected status when a root key of another workspace (holding `*`) makes the call. */
  otherWorkspaceStatus: number
  /** Optional extra check of the other-workspace response body. */
  otherWorkspaceBody?: unknown
  successStatus?: number
}

export function describeSecurity(c: SecurityCase): void {
  describe(`${c.rpc} security`, () => {
    const path = `/v2/${c.rpc}`

    test('401 without an Authorization header', async () => {
      const h = new Harness()
      const { body } = await c.setup(h, await h.rootKey('ws'))
      const res = await h.call(path, body, null)
      expect(res.status).toBe(401)
      expect(res.body).toEqual(unauthorizedBody("The Authorization header is missing. Send your root key as 'Authorization: Bearer <root key>'."))
      await h.close()
    })

    test.each(['Basic abc', 'Bearer', 'unkey_abc', 'Bearer a b'])('401 with a malformed header %p', async (header) => {
      const h = new Harness()
      const { body } = await c.setup(h, await h.rootKey('ws'))
      const res = await h.call(path, body, null, { authorization: header })
      expect(res.status).toBe(401)
      expect(res.body).toEqual(unauthorizedBody("The Authorization header is malformed. It must have the form 'Bearer <root key>'."))
      await h.close()
    })

    test('401 with an unknown, a revoked and an expired key', async () => {
      const h = new Harness()
      const admin = await h.rootKey('ws')
      const { body } = await c.setup(h, admin)
      const unknown = await h.call(path, body, 'unkey_doesnotexist123456')
      expect(unknown.status).toBe(401)
      expect(unknown.body).toEqual(unauthorizedBody('The provided root key is invalid or has been revoked'))

      const revoked = await h.services.rootKeys.create({ workspace: 'ws', name: 'r', permissions: ['*'] })
      await h.services.rootKeys.revoke(revoked.rootKeyId)
      const r = await h.call(path, body, revoked.key)
      expect(r.status).toBe(401)
      expect(r.body).toEqual(unauthorizedBody('The provided root key is invalid or has been revoked'))

      const expiring = await h.services.rootKeys.create({ workspace: 'ws', name: 'e', permissions: ['*'], expiresAt: h.clock.now() + 1000 })
      h.clock.advance(1000)
      const e = await h.call(path, body, expiring.key)
      expect(e.status).toBe(401)
      expect(e.body).toEqual(unauthorizedBody('The provided root key has expired'))
      await h.close()
    })

    test('401 comes before body validation', async () => {
      const h = new Harness()
      const res = await h.call(path, { definitelyNotAField: true }, 'unkey_doesnotexist123456')
      expect(res.status).toBe(401)
      await h.close()
    })

    test.each(c.denied.map((d) => [d.grants.join(', ') || '(none)', d] as const))('403 with %s', async (_label, d) => {
      const h = new Harness()
      const { body, vars = {} } = await c.setup(h, await h.rootKey('ws'))
      const res = await h.call(
        path,
        body,
        await h.rootKey(
          'ws',
          d.grants.map((g) => fill(g, vars)),
        ),
      )
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody(d.missing.map((m) => fill(m, vars))))
      await h.close()
    })

    test.each(c.allowed.map((grants) => [grants.join(', '), grants] as const))('allowed with %s', async (_label, grants) => {
      const h = new Harness()
      const { body, vars = {} } = await c.setup(h, await h.rootKey('ws'))
      const res = await h.call(
        path,
        body,
        await h.rootKey(
          'ws',
          grants.map((g) => fill(g, vars)),
        ),
      )
      expect(res.status).toBe(c.successStatus ?? 200)
      await h.close()
    })

    test('a root key of another workspace cannot reach the resource', async () => {
      const h = new Harness()
      const { body } = await c.setup(h, await h.rootKey('ws'))
      const res = await h.call(path, body, await h.rootKey('other-ws'))
      expect(res.status).toBe(c.otherWorkspaceStatus)
      if (c.otherWorkspaceBody !== undefined) expect(res.body).toEqual(c.otherWorkspaceBody)
      await h.close()
    })
  })
}

/** Resolves a template such as 'api.{apiId}.read_api' against values from setup. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? `{${k}}`)
}
