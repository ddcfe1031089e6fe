// Helpers shared by the RBAC and identity tests: a key to grant things to, and
// what the verification cache currently believes about it.
import { expect } from 'bun:test'
import type { Harness } from '../../support/harness'

/** A fresh API and key in `workspace` (which must already have a root key). */
export async function issueKey(h: Harness, workspace = 'acme', input: { externalId?: string; permissions?: string[]; roles?: string[] } = {}) {
  const workspaceId = await h.workspaceId(workspace)
  const api = await h.services.apis.create(workspaceId, 'payments')
  const { keyId, key } = await h.services.keys.create(workspaceId, { apiId: api.id, ...input })
  return { keyId, key, apiId: api.id, workspaceId }
}

/** The key's permissions and roles as verification sees them (through the key cache). */
export async function verifiedAccess(h: Harness, plaintext: string) {
  return (await h.services.keyLoader.findByPlaintext(plaintext))!.access
}

/** The key's identity as verification sees it (through the key cache). */
export async function verifiedIdentity(h: Harness, plaintext: string) {
  return (await h.services.keyLoader.findByPlaintext(plaintext))!.identity
}

export const PERMISSION_ID = expect.stringMatching(/^perm_[1-9A-HJ-NP-Za-km-z]+$/)
export const ROLE_ID = expect.stringMatching(/^role_[1-9A-HJ-NP-Za-km-z]+$/)
export const IDENTITY_ID = expect.stringMatching(/^id_[1-9A-HJ-NP-Za-km-z]+$/)
export const RATELIMIT_ID = expect.stringMatching(/^rl_[1-9A-HJ-NP-Za-km-z]+$/)
