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
import { badRequest, forbidden, unauthorized } from './errors'
import { requestState } from './request-context'
import type { Principal, RootKeyService } from '../modules/rootkeys/service'
import { describeAlternatives, needs, unmet, type Requirement, type ResourceType } from '../modules/rootkeys/permissions'

/** What a handler may act on: one workspace, on behalf of one root key. */
export interface AuthContext {
  workspaceId: string
  rootKeyId: string
  permissions: ReadonlySet<string>
}

export interface PermissionSpec<Body = any> {
  /** Human-readable requirement, shown in the OpenAPI document. */
  describe: string
  /** The requirement for this request; may look at the body and the caller's workspace. */
  requirement: (input: { body: Body; auth: AuthContext }) => Requirement
}

/** `type.*.action`, regardless of the request. */
export function wildcardPermission(type: ResourceType, action: string): PermissionSpec {
  const requirement = needs(type, action)
  return { describe: `'${type}.*.${action}'`, requirement: () => requirement }
}

/** `type.*.action` or `type.<id>.action`, where the id is the body field `field`. */
export function permissionOn(type: ResourceType, action: string, field: string): PermissionSpec {
  return {
    describe: `'${type}.*.${action}' or '${type}.<${field}>.${action}'`,
    requirement: ({ body }) => needs(type, action, body[field]),
  }
}

export function principalFromHeader(rootKeys: RootKeyService, header: string | null): Principal {
  if (header === null || header.trim() === '') {
    throw unauthorized("The Authorization header is missing. Send your root key as 'Authorization: Bearer <root key>'.")
  }
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) {
    throw unauthorized("The Authorization header is malformed. It must have the form 'Bearer <root key>'.")
  }
  const result = rootKeys.authenticate(match[1]!)
  if (result === 'invalid') throw unauthorized('The provided root key is invalid or has been revoked')
  if (result === 'expired') throw unauthorized('The provided root key has expired')
  return result
}

export function denied(missing: string[]): never {
  throw forbidden(`Your key does not have the required ${describeAlternatives(missing)} permission`)
}

/** Throws 403 naming the first unmet part of `requirement`. */
export function enforce(auth: AuthContext, requirement: Requirement): void {
  const missing = unmet(auth.permissions, requirement)
  if (missing) denied(missing)
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

export function authPlugin(rootKeys: RootKeyService) {
  return (
    new Elysia({ name: 'auth', seed: ++instances })
      // Before body validation: no valid root key, no further work (401 before 400).
      .derive({ as: 'scoped' }, ({ request, body }) => {
        const principal = principalFromHeader(rootKeys, request.headers.get('authorization'))
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
          resolve({ principal, body }) {
            if (!principal) throw unauthorized('The request was not authenticated.')
            const auth: AuthContext = {
              workspaceId: principal.workspaceId,
              rootKeyId: principal.rootKeyId,
              permissions: principal.permissions,
            }
            enforce(auth, spec.requirement({ body, auth }))
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
