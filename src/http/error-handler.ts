// Turns every failure into the Unkey error envelope: ApiError as it is, TypeBox
// validation failures as a 400 with one `errors[]` entry per field, unknown
// routes as a 404, anything else as a 500 that leaks nothing internal.
import { Elysia } from 'elysia'
import { ApiError, badRequest, bodyUnreadable, internalError, notFound, type FieldError } from '../errors'
import { bodyLeftUnread } from './body'
import { requestState } from './request-context'

interface ValidationIssue {
  path?: string
  message?: string
  summary?: string
  schema?: { description?: string }
}

/** The SDK types errors of some routes only when they come as problem+json. */
const PROBLEM_JSON_PATHS = new Set(['/v2/identities.deleteIdentity', '/v1/identities.deleteIdentity'])

function contentTypeFor(request: Request, status: number): string {
  const accept = request.headers.get('accept') ?? ''
  const problem =
    status === 429 ||
    PROBLEM_JSON_PATHS.has(requestState(request).path) ||
    (accept.includes('application/problem+json') && !accept.includes('application/json'))
  return problem ? 'application/problem+json' : 'application/json'
}

/**
 * The connection is closed after 408 and 413, and after an answer that leaves
 * unread a body the runtime would otherwise go on reading and discarding for
 * as long as the client sends it (`bodyLeftUnread`: a small declared body is
 * skipped by the runtime, and the connection kept).
 *
 * Returns the error envelope's text, with its status recorded and its headers
 * put in `headers`: onError answers through Elysia's `set` with this text, so
 * that Elysia builds the one Response (a Response returned from onError is
 * copied into a second one to merge `set` into it).
 */
export function errorAnswer(request: Request, error: ApiError, headers: Record<string, unknown>): string {
  const state = requestState(request)
  state.status = error.status
  headers['content-type'] = contentTypeFor(request, error.status)
  headers['x-request-id'] = state.id
  if (error.status === 408 || error.status === 413 || bodyLeftUnread(request)) headers.connection = 'close'
  return error.bodyText(state.id)
}

/** The error envelope as a whole Response, for a route answered outside Elysia. */
export function errorResponse(request: Request, error: ApiError): Response {
  const headers: Record<string, string> = {}
  const text = errorAnswer(request, error, headers)
  return new Response(text, { status: error.status, headers })
}

function fieldLocation(on: string, path: string | undefined): string {
  const segments = (path ?? '').split('/').filter(Boolean)
  return [on, ...segments].join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')
}

/** Longest validation message echoed back: Elysia's quote the value found, which may be megabytes of the caller's body. */
const MAX_MESSAGE_CHARS = 200

function clipped(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message
  const code = message.charCodeAt(MAX_MESSAGE_CHARS - 1)
  // Never end on the first half of a surrogate pair.
  const end = code >= 0xd800 && code <= 0xdbff ? MAX_MESSAGE_CHARS - 1 : MAX_MESSAGE_CHARS
  return `${message.slice(0, end)}…`
}

function validationError(request: Request, on: string, issues: ValidationIssue[]): ApiError {
  const seen = new Set<string>()
  const errors: FieldError[] = []
  for (const issue of issues) {
    const location = fieldLocation(on, issue.path)
    const message = clipped(issue.summary || issue.message || 'is invalid')
    // One entry per field: TypeBox may report several failures for one value.
    if (seen.has(location)) continue
    seen.add(location)
    errors.push({ location, message })
  }
  if (errors.length === 0) errors.push({ location: on, message: 'does not match the expected schema' })
  const path = new URL(request.url).pathname
  const first = errors[0]!
  return badRequest(`${request.method} request ${on} for '${path}' failed to validate: ${first.location}: ${first.message}`, errors)
}

/**
 * `authenticate` runs before a body parse error is reported, so that a request
 * with neither a valid key nor a valid body gets 401 like every other route
 * (routes with the permission macro authenticate in their parse step already).
 */
export function errorHandler(logError: (requestId: string, error: unknown) => void, authenticate: (request: Request) => Promise<void>) {
  const answer = (request: Request, set: { status?: unknown; headers: Record<string, unknown> }, error: ApiError) => {
    set.status = error.status
    return errorAnswer(request, error, set.headers)
  }
  return new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, async ({ request, set, code, error }) => {
    if (error instanceof ApiError) return answer(request, set, error)
    if (code === 'VALIDATION' && (error as { type?: string }).type !== 'response') {
      const v = error as unknown as { type?: string; all?: ValidationIssue[] }
      const on = v.type === 'body' || !v.type ? 'body' : v.type
      return answer(request, set, validationError(request, on, v.all ?? []))
    }
    if (code === 'NOT_FOUND') {
      return answer(request, set, notFound('route', `There is no route ${request.method} ${new URL(request.url).pathname}.`))
    }
    if (code === 'PARSE') {
      // The permission macro's parse step authenticates, then reads the body (src/http/body.ts):
      // what it refuses (401, 408, 413, 400) arrives here as the cause.
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof ApiError) return answer(request, set, cause)
      try {
        await authenticate(request)
      } catch (authError) {
        if (authError instanceof ApiError) return answer(request, set, authError)
        throw authError
      }
      return answer(request, set, bodyUnreadable('The request body is missing or is not valid JSON.'))
    }
    // Anything else is our fault, a response that broke its own schema included.
    logError(requestState(request).id, error)
    return answer(request, set, internalError())
  })
}
