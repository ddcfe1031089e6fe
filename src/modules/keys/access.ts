// Root-key permissions for routes that address a key by keyId: the needed
// grant is `api.*.<action>` or `api.<the key's apiId>.<action>`. When the key
// does not exist in the caller's workspace, holding the action on any API is
// enough to be told 404 (nothing about other APIs can be learnt from that).
import type { PermissionSpec } from '../../http/auth'
import { allOf, needs, type Requirement } from '../rootkeys/permissions'

export interface KeyLocator {
  locate(workspaceId: string, keyId: string): { id: string; apiId: string } | null
}

export function keyRequirement(keys: KeyLocator, workspaceId: string, keyId: string, action: string): Requirement {
  const located = keys.locate(workspaceId, keyId)
  return located ? needs('api', action, located.apiId) : { anyResource: { type: 'api', action } }
}

/** `api.*.<action>` or `api.<apiId>.<action>` for the key named by `body.keyId`, plus optional extra requirements. */
export function keyPermission(keys: KeyLocator, action: string, ...extra: Requirement[]): PermissionSpec<{ keyId: string }> {
  const own = `'api.*.${action}' or 'api.<apiId of the key>.${action}'`
  const describe = extra.length ? [`(${own})`, ...extra.map(describeExtra)].join(' and ') : own
  return {
    describe,
    requirement: ({ body, auth }) => {
      const base = keyRequirement(keys, auth.workspaceId, body.keyId, action)
      return extra.length ? allOf(base, ...extra) : base
    },
  }
}

function describeExtra(r: Requirement): string {
  if ('anyOf' in r) return r.anyOf.map((p) => `'${p}'`).join(' or ')
  if ('anyResource' in r) return `'${r.anyResource.type}.*.${r.anyResource.action}'`
  return r.allOf.map(describeExtra).join(' and ')
}
