// How a root key is shown by rootKeys.listRootKeys and rootKeys.whoami: never
// its hash, never its plaintext; times that have not happened are left out.
import type { RootKeyInfo } from './service'

export const rootKeyView = (k: RootKeyInfo) => ({
  id: k.id,
  name: k.name,
  start: k.start,
  permissions: k.permissions,
  createdAt: k.createdAt,
  ...(k.expiresAt !== null ? { expiresAt: k.expiresAt } : {}),
  ...(k.lastUsedAt !== null ? { lastUsedAt: k.lastUsedAt } : {}),
  ...(k.revokedAt !== null ? { revokedAt: k.revokedAt } : {}),
  status: k.status,
})
