// `meta`: the caller's own JSON object, stored with keys and identities and
// returned on verification. Checked before it is stored: at most 1 MB as JSON
// and at most 32 levels deep (deeper nesting would overflow JSON.stringify's
// stack, and no sane use needs it).
import { badRequest } from './errors'

export const MAX_META_BYTES = 1024 * 1024
export const MAX_META_DEPTH = 32

/** Nesting depth of a JSON value, without recursion. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (depth > limit) return true
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}

/** The JSON text to store for `meta`; 400 naming `location` when it is too deep or too large. */
export function serializeMeta(meta: Record<string, unknown>, location = 'body.meta'): string {
  if (depthExceeds(meta, MAX_META_DEPTH)) {
    throw badRequest(`Metadata is nested too deeply: at most ${MAX_META_DEPTH} levels are allowed.`, [
      { location, message: `nested deeper than ${MAX_META_DEPTH} levels` },
    ])
  }
  const json = JSON.stringify(meta)
  const bytes = Buffer.byteLength(json, 'utf8')
  if (bytes > MAX_META_BYTES) {
    throw badRequest(`Metadata is too large: it takes ${bytes} bytes as JSON, at most ${MAX_META_BYTES} are allowed.`, [
      { location, message: `larger than ${MAX_META_BYTES} bytes as JSON`, fix: 'Keep large data elsewhere and store a reference in meta.' },
    ])
  }
  return json
}
