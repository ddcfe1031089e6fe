// The one error type of latch. Services throw ApiError (or call the helpers
// below); the HTTP layer renders it into the Unkey error envelope.
const DOCS = 'https://unkey.com/docs/errors/'

export interface FieldError {
  location: string
  message: string
  fix?: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly type: string,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    // An ApiError is an answer, not a fault: capturing a stack trace for it cost about a
    // quarter of a refused request. Faults (any other Error) keep theirs for the log.
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(detail)
    Error.stackTraceLimit = limit
    this.name = 'ApiError'
  }

  toBody(requestId: string) {
    return { meta: { requestId }, error: this.errorObject() }
  }

  /** `JSON.stringify(this.toBody(requestId))`, with the error's own part made once: a refused request pays for its id only. */
  bodyText(requestId: string): string {
    this.#errorJson ??= JSON.stringify(this.errorObject())
    return `{"meta":{"requestId":${JSON.stringify(requestId)}},"error":${this.#errorJson}}`
  }

  #errorJson: string | undefined

  private errorObject() {
    const error: Record<string, unknown> = {
      title: this.title,
      detail: this.detail,
      status: this.status,
      type: this.type,
    }
    if (this.status === 400) error.errors = this.errors ?? []
    return error
  }
}

export type NotFoundKind = 'key' | 'api' | 'identity' | 'permission' | 'role' | 'ratelimit_namespace' | 'ratelimit_override' | 'migration' | 'route'

export type ConflictKind = 'identity' | 'permission' | 'role'

export const badRequest = (detail: string, errors: FieldError[] = []) =>
  new ApiError(400, 'Bad Request', `${DOCS}unkey/application/invalid_input`, detail, errors)

export const bodyUnreadable = (detail: string) =>
  new ApiError(400, 'Bad Request', `${DOCS}user/bad_request/request_body_unreadable`, detail, [
    { location: 'body', message: detail, fix: 'Send a valid JSON document with Content-Type: application/json.' },
  ])

export const permissionsQuerySyntaxError = (detail: string) =>
  new ApiError(400, 'Bad Request', `${DOCS}user/bad_request/permissions_query_syntax_error`, detail, [{ location: 'body.permissions', message: detail }])

export const unauthorized = (detail: string) => new ApiError(401, 'Unauthorized', `${DOCS}unauthorized`, detail)

export const forbidden = (detail: string) => new ApiError(403, 'Forbidden', `${DOCS}forbidden`, detail)

export const notFound = (kind: NotFoundKind, detail: string) => new ApiError(404, 'Not Found', `${DOCS}unkey/data/${kind}_not_found`, detail)

export const conflict = (kind: ConflictKind, detail: string) => new ApiError(409, 'Conflicting Resource', `${DOCS}unkey/data/${kind}_already_exists`, detail)

export const namespaceGone = () => new ApiError(410, 'Resource Gone', `${DOCS}unkey/data/ratelimit_namespace_gone`, 'This namespace has been deleted.')

export const protectedResource = (detail: string) => new ApiError(412, 'Resource is protected', `${DOCS}unkey/application/protected_resource`, detail)

export const preconditionFailed = (detail: string) => new ApiError(412, 'Precondition Failed', `${DOCS}unkey/application/precondition_failed`, detail)

export const payloadTooLarge = (detail: string) => new ApiError(413, 'Request Entity Too Large', `${DOCS}user/bad_request/request_body_too_large`, detail, [])

/** The request (its body) did not arrive within the server's deadline. */
export const requestTimeout = (detail: string) => new ApiError(408, 'Request Timeout', `${DOCS}user/bad_request/request_timeout`, detail, [])

export const tooManyRequests = (detail: string) => new ApiError(429, 'Too Many Requests', `${DOCS}user/too_many_requests/workspace_rate_limited`, detail)

/** The store cannot take the write now (busy beyond the deadline, disk full, file gone): nothing was acknowledged. */
export const serviceUnavailable = (detail: string) => new ApiError(503, 'Service Unavailable', `${DOCS}unkey/application/service_unavailable`, detail)

export const internalError = () =>
  new ApiError(
    500,
    'Internal Server Error',
    `${DOCS}unkey/application/unexpected_error`,
    'Something unexpected went wrong. The error has been logged with this request id.',
  )
