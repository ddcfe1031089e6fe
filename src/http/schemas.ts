// Envelope schemas shared by every module's model, declared once.
import { t, type TSchema } from 'elysia'
import { Type, type IntegerOptions } from '@sinclair/typebox'

/**
 * A JSON integer. Elysia's t.Integer also accepts numeric strings ("5"); the
 * upstream API does not, so this is TypeBox's plain integer. Capped at 2^53-1
 * unless told otherwise: larger numbers are not exact in JSON or JavaScript.
 */
export const Int = (options: IntegerOptions = {}) => Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...options })

export const Meta = t.Object({ requestId: t.String({ description: 'Unique id of this request (also in the X-Request-Id header).' }) })

/** The caller's own `meta` JSON object, kept with keys and identities (not the envelope's `meta` above). */
export const MetaObject = t.Object({}, { additionalProperties: true, maxProperties: 100, description: 'Any JSON object; returned on verification.' })

export const Pagination = t.Object({
  cursor: t.Optional(t.String({ description: 'Pass as `cursor` to fetch the next page; absent on the last page.' })),
  hasMore: t.Boolean(),
})

export const envelope = <T extends TSchema>(data: T) => t.Object({ meta: Meta, data })

export const paginated = <T extends TSchema>(item: T) => t.Object({ meta: Meta, data: t.Array(item), pagination: Pagination })

export const EmptyData = t.Object({}, { description: 'Empty object' })
export const EmptyEnvelope = envelope(EmptyData)

const ValidationErrorItem = t.Object({
  location: t.String(),
  message: t.String(),
  fix: t.Optional(t.String()),
})

const errorBody = (status: number, withErrors: boolean, description: string | undefined) =>
  t.Object(
    {
      meta: Meta,
      error: t.Object({
        title: t.String(),
        detail: t.String(),
        status: Int({ examples: [status] }),
        type: t.String(),
        ...(withErrors ? { errors: t.Array(ValidationErrorItem) } : {}),
      }),
    },
    description === undefined ? {} : { description },
  )

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `error.errors` names each failing field.',
  401: 'The Authorization header is missing or malformed, or the root key is unknown, revoked or expired.',
  403: 'The root key lacks a permission this call needs; the detail names it.',
  404: 'The resource does not exist in the caller’s workspace.',
  409: 'The resource already exists.',
  410: 'The resource has been deleted.',
  412: 'A precondition for this call is not met.',
  422: 'The request is valid but exceeds a resource limit; `error.type` says which.',
  429: 'Too many requests.',
  500: 'An unexpected error; the request id identifies it in the logs.',
  503: 'A store latch depends on cannot answer now; try again shortly.',
}

/** Response schemas for a route: 200 plus the given error statuses (400/401/403/500 always). */
/** One schema per error status, shared by every route (building them per route was a good part of start-up). */
const errorSchemas = new Map<number, TSchema>()
const errorSchema = (status: number): TSchema => {
  let schema = errorSchemas.get(status)
  if (!schema) {
    schema = errorBody(status, status === 400, ERROR_DESCRIPTIONS[status])
    errorSchemas.set(status, schema)
  }
  return schema
}

export function responses<T extends TSchema>(success: T, ...extra: number[]) {
  const out: Record<number, TSchema> = { 200: success }
  for (const status of [400, 401, 403, ...extra, 500]) out[status] = errorSchema(status)
  return out as { 200: T } & Record<number, TSchema>
}

/** Shorthand: a strict request body object (unknown fields are a 400). */
export const body = <P extends Parameters<typeof t.Object>[0]>(properties: P, description?: string) =>
  t.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) })
