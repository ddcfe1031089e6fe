// Authentication and authorization of management calls.
//
//   1. the `permission` macro's parse step turns `Authorization: Bearer
//      <root key>` into a principal, or ends the request with 401 before a
//      byte of the body is read (a client without a key costs nothing), and
//      only then reads the body (src/http/body.ts); the derive step hands the
//      principal on (a request that skipped the parse step authenticates in
//      the resolve step instead);
//   2. the `permission` macro (after validation) checks the route's
//      requirement against the principal's grants (403) and only then hands
//      the handler `auth`, the one way a route gets a workspace to work in.
// A route without the macro has no `auth` and is refused at start-up by
// assertRoutesProtected (fail closed).
import { Elysia } from 'elysia'
import { DEFAULT_TUNABLES } from '../config'
import { ApiError, unauthorized } from '../errors'
import type { Principal, RootKeyService } from '../modules/rootkeys/service'
import { enforce, type AuthContext, type PermissionSpec } from '../rbac/requirements'
import { type BodyLimits, readJsonBody } from './body'
import { errorAnswer } from './error-handler'
import { requestIdOf, requestState } from './request-context'

// The four refusals, made once: an ApiError carries no request state (its body is made per request), and
// building one per refused request was a tenth of a refusal's cost.
const MISSING = unauthorized("The Authorization header is missing. Send your root key as 'Authorization: Bearer <root key>'.")
const MALFORMED = unauthorized("The Authorization header is malformed. It must have the form 'Bearer <root key>'.")
const INVALID = unauthorized('The provided root key is invalid or has been revoked')
const EXPIRED = unauthorized('The provided root key has expired')

export function principalFromHeader(rootKeys: Pick<RootKeyService, 'authenticate'>, header: string | null): Principal | Promise<Principal> {
  if (header === null || header.trim() === '') throw MISSING
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) throw MALFORMED
  const result = rootKeys.authenticate(match[1]!)
  return result instanceof Promise ? result.then(principalOrThrow) : principalOrThrow(result)
}

function principalOrThrow(result: Principal | 'invalid' | 'expired'): Principal {
  if (result === 'invalid') throw INVALID
  if (result === 'expired') throw EXPIRED
  return result
}

let instances = 0

/** `limits`: the body tunables of src/config.ts (its defaults when not given). */
export function authPlugin(rootKeys: Pick<RootKeyService, 'authenticate'>, limits: BodyLimits = DEFAULT_TUNABLES) {
  // Principals found by the parse step, handed to the derive step of the same request.
  const authenticated = new WeakMap<Request, Principal>()
  const remember = (request: Request, principal: Principal): Principal => {
    requestState(request).rootKeyId = principal.rootKeyId
    authenticated.set(request, principal)
    return principal
  }
  // The hooks below return plain values when they can (a cached root key, a synchronous
  // requirement) and promises only when they must: each async step of a request costs.
  const authenticate = (request: Request): Principal | Promise<Principal> => {
    const principal = principalFromHeader(rootKeys, request.headers.get('authorization'))
    return principal instanceof Promise ? principal.then((p) => remember(request, p)) : remember(request, principal)
  }
  // A refused key is answered by the derive step with the error it was refused with, not thrown
  // from the parse step: a throw there costs an error object with its stack, the unwinding and
  // Elysia's error path, and a refusal must cost us less than the request cost its sender.
  const refusals = new WeakMap<Request, ApiError>()
  const refuse = (request: Request, error: unknown): null => {
    if (!(error instanceof ApiError)) throw error
    refusals.set(request, error)
    return null
  }
  return (
    new Elysia({ name: 'auth', seed: ++instances })
      // The parse step has authenticated the request (401 before 400); the derive only hands the
      // principal on, synchronously: Elysia does not await a derive it does not see as async.
      .derive({ as: 'scoped' }, ({ request, set, status }) => {
        const refusal = refusals.get(request)
        if (refusal) return status(refusal.status as 401, errorAnswer(request, refusal, set.headers))
        set.headers['x-request-id'] = requestIdOf(request)
        return { principal: authenticated.get(request) }
      })
      .macro({
        permission: (spec: PermissionSpec) => {
          // The route's requirement against the principal's grants (403): a plain value when the
          // requirement is synchronous, else a promise (Elysia awaits every resolve step).
          const authorize = (principal: Principal, body: unknown): { auth: AuthContext } => {
            const auth: AuthContext = { workspaceId: principal.workspaceId, rootKeyId: principal.rootKeyId, permissions: principal.permissions }
            const requirement = spec.requirement({ body, auth })
            if (!(requirement instanceof Promise)) {
              enforce(auth, requirement)
              return { auth }
            }
            return requirement.then((r) => {
              enforce(auth, r)
              return { auth }
            }) as unknown as { auth: AuthContext }
          }
          return {
            // Authenticate, then read the body (JSON whatever the Content-Type). Errors thrown
            // here reach the error handler as a PARSE error whose cause is the ApiError. The
            // 'json' after it never runs (the reader always returns a value or throws); it
            // tells the OpenAPI document that bodies are application/json.
            parse: [
              ({ request }: { request: Request }) => {
                let principal: Principal | Promise<Principal>
                try {
                  principal = authenticate(request)
                } catch (error) {
                  return refuse(request, error)
                }
                if (!(principal instanceof Promise)) return readJsonBody(request, limits)
                return principal.then(
                  () => readJsonBody(request, limits),
                  (error) => refuse(request, error),
                )
              },
              'json',
            ] as never,
            // After body validation. A request that reached here unauthenticated (no parse step ran) authenticates now.
            resolve({ principal, body, request }) {
              const found = principal ?? authenticate(request)
              return found instanceof Promise ? (found.then((p) => authorize(p, body)) as unknown as { auth: AuthContext }) : authorize(found, body)
            },
            detail: {
              security: [{ rootKey: [] }],
              'x-required-permissions': spec.describe,
            } as Record<string, unknown>,
          }
        },
      })
  )
}

export type AuthPlugin = ReturnType<typeof authPlugin>

/** Routes reachable without a root key. Everything else must use the `permission` macro. */
export const PUBLIC_ROUTES = new Set(['GET /v2/liveness', 'GET /v1/liveness'])

type RouteInfo = { method: string; path: string; hooks?: unknown }

/** Whether a route uses the permission macro (which documents its requirement). */
export function isProtected(route: RouteInfo): boolean {
  const detail = (route.hooks as { detail?: Record<string, unknown> } | undefined)?.detail
  return !!detail && typeof detail['x-required-permissions'] === 'string'
}

/** Throws when an API route lacks the permission macro, so that a forgotten check cannot ship. */
export function assertRoutesProtected(routes: RouteInfo[]): void {
  const unprotected = routes.filter((r) => /^\/v\d+\//.test(r.path) && !PUBLIC_ROUTES.has(`${r.method} ${r.path}`) && !isProtected(r))
  if (unprotected.length > 0) {
    throw new Error(`Routes without a permission check: ${unprotected.map((r) => `${r.method} ${r.path}`).join(', ')}`)
  }
}
