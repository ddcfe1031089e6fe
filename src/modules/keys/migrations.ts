// Key migrations: importing keys from another system by their existing hashes
// (keys.migrateKeys, `latch migrations create|list`). A migration names how
// the old system hashed keys:
// - `sha256_base64`: base64(SHA-256(key)), latch's own format; keys verify at once;
// - `sha256_hex`: hex(SHA-256(key)); such a key is rewritten to latch's format
//   the first time it verifies with the migration's id (`complete`).
import { createHash } from 'node:crypto'
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import { notFound } from '../../errors'
import { newId } from '../../ids'
import { apiResource, type ApiService } from '../apis/service'
import type { AuditLog, AuditResource } from '../audit/service'
import type { PermissionService } from '../permissions/service'
import { assertUniqueNames } from '../ratelimit/definitions'
import type { KeyCache } from './cache'
import { validateCredits } from './credits'
import { keyResource, startOf } from './format'
import type { LoadedKey } from './loader'
import type * as m from './model'
import type { KeyService } from './service'

export const MIGRATION_ALGORITHMS = ['sha256_base64', 'sha256_hex'] as const
export type MigrationAlgorithm = (typeof MIGRATION_ALGORITHMS)[number]

export interface KeyMigration {
  id: string
  workspaceId: string
  algorithm: MigrationAlgorithm
  createdAt: number
}

export type MigrateKeysInput = typeof m.MigrateKeysBody.static

const migrationNotFound = () => notFound('migration', 'The requested migration does not exist.')

export class KeyMigrationService {
  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'transaction'>,
    private readonly clock: Clock,
    private readonly deps: { apis: ApiService; keys: KeyService; permissions: PermissionService; cache: KeyCache<LoadedKey>; audit: AuditLog },
  ) {}

  async create(workspaceId: string, algorithm: MigrationAlgorithm): Promise<KeyMigration> {
    const migration = { id: newId('mig'), workspaceId, algorithm, createdAt: this.clock.now() }
    await this.stores.transaction(async () => {
      await this.stores.keys.insertMigration(migration)
      const resources = [{ type: 'migration', id: migration.id }]
      await this.deps.audit.record({ workspaceId, event: 'migration.create', resources, description: `Created key migration ${migration.id} (${algorithm})` })
    })
    return migration
  }

  async list(workspaceId: string): Promise<(KeyMigration & { pendingKeys: number })[]> {
    return (await this.stores.keys.listMigrations(workspaceId)).map((m) => ({ ...m, algorithm: m.algorithm as MigrationAlgorithm }))
  }

  /**
   * Imports keys by their existing hashes. A hash already held by a key of
   * this workspace (or repeated in the request) is reported in `failed`;
   * everything else is written in one transaction. Other workspaces' keys are
   * never consulted (hashes are unique per workspace), so the answer tells
   * nothing about them.
   */
  async migrate(workspaceId: string, input: MigrateKeysInput): Promise<{ migrated: { hash: string; keyId: string }[]; failed: string[] }> {
    const api = await this.deps.apis.get(workspaceId, input.apiId)
    const migration = await this.stores.keys.findMigration(workspaceId, input.migrationId)
    if (!migration) throw migrationNotFound()
    for (const [i, k] of input.keys.entries()) {
      if (k.credits) validateCredits(k.credits, `keys[${i}].credits`)
      if (k.ratelimits) assertUniqueNames(k.ratelimits, `keys[${i}].ratelimits`)
      if (k.roles?.length) await this.deps.permissions.getRoles(workspaceId, k.roles)
    }
    const migrated: { hash: string; keyId: string }[] = []
    const failed: string[] = []
    const seen = new Set<string>()
    const imported: AuditResource[] = []
    await this.stores.transaction(async () => {
      for (const { hash, ...settings } of input.keys) {
        if (seen.has(hash) || (await this.stores.keys.findHashHolder(workspaceId, hash))) {
          failed.push(hash)
          continue
        }
        seen.add(hash)
        const keyId = await this.deps.keys.insertFromSettings(workspaceId, api.id, settings, { hash, start: '' }, null)
        if (migration.algorithm !== 'sha256_base64') await this.stores.keys.markPendingMigration(keyId, migration.id)
        migrated.push({ hash, keyId })
        imported.push(keyResource({ id: keyId, name: settings.name }))
      }
      // Every imported key is named, so that listing the audit log by a key's id finds its import; never the hashes.
      await this.deps.audit.record({
        workspaceId,
        event: 'key.migrate',
        resources: [apiResource(api), { type: 'migration', id: migration.id }, ...imported],
        description: `Imported ${migrated.length} key(s) into API ${api.name} under migration ${migration.id}${failed.length ? `; ${failed.length} refused` : ''}`,
      })
    })
    for (const m of migrated) this.deps.cache.invalidateHash(workspaceId, m.hash)
    return { migrated, failed }
  }

  /**
   * Rewrites a key imported under a foreign hash to latch's own, when
   * `plaintext` matches one of this migration's pending keys. Returns whether
   * it did (the key then verifies by `hash`).
   */
  async complete(workspaceId: string, migrationId: string, plaintext: string, hash: string): Promise<boolean> {
    const migration = await this.stores.keys.findMigration(workspaceId, migrationId)
    if (migration?.algorithm !== 'sha256_hex') return false
    const legacy = createHash('sha256').update(plaintext).digest('hex')
    const pending = await this.stores.keys.findPendingMigration(workspaceId, migrationId, legacy)
    if (!pending) return false
    const done = await this.stores.transaction(async () => {
      // The native hash may still sit on a deleted key of this workspace (hashes are unique per workspace); a live holder wins.
      const holder = await this.stores.keys.findHashHolder(workspaceId, hash)
      if (holder && !holder.deleted && (await this.deps.apis.isLive(holder.apiId))) return false
      if (holder) await this.stores.keys.retireHash(holder.id)
      await this.stores.keys.completeMigration(pending.id, hash, startOf(plaintext))
      return true
    })
    if (done) {
      this.deps.cache.invalidateHash(workspaceId, hash)
      this.deps.cache.invalidateKey(pending.id)
    }
    return done
  }
}
