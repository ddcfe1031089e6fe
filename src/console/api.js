// The console's only way to the server: the root key of this tab's session
// (sessionStorage: gone with the tab, never in lasting storage, a cookie or a
// URL) and `call`, which POSTs one /v2 RPC with it and turns an error
// envelope into an ApiError.

const STORAGE_KEY = 'latch.console.rootKey'

export const session = {
  /** @returns {string | null} */
  get key() {
    return sessionStorage.getItem(STORAGE_KEY)
  },
  /** @param {string} key */
  signIn(key) {
    sessionStorage.setItem(STORAGE_KEY, key)
  },
  signOut() {
    sessionStorage.removeItem(STORAGE_KEY)
  },
}

/** @typedef {{ location: string, message: string, fix?: string }} FieldError */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {FieldError[]} errors
   * @param {string} [requestId]
   */
  constructor(status, detail, errors, requestId) {
    super(detail)
    this.status = status
    this.detail = detail
    this.errors = errors
    this.requestId = requestId
  }

  /** The permission a 403 names (`'api.*.create_api'`, or `'a' or 'b'`), else null. */
  get permission() {
    if (this.status !== 403) return null
    const named = /required (.+) permission/.exec(this.detail)
    return named ? named[1] : null
  }
}

/** Called when the server refuses the key (401): the page signs out. */
let onUnauthorized = (/** @type {ApiError} */ _error) => {}

/** @param {(error: ApiError) => void} handler */
export function whenUnauthorized(handler) {
  onUnauthorized = handler
}

/**
 * POSTs `body` to /v2/<route> with the session's root key.
 * @param {string} route e.g. 'apis.createApi'
 * @param {object} [body]
 * @param {string} [key] a key to use instead of the session's (sign-in)
 * @returns {Promise<{ data: any, pagination?: { cursor?: string, hasMore: boolean } }>}
 */
export async function call(route, body = {}, key = session.key ?? '') {
  let response
  try {
    response = await fetch(`/v2/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check that latch is running, then try again.', [])
  }
  const text = await response.text()
  /** @type {any} */
  let parsed = null
  try {
    parsed = JSON.parse(text)
  } catch {
    // Not JSON: reported below with the status.
  }
  if (response.ok && parsed) return { data: parsed.data, pagination: parsed.pagination }
  const error = parsed?.error
  const failure = new ApiError(
    response.status,
    typeof error?.detail === 'string' ? error.detail : `The server answered ${response.status}.`,
    Array.isArray(error?.errors) ? error.errors : [],
    parsed?.meta?.requestId,
  )
  if (response.status === 401 && key === session.key) onUnauthorized(failure)
  throw failure
}

/**
 * Every item of a paginated route, up to `cap` items.
 * @param {string} route
 * @param {object} body
 * @param {number} cap
 * @returns {Promise<{ items: any[], complete: boolean }>}
 */
export async function collect(route, body, cap) {
  /** @type {any[]} */
  const items = []
  let cursor
  for (;;) {
    const page = await call(route, { ...body, limit: 100, ...(cursor ? { cursor } : {}) })
    items.push(...page.data)
    cursor = page.pagination?.cursor
    if (!page.pagination?.hasMore || !cursor) return { items, complete: true }
    if (items.length >= cap) return { items, complete: false }
  }
}

/** @type {Promise<{ permissions: Record<string, string[]>, auditEvents: string[] }> | null} */
let catalogue = null

/** The root-key permission catalogue and the audit event names, as the server knows them. */
export function loadCatalogue() {
  catalogue ??= fetch('/console/catalogue.json').then((r) => r.json())
  return catalogue
}
