// What latch shows of a key's plaintext: `start`, the prefix and the first
// four characters of the secret, never more; and how the audit log names a
// key: by id and name only.
const PREFIX = /^[a-zA-Z0-9]{1,16}$/

/**
 * `prefix_` + 4 characters, or the first 4 characters when the key has no
 * prefix, for a key whose plaintext latch did not generate (migrated keys).
 * Only a short alphanumeric part before the first `_` counts as a prefix, so
 * that `start` never holds more of the secret than 4 characters.
 */
export function startOf(key: string): string {
  const underscore = key.indexOf('_')
  return underscore > 0 && PREFIX.test(key.slice(0, underscore)) ? key.slice(0, underscore + 5) : key.slice(0, 4)
}

/** The prefix a key was created with, read back from its `start` (which ends with 4 characters of the secret). */
export function prefixOf(start: string): string | undefined {
  const prefix = start.length > 5 && start[start.length - 5] === '_' ? start.slice(0, -5) : undefined
  return prefix && /^[a-zA-Z0-9_]{1,16}$/.test(prefix) ? prefix : undefined
}

/** A key as an audit event names it: never its hash, its start or any other part of the key itself. */
export const keyResource = (key: { id: string; name?: string | null }) => (key.name ? { type: 'key', id: key.id, name: key.name } : { type: 'key', id: key.id })
