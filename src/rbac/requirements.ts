// What a route requires of the calling root key, as data the `permission`
// macro (src/http/auth.ts) checks after body validation. A requirement may
// look at the body and the caller's workspace (e.g. the API of the key a
// request names), so it can be asynchronous.
//
// Routes that address a resource by id need `type.*.action` or
// `type.<id>.action`. When that resource does not exist in the caller's
// workspace, holding the action on any resource of the type is enough to be
// told 404: nothing about other resources can be learnt from that.
//
// Creating end-user permissions on the fly (createRole, setRolePermissions,
// keys.addPermissions/setPermissions) needs `rbac.*.create_permission` on top
// of the route's own requirement, but only when a slug is new: checked before
// the handler (so 403 comes before 404) and again inside the writing
// transaction (so nothing new slips in between).
import { forbidden } from '../errors'
import { allOf, describeAlternatives, needs, unmet, type Requirement, type ResourceType } from './grants'

/** What a handler may act on: one workspace, on behalf of one root key. */
export interface AuthContext {
  workspaceId: string
  rootKeyId: string
  permissions: ReadonlySet<string>
}

export interface PermissionSpec<Body = any> {
  /** Human-readable requirement, shown in the OpenAPI document. */
  describe: string
  /** The requirement for this request; may look at the body and the caller's workspace. */
  requirement: (input: { body: Body; auth: AuthContext }) => Requirement | Promise<Requirement>
}

export function denied(missing: string[]): never {
  throw forbidden(`Your key does not have the required ${describeAlternatives(missing)} permission`)
}

/** Throws 403 naming the first unmet part of `requirement`. */
export function enforce(auth: AuthContext, requirement: Requirement): void {
  const missing = unmet(auth.permissions, requirement)
  if (missing) denied(missing)
}

/** `type.*.action`, regardless of the request. */
export function wildcardPermission(type: ResourceType, action: string): PermissionSpec {
  const requirement = needs(type, action)
  return { describe: `'${type}.*.${action}'`, requirement: () => requirement }
}

/**
 * `type.*.action`, or `type.<id>.action` for at least one id: for routes that
 * answer only about the granted resources (see resourcesGranted) instead of
 * addressing one. Without any such grant, 403 naming `type.*.action`.
 */
export function anyResourcePermission(type: ResourceType, action: string): PermissionSpec {
  const requirement: Requirement = { anyResource: { type, action } }
  return { describe: `'${type}.*.${action}' or one or more '${type}.<id>.${action}'`, requirement: () => requirement }
}

/** `type.*.action` or `type.<id>.action`, where the id is the body field `field`. */
export function permissionOn(type: ResourceType, action: string, field: string): PermissionSpec {
  return {
    describe: `'${type}.*.${action}' or '${type}.<${field}>.${action}'`,
    requirement: ({ body }) => needs(type, action, body[field]),
  }
}

/** Finds the live key a request names, to learn its API. */
export interface KeyLocator {
  locate(workspaceId: string, keyId: string): Promise<{ id: string; apiId: string; recoverable: boolean } | null>
}

/** `api.*.<action>` or `api.<apiId of the key>.<action>`; any API's action when the key is missing. */
export async function keyRequirement(keys: KeyLocator, workspaceId: string, keyId: string, action: string): Promise<Requirement> {
  const located = await keys.locate(workspaceId, keyId)
  return located ? needs('api', action, located.apiId) : { anyResource: { type: 'api', action } }
}

/** `api.*.<action>` or `api.<apiId>.<action>` for the key named by `body.keyId`, plus optional extra requirements. */
export function keyPermission(keys: KeyLocator, action: string, ...extra: Requirement[]): PermissionSpec<{ keyId: string }> {
  const own = `'api.*.${action}' or 'api.<apiId of the key>.${action}'`
  const describe = extra.length ? [`(${own})`, ...extra.map(describeRequirement)].join(' and ') : own
  return {
    describe,
    requirement: async ({ body, auth }) => {
      const base = await keyRequirement(keys, auth.workspaceId, body.keyId, action)
      return extra.length ? allOf(base, ...extra) : base
    },
  }
}

function describeRequirement(r: Requirement): string {
  if ('anyOf' in r) return r.anyOf.map((p) => `'${p}'`).join(' or ')
  if ('anyResource' in r) return `'${r.anyResource.type}.*.${r.anyResource.action}'`
  return r.allOf.map(describeRequirement).join(' and ')
}

export const CREATE_PERMISSION = needs('rbac', 'create_permission')

/** Tells which of some permission slugs do not exist in a workspace yet. */
export interface SlugCatalogue {
  unknownSlugs(workspaceId: string, slugs: string[]): Promise<string[]>
}

/** Called with the slugs about to be created, before any is; throws to refuse. */
export type BeforeCreatePermissions = (slugs: string[]) => void

/** `requirements`, plus `rbac.*.create_permission` when any of `slugs` is new to the workspace. */
export async function withCreation(
  catalogue: SlugCatalogue,
  workspaceId: string,
  slugs: string[] | undefined,
  ...requirements: Requirement[]
): Promise<Requirement> {
  const creates = slugs !== undefined && (await catalogue.unknownSlugs(workspaceId, slugs)).length > 0
  const all = creates ? [...requirements, CREATE_PERMISSION] : requirements
  return all.length === 1 ? all[0]! : allOf(...all)
}

/** Adds the on-the-fly creation requirement to a route's permission spec; the slugs are `body.permissions`. */
export function creatingPermissions<B>(catalogue: SlugCatalogue, spec: PermissionSpec<B>): PermissionSpec<B & { permissions?: string[] }> {
  return {
    describe: `${spec.describe}, and 'rbac.*.create_permission' when a slug is new`,
    requirement: async (input) => withCreation(catalogue, input.auth.workspaceId, input.body.permissions, await spec.requirement(input)),
  }
}

/** The in-transaction check handed to the permission catalogue: refuses to create permissions without the grant. */
export const mayCreatePermissions =
  (auth: AuthContext): BeforeCreatePermissions =>
  () =>
    enforce(auth, CREATE_PERMISSION)
