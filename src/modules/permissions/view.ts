// How RBAC objects and pages are sent: optional fields are left out when
// empty, never null (the official SDK rejects null).
import { ok } from '../../http/request-context'
import type { Page, RoleWithPermissions } from './service'

/** A role with `permissions` left out when it has none. */
export function roleView(role: RoleWithPermissions) {
  const { permissions, ...rest } = role
  return permissions.length ? { ...rest, permissions } : rest
}

/**
 * The list envelope: `pagination.hasMore` always, `cursor` only when there is
 * a next page (the SDK keeps fetching while a cursor is present).
 */
export function okPage<T>(request: Request, page: Page<T>) {
  return {
    ...ok(request, page.items),
    pagination: { ...(page.cursor !== undefined ? { cursor: page.cursor } : {}), hasMore: page.cursor !== undefined },
  }
}
