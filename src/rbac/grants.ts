// Root-key permissions: the catalogue of grantable strings, their validation,
// and how a route's requirement is matched against a key's grants.
//
// A grant is `*` (everything) or `resourceType.resourceId.action`, where a
// resourceId of `*` covers every resource of that type.

export const ROOT_PERMISSION_ACTIONS = {
  api: [
    'read_api',
    'create_api',
    'delete_api',
    'update_api',
    'create_key',
    'update_key',
    'delete_key',
    'encrypt_key',
    'decrypt_key',
    'read_key',
    'verify_key',
    'read_analytics',
  ],
  ratelimit: [
    'limit',
    'read_analytics',
    'create_namespace',
    'read_namespace',
    'update_namespace',
    'delete_namespace',
    'set_override',
    'read_override',
    'delete_override',
  ],
  rbac: [
    'create_permission',
    'update_permission',
    'delete_permission',
    'read_permission',
    'create_role',
    'update_role',
    'delete_role',
    'read_role',
    'add_permission_to_key',
    'remove_permission_from_key',
    'add_role_to_key',
    'remove_role_from_key',
    'add_permission_to_role',
    'remove_permission_from_role',
  ],
  identity: ['create_identity', 'read_identity', 'update_identity', 'delete_identity'],
  audit: ['read_logs'],
  root_key: ['create_root_key', 'read_root_key', 'delete_root_key'],
} as const

export type ResourceType = keyof typeof ROOT_PERMISSION_ACTIONS

/** Actions that only make sense across a whole resource type. */
const WILDCARD_ONLY: Record<string, true> = { 'api.create_api': true, 'ratelimit.create_namespace': true, 'audit.read_logs': true }
/** Resource types granted only as a whole: their resources have no ids a grant could name. */
const WILDCARD_ONLY_TYPES: Record<string, true> = { rbac: true, root_key: true }

/** True when `type.<id>.action` is not grantable, only `type.*.action` (e.g. for a permission picker). */
export function wildcardOnly(type: string, action: string): boolean {
  return WILDCARD_ONLY_TYPES[type] === true || WILDCARD_ONLY[`${type}.${action}`] === true
}

const RESOURCE_ID = /^[A-Za-z0-9_\-:]{1,255}$/

/** Returns null when `permission` may be granted, otherwise what is wrong with it. */
export function permissionProblem(permission: string): string | null {
  if (permission === '*') return null
  const parts = permission.split('.')
  if (parts.length !== 3) {
    return `'${permission}' must be '*' or have three dot-separated parts: resourceType.resourceId.action`
  }
  const [type, id, action] = parts as [string, string, string]
  const actions = (ROOT_PERMISSION_ACTIONS as Record<string, readonly string[]>)[type]
  if (!actions) {
    return `'${permission}': unknown resource type '${type}' (expected one of ${Object.keys(ROOT_PERMISSION_ACTIONS).join(', ')})`
  }
  if (id !== '*' && !RESOURCE_ID.test(id)) {
    return `'${permission}': resource id '${id}' must be '*' or an id made of letters, digits, '_', '-' or ':'`
  }
  if (!actions.includes(action)) {
    return `'${permission}': unknown action '${action}' for resource type '${type}' (expected one of ${actions.join(', ')})`
  }
  if (id !== '*' && wildcardOnly(type, action)) {
    return `'${permission}': '${action}' can only be granted on every resource ('${type}.*.${action}')`
  }
  return null
}

/**
 * A route's need: at least one of `anyOf`; every requirement in `allOf`; or
 * (`anyResource`) the action on at least one resource of a type, used when the
 * target does not exist, so that a lookup can answer 404 without a grant check
 * against an id nobody can know.
 */
export type Requirement = { anyOf: string[] } | { allOf: Requirement[] } | { anyResource: { type: ResourceType; action: string } }

/** `type.*.action`, or either that or `type.id.action` when an id is known. */
export function needs(type: ResourceType, action: string, id?: string): Requirement {
  const wildcard = `${type}.*.${action}`
  if (!id || id === '*') return { anyOf: [wildcard] }
  return { anyOf: [wildcard, `${type}.${id}.${action}`] }
}

export function allOf(...requirements: Requirement[]): Requirement {
  return { allOf: requirements }
}

/** True when `grants` covers the single permission `required`. */
export function isGranted(grants: ReadonlySet<string>, required: string): boolean {
  if (grants.has('*') || grants.has(required)) return true
  const [type, , action] = required.split('.')
  return grants.has(`${type}.*.${action}`)
}

/**
 * The permissions of `wanted` that `grants` does not cover, in order: what a
 * root key holding `grants` may not hand to another key. `*` is covered only
 * by `*`; `type.*.action` by `*` or itself; `type.id.action` also by
 * `type.*.action`.
 */
export function notCovered(grants: ReadonlySet<string>, wanted: readonly string[]): string[] {
  return wanted.filter((p) => !(grants.has('*') || (p !== '*' && isGranted(grants, p))))
}

/** True when `grants` holds `action` for at least one resource of `type`. */
export function holdsActionOnAnyResource(grants: ReadonlySet<string>, type: ResourceType, action: string): boolean {
  if (grants.has('*')) return true
  for (const g of grants) {
    const parts = g.split('.')
    if (parts.length === 3 && parts[0] === type && parts[2] === action) return true
  }
  return false
}

/**
 * The ids of the resources of `type` on which the grants allow `action` one by
 * one (`type.<id>.action`), or undefined when they allow it on all of them. A
 * listing considers these alone, so that neither its page nor its search can
 * reveal anything of the others.
 */
export function resourcesGranted(grants: ReadonlySet<string>, type: ResourceType, action: string): string[] | undefined {
  if (isGranted(grants, `${type}.*.${action}`)) return undefined
  const ids: string[] = []
  for (const grant of grants) {
    const [t, id, a] = grant.split('.')
    if (t === type && a === action && id) ids.push(id)
  }
  return ids
}

/** The first unmet part of `requirement` as the alternatives that would satisfy it, or null. */
export function unmet(grants: ReadonlySet<string>, requirement: Requirement): string[] | null {
  if ('anyResource' in requirement) {
    const { type, action } = requirement.anyResource
    return holdsActionOnAnyResource(grants, type, action) ? null : [`${type}.*.${action}`]
  }
  if ('anyOf' in requirement) return requirement.anyOf.some((p) => isGranted(grants, p)) ? null : requirement.anyOf
  for (const part of requirement.allOf) {
    const missing = unmet(grants, part)
    if (missing) return missing
  }
  return null
}

/** `'a' or 'b'`, as used in the 403 detail. */
export function describeAlternatives(alternatives: string[]): string {
  return alternatives.map((p) => `'${p}'`).join(' or ')
}
