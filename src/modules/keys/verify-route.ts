// keys.verifyKey answered without Elysia's request pipeline: the one route
// that sits in front of every request of our users' customers. Elysia's
// composed handler (context object, derive, parse, transform, resolve, six
// response validators, header merging) cost about as much as the verification
// itself; this handler does the same steps in a straight line for the common
// request, with the same functions: `principalFromHeader`, `readBodyText` and
// `parseJsonText`, the route's body schema, `enforce`, the verifier, the
// envelope and the response schema.
//
// Anything off that path is answered by the Elysia route itself (registered
// as before, and documented by it), so that every refusal keeps its exact
// status, message and headers: a root key that is missing, malformed,
// unknown or not cached yet (the body still unread), and a body that is not
// JSON, fails the schema or lacks the permission (the Elysia route then reads
// a copy of the text already read). Only what can no longer be handed on is
// answered here, through the same error envelope: a body that is too large or
// too slow, and an error of the verification itself, which must not run twice.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ApiError, internalError } from '../../errors'
import { principalFromHeader } from '../../http/auth'
import { type BodyLimits, parseJsonText, readBodyText } from '../../http/body'
import { errorResponse } from '../../http/error-handler'
import { type Logger, logRequest, ok, requestState } from '../../http/request-context'
import { enforce, type AuthContext, type PermissionSpec } from '../../rbac/requirements'
import type { Principal, RootKeyService } from '../rootkeys/service'
import * as m from './model'
import type { KeyVerifier, VerifyResult } from './verifier'

export interface VerifyRouteDeps {
  rootKeys: Pick<RootKeyService, 'authenticate'>
  verifier: Pick<KeyVerifier, 'verify'>
  permission: PermissionSpec
  limits: BodyLimits
  log: Logger | null
  logError: (requestId: string, error: unknown) => void
  /** The Elysia route: answers every request this handler does not. */
  elysia: (request: Request) => Promise<Response>
}

const body = TypeCompiler.Compile(m.VerifyKeyBody)
const response = TypeCompiler.Compile(m.VerifyKeyResponse)
const HEADERS = 'application/json;charset=utf-8'

export function verifyKeyRoute(deps: VerifyRouteDeps): (request: Request) => Response | Promise<Response> {
  const { verifier, limits, log } = deps

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

  const respond = (request: Request, id: string, data: VerifyResult): Response => {
    const payload = ok(request, data)
    // As Elysia's response validation: a reply that breaks the documented shape is our error.
    if (!response.Check(payload))
      return fail(request, new Error(`keys.verifyKey answered outside its schema: ${JSON.stringify(response.Errors(payload).First())}`))
    return answer(request, 200, new Response(JSON.stringify(payload), { headers: { 'content-type': HEADERS, 'x-request-id': id } }))
  }

  const verify = (request: Request, principal: Principal, text: string): Response | Promise<Response> => {
    let input: unknown
    try {
      input = parseJsonText(text, limits.maxJsonDepth)
    } catch {
      return retold(request, text)
    }
    if (!body.Check(input)) return retold(request, text)
    const auth: AuthContext = { workspaceId: principal.workspaceId, rootKeyId: principal.rootKeyId, permissions: principal.permissions }
    try {
      const requirement = deps.permission.requirement({ body: input, auth })
      if (requirement instanceof Promise) return retold(request, text)
      enforce(auth, requirement)
    } catch {
      return retold(request, text)
    }
    const id = requestState(request).id
    try {
      const result = verifier.verify(auth, input, id)
      if (!(result instanceof Promise)) return respond(request, id, result)
      return result.then(
        (data) => respond(request, id, data),
        (error) => fail(request, error),
      )
    } catch (error) {
      return fail(request, error)
    }
  }

  return (request) => {
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
    requestState(request).rootKeyId = principal.rootKeyId
    const known = principal
    return readBodyText(request, limits).then(
      (text) => verify(request, known, text),
      (error) => fail(request, error),
    )
  }
}
