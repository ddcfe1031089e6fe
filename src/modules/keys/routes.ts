// HTTP controller for keys.createKey, verifyKey, getKey, whoami, updateKey,
// deleteKey, updateCredits, rerollKey, migrateKeys and apis.listKeys. A key's
// permissions and roles are in access-routes.ts.
import { Elysia } from 'elysia'
import { preconditionFailed } from '../../errors'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import type { HotRoute } from '../../http/hot-route'
import { ok, okPage, requestIdOf } from '../../http/request-context'
import { EmptyEnvelope, responses } from '../../http/schemas'
import { allOf, isGranted, needs, type Requirement } from '../../rbac/grants'
import { keyPermission, keyRequirement, type KeyLocator, type PermissionSpec } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import type { LoadedKey } from './loader'
import * as m from './model'
import { keyNotFound } from './service'
import type { KeyVerifier, VerifyInput, VerifyResult } from './verifier'
import { keyView } from './view'

export type KeysRouteDeps = Pick<Services, 'keys' | 'keyMigrations' | 'keyLoader' | 'verifier'> & { auth: AuthPlugin }

export function keysRoutes({ keys, keyMigrations, keyLoader, verifier, auth }: KeysRouteDeps, prefix: string) {
  const decrypt = (key: LoadedKey): string | undefined => {
    try {
      return keys.decrypt(key)
    } catch (error) {
      if (error instanceof Error && error.name === 'ApiError') throw error
      throw preconditionFailed('The key could not be decrypted with the configured master key.')
    }
  }

  return new Elysia({ name: `keys${prefix}`, prefix, detail: { tags: ['keys'] } } as never)
    .use(auth)
    .post(
      '/keys.createKey',
      async ({ body, auth, request, server }) => ok(request, await withActor(auditContextOf(auth, request, server), () => keys.create(auth.workspaceId, body))),
      {
        permission: createKeyPermission,
        body: m.CreateKeyBody,
        response: responses(m.CreateKeyResponse, 404, 412),
        detail: {
          summary: 'Create a key',
          description:
            'Issues a new key for an API. The key itself is in this response only; latch stores its SHA-256 hash (and, with `recoverable`, an encrypted copy).',
        },
      },
    )
    .post(
      '/keys.verifyKey',
      ({ body, auth, request }) => {
        // A cached key is answered without awaiting anything.
        const result = verifier.verify(auth, body, requestIdOf(request))
        return result instanceof Promise ? result.then((data) => ok(request, data)) : ok(request, result)
      },
      {
        permission: verifyPermission,
        body: m.VerifyKeyBody,
        response: responses(m.VerifyKeyResponse, 412),
        detail: {
          summary: 'Verify a key',
          description:
            'Checks a key and answers 200 with `valid` and a `code` for every outcome. Optionally checks a permission query, ratelimits and spends credits.',
        },
      },
    )
    .post(
      '/keys.getKey',
      async ({ body, auth, request }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        return ok(request, keyView(key, body.decrypt ? decrypt(key) : undefined))
      },
      {
        permission: getKeyPermission(keys),
        body: m.GetKeyBody,
        response: responses(m.KeyEnvelope, 404, 412),
        detail: { summary: 'Get a key', description: 'Returns a key’s settings. With `decrypt`, also the key itself if it was created recoverable.' },
      },
    )
    .post(
      '/keys.whoami',
      async ({ body, auth, request }) => {
        const key = await keyLoader.findByPlaintext(auth.workspaceId, body.key)
        const found = key ? await keys.get(auth.workspaceId, key.id) : null
        // Lacking read access to the key's API answers exactly like a missing key.
        if (!found || !canRead(auth.permissions, found.apiId)) throw keyNotFound()
        return ok(request, keyView(found))
      },
      {
        permission: {
          describe: "'api.*.read_key' or 'api.<apiId of the key>.read_key'",
          requirement: () => ({ anyResource: { type: 'api', action: 'read_key' } }),
        },
        body: m.WhoamiBody,
        response: responses(m.KeyEnvelope, 404),
        detail: { summary: 'Identify a key', description: 'Looks a key up by the key itself and returns its settings.' },
      },
    )
    .post(
      '/keys.updateKey',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => keys.update(auth.workspaceId, body))
        return ok(request, {})
      },
      {
        permission: keyPermission(keys, 'update_key'),
        body: m.UpdateKeyBody,
        response: responses(EmptyEnvelope, 404),
        detail: {
          summary: 'Update a key',
          description:
            'Changes the given fields only: an omitted field stays as it is, `null` clears it. `ratelimits`, `permissions` and `roles` replace the whole set.',
        },
      },
    )
    .post(
      '/keys.deleteKey',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => keys.delete(auth.workspaceId, body.keyId, body.permanent ?? false))
        return ok(request, {})
      },
      {
        permission: keyPermission(keys, 'delete_key'),
        body: m.DeleteKeyBody,
        response: responses(EmptyEnvelope, 404),
        detail: { summary: 'Delete a key', description: 'Deletes a key; it stops verifying at once. `permanent` also removes its record.' },
      },
    )
    .post(
      '/keys.updateCredits',
      async ({ body, auth, request, server }) =>
        ok(request, await withActor(auditContextOf(auth, request, server), () => keys.updateCredits(auth.workspaceId, body.keyId, body.operation, body.value))),
      {
        permission: keyPermission(keys, 'update_key'),
        body: m.UpdateCreditsBody,
        response: responses(m.UpdateCreditsResponse, 404),
        detail: {
          summary: 'Change a key’s credits',
          description: 'Sets, increments or decrements the remaining credits. Setting null makes the key unlimited.',
        },
      },
    )
    .post(
      '/keys.rerollKey',
      async ({ body, auth, request, server }) =>
        ok(request, await withActor(auditContextOf(auth, request, server), () => keys.reroll(auth.workspaceId, body.keyId, body.expiration))),
      {
        permission: rerollPermission(keys),
        body: m.RerollKeyBody,
        response: responses(m.CreateKeyResponse, 404),
        detail: {
          summary: 'Replace a key',
          description:
            'Issues a new key with the same settings, permissions, roles and ratelimits, and lets the old one expire after `expiration` milliseconds.',
        },
      },
    )
    .post(
      '/keys.migrateKeys',
      async ({ body, auth, request, server }) =>
        ok(request, await withActor(auditContextOf(auth, request, server), () => keyMigrations.migrate(auth.workspaceId, body))),
      {
        permission: migratePermission,
        body: m.MigrateKeysBody,
        response: responses(m.MigrateKeysResponse, 404),
        detail: {
          summary: 'Import keys by hash',
          description:
            'Imports keys from another system by their hashes, under a migration created with `latch migrations create`. Hashes already present in this workspace (or repeated) are listed in `failed`.',
        },
      },
    )
    .post(
      '/apis.listKeys',
      async ({ body, auth, request }) => {
        const page = await keys.list(auth.workspaceId, { apiId: body.apiId, limit: body.limit ?? 100, cursor: body.cursor, externalId: body.externalId })
        return okPage(request, { ...page, items: page.items.map((k) => keyView(k, body.decrypt ? decrypt(k) : undefined)) })
      },
      {
        permission: listKeysPermission,
        body: m.ListKeysBody,
        response: responses(m.ListKeysResponse, 404, 412),
        detail: { summary: 'List the keys of an API', description: 'Pages through an API’s keys, ordered by id. Never returns hashes.', tags: ['apis'] },
      },
    )
}

