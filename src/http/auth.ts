// Authentication and authorization of management calls.
//
//   1. a derive step (before body validation) turns `Authorization: Bearer
//      <root key>` into a principal, or ends the request with 401;
//   2. the `permission` macro (after validation) checks the route's
//      requirement against the principal's grants (403) and only then hands
//      the handler `auth`, the one way a route gets a workspace to work in.
// A route without the macro has no `auth` and is refused at start-up by
// assertRoutesProtected (fail closed).
import { Elysia } from 'elysia'
import { badRequest, unauthorized } from '../errors'
import type { Principal, RootKeyService } from '../modules/rootkeys/service'
import { enforce, type AuthContext, type PermissionSpec } from '../rbac/requirements'
import { requestState } from './request-context'

export function principalFromHeader(rootKeys: Pick<RootKeyService, 'authenticate'>, header: string | null): Principal | Promise<Principal> {
  if (header === null || header.trim() === '') {
    throw unauthorized("The Authorization header is missing. Send your root key as 'Authorization: Bearer <root key>'.")
  }
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) {
    throw unauthorized("The Authorization header is malformed. It must have the form 'Bearer <root key>'.")
  }
  const result = rootKeys.authenticate(match[1]!)
  return result instanceof Promise ? result.then(principalOrThrow) : principalOrThrow(result)
}

function principalOrThrow(result: Principal | 'invalid' | 'expired'): Principal {
  if (result === 'invalid') throw unauthorized('The provided root key is invalid or has been revoked')
  if (result === 'expired') throw unauthorized('The provided root key has expired')
  return result
}

/**
 * The location of the first string (value or object key) holding a lone
 * surrogate, which SQLite would silently turn into U+FFFD, or null.
 */
export function illFormedStringAt(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : path
  if (value === null || typeof value !== 'object') return null
  const stack: [unknown, string][] = [[value, path]]
  while (stack.length > 0) {
    const [v, p] = stack.pop()!
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return p
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const at = Array.isArray(v) ? `${p}[${k}]` : `${p}.${k}`
        if (!k.isWellFormed()) return at
        stack.push([child, at])
      }
    }
  }
  return null
}

let instances = 0

export function authPlugin(rootKeys: Pick<RootKeyService, 'authenticate'>) {
  return (
    new Elysia({ name: 'auth', seed: ++instances })
      // Before body validation: no valid root key, no further work (401 before 400).
      .derive({ as: 'scoped' }, async ({ request, body }) => {
        const principal = await principalFromHeader(rootKeys, request.headers.get('authorization'))
        requestState(request).rootKeyId = principal.rootKeyId
        const broken = illFormedStringAt(body, 'body')
        if (broken) {
          throw badRequest(`${broken} contains a lone UTF-16 surrogate; send well-formed Unicode text.`, [
            { location: broken, message: 'not well-formed Unicode text' },
          ])
        }
        return { principal }
      })
      .macro({
        permission: (spec: PermissionSpec) => ({
          // Every RPC body is JSON, whatever Content-Type the client sent.
          parse: 'json' as never,
          // After body validation: the route's requirement against the principal's grants (403).
          async resolve({ principal, body }) {
            if (!principal) throw unauthorized('The request was not authenticated.')
            const auth: AuthContext = {
              workspaceId: principal.workspaceId,
              rootKeyId: principal.rootKeyId,
              permissions: principal.permissions,
            }
            enforce(auth, await spec.requirement({ body, auth }))
            return { auth }
          },
          detail: {
            security: [{ rootKey: [] }],
            'x-required-permissions': spec.describe,
          } as Record<string, unknown>,
        }),
      })
  )
}

export type AuthPlugin = ReturnType<typeof authPlugin>

/** Routes reachable without a root key. Everything else must use the `permission` macro. */
export const PUBLIC_ROUTES = new Set(['GET /v2/liveness', 'GET /v1/liveness'])

/** Throws when an API route lacks the permission macro, so that a forgotten check cannot ship. */
export function assertRoutesProtected(routes: { method: string; path: string; hooks?: unknown }[]): void {
  const unprotected = routes.filter((r) => {
    if (!/^\/v\d+\//.test(r.path)) return false
    if (PUBLIC_ROUTES.has(`${r.method} ${r.path}`)) return false
    const detail = (r.hooks as { detail?: Record<string, unknown> } | undefined)?.detail
    return !detail || typeof detail['x-required-permissions'] !== 'string'
  })
  if (unprotected.length > 0) {
    throw new Error(`Routes without a permission check: ${unprotected.map((r) => `${r.method} ${r.path}`).join(', ')}`)
  }
}
