// Hot routes: the few RPCs that sit in front of every request of our users'
// customers (keys.verifyKey, ratelimit.limit), answered without Elysia's
// request pipeline. Elysia's composed handler (context object, derive, parse,
// transform, resolve, response validators, header merging) cost about as much
// as the verification itself; a hot route does the same steps in a straight
// line for the common request, with the same functions: `principalFromHeader`,
// `readBodyText` and `parseJsonText`, the route's compiled body schema, its
// permission requirement and `enforce`, the route's work, its compiled
// response schema, the envelope and the request log.
//
// Anything off that path is answered by the Elysia route itself (registered
// as before, and documented by it), so that every refusal keeps its exact
// status, message and headers: a root key that is missing, malformed,
// unknown or not cached yet (the body still unread), and a body that is not
// JSON, fails the schema or lacks the permission (the Elysia route then reads
// a copy of the text already read). Only what can no longer be handed on is
// answered here, through the same error envelope: a body that is too large or
// too slow, and an error of the route's work, which must not run twice.
import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { ApiError, internalError } from '../errors'
import type { Principal, RootKeyService } from '../modules/rootkeys/service'
import { type AuthContext, enforce, type PermissionSpec } from '../rbac/requirements'
import { principalFromHeader } from './auth'
import type { PeerSource } from './audit-context'
import { type BodyLimits, parseJsonText, readBodyText } from './body'
import { errorResponse } from './error-handler'
import { type Logger, logRequest, ok, requestState, requestStateAt } from './request-context'

/** One hot route, declared by its module beside its Elysia route (same schemas, same requirement). */
export interface HotRoute<Body = any, Data = unknown> {
  body: TSchema
  /** The whole `{ meta, data }` envelope, as the Elysia route's 200 response. */
  response: TSchema
  permission: PermissionSpec<Body>
  /** The route's work: the `data` of the answer. `server` is the listener's (for the audit log's peer address). */
  run(input: { auth: AuthContext; body: Body; request: Request; server: PeerSource | null }): Data | Promise<Data>
}

export interface HotRouteDeps {
  rootKeys: Pick<RootKeyService, 'authenticate'>
  limits: BodyLimits
  log: Logger | null
  logError: (requestId: string, error: unknown) => void
  /** The listener's server when the runtime does not pass one (Deno, app.handle). */
  server: () => PeerSource | null
  /** The Elysia app: answers every request a hot route does not. */
  elysia: (request: Request) => Promise<Response>
}

export function hotRoute<Body, Data>(route: HotRoute<Body, Data>, deps: HotRouteDeps) {
  const { limits, log } = deps
  // Compiled on the first request, not at start-up (some 10 ms for the two hot routes).
  let compiled: { body: TypeCheck<TSchema>; response: TypeCheck<TSchema> } | null = null
  const schemas = () => (compiled ??= { body: TypeCompiler.Compile(route.body), response: TypeCompiler.Compile(route.response) })

  const answer = (request: Request, status: number, res: Response): Response => {
    requestState(request).status = status
    if (log) logRequest(log, request, status)
    return res
  }

  const fail = (request: Request, error: unknown): Response => {
    if (error instanceof ApiError) return answer(request, error.status, errorResponse(request, error))
    // As Elysia's error handler: ours to fix, and nothing of it shown.
    deps.logError(requestState(request).id, error)
    return answer(request, 500, errorResponse(request, internalError()))
  }

  /** The Elysia route, on a fresh request carrying the text already read. */
  const retold = (request: Request, text: string) => deps.elysia(new Request(request.url, { method: request.method, headers: request.headers, body: text }))

  const respond = (request: Request, data: Data): Response => {
    const payload = ok(request, data)
    // As Elysia's response validation: a reply that breaks the documented shape is our error.
    const { response } = schemas()
    if (!response.Check(payload))
      return fail(request, new Error(`${requestState(request).path} answered outside its schema: ${JSON.stringify(response.Errors(payload).First())}`))
    // Response.json: the content type each runtime gives it, as Elysia's answers get. The request id
    // is set on its headers afterwards: a headers object in the init cost twice as much.
    const res = Response.json(payload)
    res.headers.set('x-request-id', payload.meta.requestId)
    return answer(request, 200, res)
  }

  const work = (request: Request, auth: AuthContext, input: Body, server: PeerSource | null): Response | Promise<Response> => {
    try {
      const data = route.run({ auth, body: input, request, server })
      if (!(data instanceof Promise)) return respond(request, data)
      return data.then(
        (d) => respond(request, d),
        (error) => fail(request, error),
      )
    } catch (error) {
      return fail(request, error)
    }
  }

  const handle = (request: Request, principal: Principal, text: string, server: PeerSource | null): Response | Promise<Response> => {
    let input: unknown
    try {
      input = parseJsonText(text, limits.maxJsonDepth)
    } catch {
      return retold(request, text)
    }
    if (!schemas().body.Check(input)) return retold(request, text)
    // The principal is the AuthContext (the same three fields, never changed), as the Elysia route's `auth` holds them.
    const auth: AuthContext = principal
    let requirement: ReturnType<typeof route.permission.requirement>
    try {
      requirement = route.permission.requirement({ body: input as Body, auth })
      if (!(requirement instanceof Promise)) {
        enforce(auth, requirement)
        return work(request, auth, input as Body, server)
      }
    } catch {
      return retold(request, text)
    }
    return requirement.then(
      (r) => {
        try {
          enforce(auth, r)
        } catch {
          return retold(request, text)
        }
        return work(request, auth, input as Body, server)
      },
      () => retold(request, text),
    )
  }

  // One handler per path it is registered for, which is thus every request's path.
  return (path: string) =>
    (request: Request, server?: PeerSource): Response | Promise<Response> => {
      const state = requestStateAt(request, path)
      let principal: Principal | Promise<Principal>
      try {
        principal = principalFromHeader(deps.rootKeys, request.headers.get('authorization'))
      } catch {
        return deps.elysia(request)
      }
      // A root key not cached yet: the Elysia route looks it up again (and reports it), this lookup fills the cache.
      if (principal instanceof Promise) {
        principal.catch(() => {})
        return deps.elysia(request)
      }
      state.rootKeyId = principal.rootKeyId
      const known = principal
      return readBodyText(request, limits).then(
        (text) => handle(request, known, text, server ?? deps.server()),
        (error) => fail(request, error),
      )
    }
}

/**
 * Every other protected RPC: a request whose root key is missing, malformed or
 * refused is answered here with its 401, as the Elysia route would answer it
 * (its body unread: see `bodyLeftUnread`); the rest goes on to Elysia. A
 * client without a valid key must cost less than one with one.
 */
export function refusingRoute(deps: Pick<HotRouteDeps, 'rootKeys' | 'log' | 'elysia'>) {
  const refuse = (request: Request, error: ApiError): Response => {
    const res = errorResponse(request, error)
    if (deps.log) logRequest(deps.log, request, error.status)
    return res
  }
  return (path: string) =>
    (request: Request): Response | Promise<Response> => {
      requestStateAt(request, path)
      let principal: Principal | Promise<Principal>
      try {
        principal = principalFromHeader(deps.rootKeys, request.headers.get('authorization'))
      } catch (error) {
        if (error instanceof ApiError) return refuse(request, error)
        throw error
      }
      if (principal instanceof Promise) principal.catch(() => {})
      return deps.elysia(request)
    }
}