const canRead = (grants: ReadonlySet<string>, apiId: string) => isGranted(grants, 'api.*.read_key') || isGranted(grants, `api.${apiId}.read_key`)

const createKeyPermission: PermissionSpec<{ apiId: string; recoverable?: boolean }> = {
  describe: "'api.*.create_key' or 'api.<apiId>.create_key' (with `recoverable`, also 'api.*.encrypt_key' or 'api.<apiId>.encrypt_key')",
  requirement: ({ body }) => {
    const base = needs('api', 'create_key', body.apiId)
    return body.recoverable ? allOf(base, needs('api', 'encrypt_key', body.apiId)) : base
  },
}

const verifyPermission: PermissionSpec = {
  describe: "'api.*.verify_key' or 'api.<apiId of the key>.verify_key' (a key of an API the root key may not verify answers NOT_FOUND)",
  requirement: () => ({ anyResource: { type: 'api', action: 'verify_key' } }),
}

const migratePermission: PermissionSpec<{ apiId: string }> = {
  describe: "'api.*.create_key' or 'api.<apiId>.create_key'",
  requirement: ({ body }) => needs('api', 'create_key', body.apiId),
}

const listKeysPermission: PermissionSpec<{ apiId: string; decrypt?: boolean }> = {
  describe: "('api.*.read_key' or 'api.<apiId>.read_key') and ('api.*.read_api' or 'api.<apiId>.read_api'); with `decrypt`, also decrypt_key",
  requirement: ({ body }) => {
    const parts: Requirement[] = [needs('api', 'read_key', body.apiId), needs('api', 'read_api', body.apiId)]
    if (body.decrypt) parts.push(needs('api', 'decrypt_key', body.apiId))
    return allOf(...parts)
  },
}

function getKeyPermission(keys: KeyLocator): PermissionSpec<{ keyId: string; decrypt?: boolean }> {
  return {
    describe: "'api.*.read_key' or 'api.<apiId of the key>.read_key'; with `decrypt`, also decrypt_key",
    requirement: async ({ body, auth }) => {
      const read = await keyRequirement(keys, auth.workspaceId, body.keyId, 'read_key')
      return body.decrypt ? allOf(read, await keyRequirement(keys, auth.workspaceId, body.keyId, 'decrypt_key')) : read
    },
  }
}

function rerollPermission(keys: KeyLocator): PermissionSpec<{ keyId: string }> {
  return {
    describe: "'api.*.create_key' or 'api.<apiId of the key>.create_key' (and encrypt_key for recoverable keys)",
    requirement: async ({ body, auth }) => {
      const create = await keyRequirement(keys, auth.workspaceId, body.keyId, 'create_key')
      const located = await keys.locate(auth.workspaceId, body.keyId)
      return located?.recoverable ? allOf(create, await keyRequirement(keys, auth.workspaceId, body.keyId, 'encrypt_key')) : create
    },
  }
}

/** keys.verifyKey as a hot route (src/http/hot-route.ts): the same schemas, requirement and work as its Elysia route above. */
export function verifyKeyHotRoute(verifier: Pick<KeyVerifier, 'verify'>): HotRoute<VerifyInput, VerifyResult> {
  return {
    body: m.VerifyKeyBody,
    response: m.VerifyKeyResponse,
    permission: verifyPermission,
    run: ({ auth, body, request }) => verifier.verify(auth, body, requestIdOf(request)),
  }
}
