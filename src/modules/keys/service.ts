// Keys issued to our users' customers: creation, lookup, updates, deletion,
// credits, rerolls, migration and verification. Knows nothing about HTTP;
// every method takes the caller's workspace id and never crosses it.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { createHash } from 'node:crypto'
import { generateKey, hashKey } from '../../crypto'
import { newId } from '../../ids'
import { serializeMeta } from '../../meta'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import { badRequest, notFound } from '../../http/errors'
import type { ApiService } from '../apis/service'
import type { IdentityService } from '../identities/service'
import type { KeyAccess, RbacService } from '../permissions/service'
import { assertUniqueNames, type RatelimitDefinition, type RatelimitDefinitions, type RatelimitInput } from '../ratelimit/definitions'
import { KeyCache } from './cache'
import { VerificationLog } from './events'
import { lastRefillBoundary, refillDue, refilledRemaining } from './refill'
import { noVault, type Vault } from './vault'

export type RefillInterval = 'daily' | 'monthly'

export interface CreditsInput {
  remaining: number | null
  refill?: { interval: RefillInterval; amount: number; refillDay?: number }
}

export interface CreateKeyInput {
  apiId: string
  prefix?: string
  name?: string
  byteLength?: number
  externalId?: string
  meta?: Record<string, unknown>
  roles?: string[]
  permissions?: string[]
  expires?: number
  credits?: CreditsInput
  ratelimits?: RatelimitInput[]
  enabled?: boolean
  recoverable?: boolean
}

export interface UpdateKeyInput {
  keyId: string
  name?: string | null
  externalId?: string | null
  meta?: Record<string, unknown> | null
  expires?: number | null
  credits?: {
    remaining?: number | null
    refill?: { interval: RefillInterval; amount: number; refillDay?: number } | null
  } | null
  ratelimits?: RatelimitInput[]
  enabled?: boolean
  roles?: string[]
  permissions?: string[]
}

interface KeyRow {
  id: string
  workspace_id: string
  api_id: string
  hash: string
  start: string
  name: string | null
  meta: string | null
  identity_id: string | null
  enabled: number
  expires_at: number | null
  remaining: number | null
  refill_amount: number | null
  refill_day: number | null
  last_refill_at: number | null
  encrypted: string | null
  created_at: number
  updated_at: number | null
  last_used_at: number | null
}

export interface IdentityView {
  id: string
  externalId: string
  meta: Record<string, unknown> | null
  ratelimits: RatelimitDefinition[]
}

/** Everything needed to verify or describe a key, as held in the cache. */
export interface LoadedKey {
  id: string
  workspaceId: string
  apiId: string
  hash: string
  start: string
  name: string | null
  meta: Record<string, unknown> | null
  enabled: boolean
  expiresAt: number | null
  remaining: number | null
  refillAmount: number | null
  refillDay: number | null
  lastRefillAt: number | null
  encrypted: string | null
  createdAt: number
  updatedAt: number | null
  lastUsedAt: number | null
  identity: IdentityView | null
  access: KeyAccess
  permissionSet: ReadonlySet<string>
  ratelimits: RatelimitDefinition[]
}

export const keyNotFound = () => notFound('key', 'The requested key does not exist or has been deleted.')

/**
 * How a migration's hashes were computed by the previous system:
 * - `sha256_base64`: base64(SHA-256(key)), latch's own format; keys verify at once;
 * - `sha256_hex`: hex(SHA-256(key)); rewritten to latch's format on first verification.
 */
export const MIGRATION_ALGORITHMS = ['sha256_base64', 'sha256_hex'] as const
export type MigrationAlgorithm = (typeof MIGRATION_ALGORITHMS)[number]

export interface KeyMigration {
  id: string
  workspaceId: string
  algorithm: MigrationAlgorithm
  createdAt: number
}

export type MigrateKeyInput = Omit<CreateKeyInput, 'apiId' | 'prefix' | 'byteLength' | 'recoverable'> & { hash: string }

const migrationNotFound = () => notFound('migration', 'The requested migration does not exist.')

const PREFIX = /^[a-zA-Z0-9]{1,16}$/

/**
 * `prefix_` + 4 characters, or the first 4 characters when the key has no
 * prefix, for a key whose plaintext latch did not generate (migrated keys).
 * Only a short alphanumeric part before the first `_` counts as a prefix, so
 * that `start` never holds more of the secret than 4 characters.
 */
function startOf(key: string): string {
  const underscore = key.indexOf('_')
  return underscore > 0 && PREFIX.test(key.slice(0, underscore)) ? key.slice(0, underscore + 5) : key.slice(0, 4)
}

/** The prefix a key was created with, read back from its `start` (which ends with 4 characters of the secret). */
function prefixOf(start: string): string | undefined {
  const prefix = start.length > 5 && start[start.length - 5] === '_' ? start.slice(0, -5) : undefined
  return prefix && /^[a-zA-Z0-9_]{1,16}$/.test(prefix) ? prefix : undefined
}

const EXPIRES_MAX = 4102444800000

function validateCredits(credits: { remaining?: number | null; refill?: CreditsInput['refill'] | null }, field: string): void {
  const refill = credits.refill
  if (!refill) return
  if (credits.remaining === null || credits.remaining === undefined) {
    throw badRequest('`credits.remaining` must be provided when `credits.refill` is set.', [
      { location: `body.${field}.remaining`, message: 'required when refill is set', fix: 'Set credits.remaining to the starting balance.' },
    ])
  }
  if (refill.interval === 'monthly' && refill.refillDay === undefined) {
    throw badRequest('`refillDay` must be provided when the refill interval is `monthly`.', [
      { location: `body.${field}.refill.refillDay`, message: 'required for a monthly refill' },
    ])
  }
  if (refill.interval === 'daily' && refill.refillDay !== undefined) {
    throw badRequest('`refillDay` must not be provided when the refill interval is `daily`.', [
      { location: `body.${field}.refill.refillDay`, message: 'not allowed for a daily refill' },
    ])
  }
}

export class KeyService {
  readonly cache = new KeyCache<LoadedKey>()
  readonly events: VerificationLog
  /** Ratelimit definitions of keys and identities (one store, shared with identities). */
  readonly ratelimits: RatelimitDefinitions
  /** Credits spent by verifications (and refills applied by them), not yet written: keyId -> state. */
  private readonly pendingCredits = new Map<string, { remaining: number | null; lastRefillAt: number | null }>()
  private readonly stmt

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly deps: { apis: ApiService; identities: IdentityService; rbac: RbacService; vault: Vault },
  ) {
    this.events = new VerificationLog(db)
    this.ratelimits = deps.identities.ratelimits
    const live = 'k.deleted_at IS NULL AND EXISTS (SELECT 1 FROM apis a WHERE a.id = k.api_id AND a.deleted_at IS NULL)'
    this.stmt = {
      locate: db.query<{ id: string; api_id: string; recoverable: number }, [string, string]>(
        `SELECT k.id, k.api_id, k.encrypted IS NOT NULL AS recoverable FROM keys k WHERE k.id = ? AND k.workspace_id = ? AND ${live}`,
      ),
      byId: db.query<KeyRow, [string, string]>(`SELECT k.* FROM keys k WHERE k.id = ? AND k.workspace_id = ? AND ${live}`),
      byHash: db.query<KeyRow, [string]>(`SELECT k.* FROM keys k WHERE k.hash = ? AND ${live}`),
      hashExists: db.query<{ id: string }, [string]>('SELECT id FROM keys WHERE hash = ?'),
      insert: db.query(
        `INSERT INTO keys (id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
           refill_amount, refill_day, last_refill_at, encrypted, created_at)
         VALUES ($id, $workspaceId, $apiId, $hash, $start, $name, $meta, $identityId, $enabled, $expiresAt, $remaining,
           $refillAmount, $refillDay, $lastRefillAt, $encrypted, $createdAt)`,
      ),
      listPage: db.query<KeyRow, [string, string, string, number]>(
        `SELECT k.* FROM keys k WHERE k.api_id = ? AND k.workspace_id = ? AND k.deleted_at IS NULL AND k.id >= ? ORDER BY k.id LIMIT ?`,
      ),
      listPageByIdentity: db.query<KeyRow, [string, string, string, string, number]>(
        `SELECT k.* FROM keys k WHERE k.api_id = ? AND k.workspace_id = ? AND k.deleted_at IS NULL AND k.identity_id = ? AND k.id >= ?
         ORDER BY k.id LIMIT ?`,
      ),
      softDelete: db.query('UPDATE keys SET deleted_at = ? WHERE id = ?'),
      hardDelete: db.query('DELETE FROM keys WHERE id = ?'),
      setCredits: db.query('UPDATE keys SET remaining = ?, last_refill_at = ? WHERE id = ?'),
      setExpires: db.query('UPDATE keys SET expires_at = ?, updated_at = ? WHERE id = ?'),
      identityById: db.query<{ id: string; external_id: string; meta: string | null }, [string]>(
        'SELECT id, external_id, meta FROM identities WHERE id = ? AND deleted_at IS NULL',
      ),
      // Keys whose last refill (or creation) predates their boundary; one query per refill day (null = daily).
      dueDaily: db.query<{ id: string; remaining: number | null; refill_amount: number }, [number]>(
        `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
           AND refill_day IS NULL AND coalesce(last_refill_at, created_at) < ?`,
      ),
      dueMonthly: db.query<{ id: string; remaining: number | null; refill_amount: number }, [number, number]>(
        `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
           AND refill_day = ? AND coalesce(last_refill_at, created_at) < ?`,
      ),
      insertMigration: db.query('INSERT INTO key_migrations (id, workspace_id, algorithm, created_at) VALUES (?, ?, ?, ?)'),
      migrationById: db.query<{ id: string; workspace_id: string; algorithm: MigrationAlgorithm; created_at: number }, [string, string]>(
        'SELECT * FROM key_migrations WHERE id = ? AND workspace_id = ?',
      ),
      markPending: db.query('UPDATE keys SET pending_migration_id = ? WHERE id = ?'),
      pendingByLegacyHash: db.query<{ id: string }, [string, string, string]>(
        'SELECT id FROM keys WHERE workspace_id = ? AND pending_migration_id = ? AND hash = ? AND deleted_at IS NULL',
      ),
      completeMigration: db.query('UPDATE keys SET hash = ?, start = ?, pending_migration_id = NULL WHERE id = ?'),
      hashHolder: db.query<{ id: string; live: number }, [string]>(`SELECT k.id, (${live}) AS live FROM keys k WHERE k.hash = ?`),
      retireHash: db.query("UPDATE keys SET hash = 'retired:' || id WHERE id = ?"),
      setStart: db.query('UPDATE keys SET start = ? WHERE id = ?'),
      listMigrations: db.query<{ id: string; algorithm: MigrationAlgorithm; created_at: number; pending: number }, [string]>(
        `SELECT m.id, m.algorithm, m.created_at,
           (SELECT COUNT(*) FROM keys k WHERE k.pending_migration_id = m.id AND k.deleted_at IS NULL) AS pending
         FROM key_migrations m WHERE m.workspace_id = ? ORDER BY m.created_at, m.id`,
      ),
    }
    // A deleted API takes its keys with it, effective at the next verify.
    deps.apis.onDeleted((api) => this.cache.invalidateWorkspace(api.workspaceId))
  }

  /** Live key id + API id, for permission checks; null when missing, deleted or of another workspace. */
  locate(workspaceId: string, keyId: string): { id: string; apiId: string; recoverable: boolean } | null {
    const row = this.stmt.locate.get(keyId, workspaceId)
    return row ? { id: row.id, apiId: row.api_id, recoverable: row.recoverable === 1 } : null
  }

  // ---- loading -------------------------------------------------------------

  private load(row: KeyRow): LoadedKey {
    const access = this.deps.rbac.keyAccess(row.id)
    let identity: IdentityView | null = null
    if (row.identity_id) {
      const i = this.stmt.identityById.get(row.identity_id)
      if (i) {
        identity = {
          id: i.id,
          externalId: i.external_id,
          meta: i.meta === null ? null : JSON.parse(i.meta),
          ratelimits: this.ratelimits.list({ identityId: i.id }),
        }
      }
    }
    const pending = this.pendingCredits.get(row.id)
    return {
      id: row.id,
      workspaceId: row.workspace_id,
      apiId: row.api_id,
      hash: row.hash,
      start: row.start,
      name: row.name,
      meta: row.meta === null ? null : JSON.parse(row.meta),
      enabled: row.enabled === 1,
      expiresAt: row.expires_at,
      remaining: pending ? pending.remaining : row.remaining,
      refillAmount: row.refill_amount,
      refillDay: row.refill_day,
      lastRefillAt: pending ? pending.lastRefillAt : row.last_refill_at,
      encrypted: row.encrypted,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastUsedAt: this.events.pendingLastUsed(row.id) ?? row.last_used_at,
      identity,
      access,
      permissionSet: new Set(access.permissions),
      ratelimits: this.ratelimits.list({ keyId: row.id }),
    }
  }

  /**
   * The cached key for a plaintext (loading it on a miss), in any workspace;
   * callers compare workspaces. With a migration id, a key imported under a
   * foreign hash is found by that hash and rewritten to latch's own.
   */
  lookupByPlaintext(plaintext: string, workspaceId: string, migrationId?: string): LoadedKey | null {
    const hash = hashKey(plaintext)
    const load = (h: string) => {
      const row = this.stmt.byHash.get(h)
      return row ? this.load(row) : null
    }
    let key = this.cache.lookup(hash, load)
    if (!key && migrationId && this.completeMigration(workspaceId, migrationId, plaintext, hash)) {
      key = this.cache.lookup(hash, load)
    }
    // Migrated keys have no `start` until their plaintext is first seen by their own workspace.
    if (key && key.start === '' && key.workspaceId === workspaceId) {
      key.start = startOf(plaintext)
      this.stmt.setStart.run(key.start, key.id)
    }
    return key
  }

  private completeMigration(workspaceId: string, migrationId: string, plaintext: string, hash: string): boolean {
    const migration = this.stmt.migrationById.get(migrationId, workspaceId)
    if (!migration || migration.algorithm !== 'sha256_hex') return false
    const legacy = createHash('sha256').update(plaintext).digest('hex')
    const row = this.stmt.pendingByLegacyHash.get(workspaceId, migrationId, legacy)
    if (!row) return false
    // The native hash may still sit on a deleted key (hashes are unique); a live holder wins.
    const holder = this.stmt.hashHolder.get(hash)
    if (holder?.live) return false
    this.db.transaction(() => {
      if (holder) this.stmt.retireHash.run(holder.id)
      this.stmt.completeMigration.run(hash, startOf(plaintext), row.id)
    })()
    this.cache.invalidateHash(hash)
    this.cache.invalidateKey(row.id)
    return true
  }

  createMigration(workspaceId: string, algorithm: MigrationAlgorithm): KeyMigration {
    const migration = { id: newId('mig'), workspaceId, algorithm, createdAt: this.clock.now() }
    this.stmt.insertMigration.run(migration.id, workspaceId, algorithm, migration.createdAt)
    return migration
  }

  listMigrations(workspaceId: string): (KeyMigration & { pendingKeys: number })[] {
    return this.stmt.listMigrations.all(workspaceId).map((m) => ({
      id: m.id,
      workspaceId,
      algorithm: m.algorithm,
      createdAt: m.created_at,
      pendingKeys: m.pending,
    }))
  }

  /**
   * Imports keys by their existing hashes. A hash already known to latch (or
   * repeated in the request) is reported in `failed`; everything else is
   * written in one transaction.
   */
  migrate(
    workspaceId: string,
    input: { migrationId: string; apiId: string; keys: MigrateKeyInput[] },
  ): { migrated: { hash: string; keyId: string }[]; failed: string[] } {
    const api = this.deps.apis.get(workspaceId, input.apiId)
    const migration = this.stmt.migrationById.get(input.migrationId, workspaceId)
    if (!migration) throw migrationNotFound()
    input.keys.forEach((k, i) => {
      if (k.credits) validateCredits(k.credits, `keys[${i}].credits`)
      if (k.ratelimits) assertUniqueNames(k.ratelimits, `keys[${i}].ratelimits`)
      if (k.roles?.length) this.deps.rbac.requireRoles(workspaceId, k.roles)
    })
    const migrated: { hash: string; keyId: string }[] = []
    const failed: string[] = []
    const seen = new Set<string>()
    this.db.transaction(() => {
      for (const k of input.keys) {
        if (seen.has(k.hash) || this.stmt.hashExists.get(k.hash)) {
          failed.push(k.hash)
          continue
        }
        seen.add(k.hash)
        const keyId = this.insertKey(workspaceId, api.id, { ...k, apiId: api.id }, { hash: k.hash, start: '' }, null)
        if (migration.algorithm !== 'sha256_base64') this.stmt.markPending.run(migration.id, keyId)
        migrated.push({ hash: k.hash, keyId })
      }
    })()
    for (const m of migrated) this.cache.invalidateHash(m.hash)
    return { migrated, failed }
  }

  /** The live key in this workspace, freshly loaded; 404 when absent. */
  require(workspaceId: string, keyId: string): LoadedKey {
    this.flushCredits()
    const row = this.stmt.byId.get(keyId, workspaceId)
    if (!row) throw keyNotFound()
    return this.load(row)
  }

  // ---- writes ----------------------------------------------------------------

  /** Writes credits spent by verifications; called before any other read or write of credits. */
  flushCredits(): void {
    if (this.pendingCredits.size === 0) return
    const pending = [...this.pendingCredits]
    this.pendingCredits.clear()
    this.db.transaction(() => {
      for (const [keyId, state] of pending) this.stmt.setCredits.run(state.remaining, state.lastRefillAt, keyId)
    })()
  }

  /** Everything buffered: credits, events, last-used times. */
  flush(): void {
    this.flushCredits()
    this.events.flush()
  }

  private linkIdentity(workspaceId: string, externalId: string | undefined | null): string | null {
    if (!externalId) return null
    return this.deps.identities.upsertByExternalId(workspaceId, externalId).id
  }

  create(workspaceId: string, input: CreateKeyInput): { keyId: string; key: string } {
    if (input.credits) validateCredits(input.credits, 'credits')
    if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
    const api = this.deps.apis.get(workspaceId, input.apiId)
    if (input.recoverable && !this.deps.vault.configured) throw noVault()
    const generated = generateKey(input.prefix, input.byteLength ?? 16)
    const encrypted = input.recoverable ? this.deps.vault.encrypt(generated.key) : null
    const keyId = this.db.transaction(() => this.insertKey(workspaceId, api.id, input, generated, encrypted))()
    this.cache.invalidateHash(generated.hash)
    return { keyId, key: generated.key }
  }

  /** Inserts a key row with its identity link, ratelimits, permissions and roles. Run inside a transaction. */
  private insertKey(
    workspaceId: string,
    apiId: string,
    input: CreateKeyInput,
    material: { hash: string; start: string },
    encrypted: string | null,
  ): string {
    const keyId = newId('key')
    this.stmt.insert.run({
      id: keyId,
      workspaceId,
      apiId,
      hash: material.hash,
      start: material.start,
      name: input.name ?? null,
      meta: input.meta ? serializeMeta(input.meta) : null,
      identityId: this.linkIdentity(workspaceId, input.externalId),
      enabled: input.enabled === false ? 0 : 1,
      expiresAt: input.expires ?? null,
      remaining: input.credits?.remaining ?? null,
      refillAmount: input.credits?.refill?.amount ?? null,
      refillDay: input.credits?.refill?.interval === 'monthly' ? input.credits.refill.refillDay! : null,
      lastRefillAt: null,
      encrypted,
      createdAt: this.clock.now(),
    })
    if (input.ratelimits?.length) this.ratelimits.replace(workspaceId, { keyId }, input.ratelimits)
    if (input.permissions?.length) this.deps.rbac.setKeyPermissions(workspaceId, keyId, input.permissions)
    if (input.roles?.length) this.deps.rbac.setKeyRoles(workspaceId, keyId, input.roles)
    return keyId
  }

  update(workspaceId: string, input: UpdateKeyInput): void {
    if (input.credits) validateCredits(input.credits, 'credits')
    if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
    const key = this.require(workspaceId, input.keyId)
    const sets: string[] = []
    const values: Record<string, string | number | null> = { id: key.id }
    const set = (column: string, value: string | number | null) => {
      sets.push(`${column} = $${column}`)
      values[column] = value
    }
    if (input.name !== undefined) set('name', input.name)
    if (input.meta !== undefined) set('meta', input.meta === null ? null : serializeMeta(input.meta))
    if (input.expires !== undefined) set('expires_at', input.expires)
    if (input.enabled !== undefined) set('enabled', input.enabled ? 1 : 0)
    if (input.credits !== undefined) {
      const c = input.credits
      if (c === null) {
        set('remaining', null)
        set('refill_amount', null)
        set('refill_day', null)
      } else {
        if (c.remaining !== undefined) set('remaining', c.remaining)
        // A balance or refill set now starts the refill schedule now: no instant refill for an old key.
        if (c.remaining !== undefined || c.refill) set('last_refill_at', this.clock.now())
        // Clearing the balance makes the key unlimited, which leaves nothing to refill.
        if (c.refill === null || (c.remaining === null && c.refill === undefined)) {
          set('refill_amount', null)
          set('refill_day', null)
        } else if (c.refill) {
          if (c.remaining === undefined && key.remaining === null) {
            throw badRequest('`credits.remaining` must be provided when `credits.refill` is set.', [
              { location: 'body.credits.remaining', message: 'the key has unlimited credits; set a balance to refill' },
            ])
          }
          set('refill_amount', c.refill.amount)
          set('refill_day', c.refill.interval === 'monthly' ? c.refill.refillDay! : null)
        }
      }
    }
    this.db.transaction(() => {
      if (input.externalId !== undefined) set('identity_id', this.linkIdentity(workspaceId, input.externalId))
      set('updated_at', this.clock.now())
      this.db.query(`UPDATE keys SET ${sets.join(', ')} WHERE id = $id`).run(values)
      if (input.ratelimits !== undefined) this.ratelimits.replace(workspaceId, { keyId: key.id }, input.ratelimits)
      if (input.permissions !== undefined) this.deps.rbac.setKeyPermissions(workspaceId, key.id, input.permissions)
      if (input.roles !== undefined) this.deps.rbac.setKeyRoles(workspaceId, key.id, input.roles)
    })()
    this.cache.invalidateKey(key.id)
  }

  delete(workspaceId: string, keyId: string, permanent: boolean): void {
    const key = this.require(workspaceId, keyId)
    if (permanent) this.stmt.hardDelete.run(key.id)
    else this.stmt.softDelete.run(this.clock.now(), key.id)
    this.cache.invalidateKey(key.id)
  }

  updateCredits(
    workspaceId: string,
    keyId: string,
    operation: 'set' | 'increment' | 'decrement',
    value: number | null | undefined,
  ): { remaining: number | null; refill?: { interval: RefillInterval; amount: number; refillDay?: number } } {
    const key = this.require(workspaceId, keyId)
    // A refill that is due happens first, so that increments add to the refilled balance.
    if (refillDue(key, this.clock.now())) {
      key.remaining = refilledRemaining(key)
      key.lastRefillAt = this.clock.now()
    }
    let remaining: number | null
    let clearRefill = false
    if (operation === 'set') {
      remaining = value ?? null
      clearRefill = remaining === null
    } else {
      if (value === undefined || value === null) {
        throw badRequest('When specifying an increment or decrement operation, a value must be provided.', [
          { location: 'body.value', message: 'required for increment and decrement' },
        ])
      }
      if (key.remaining === null) {
        throw badRequest('You cannot increment or decrement a key with unlimited credits.', [
          { location: 'body.operation', message: 'the key has unlimited credits', fix: "Use operation 'set' to give it a balance." },
        ])
      }
      remaining = operation === 'increment' ? key.remaining + value : Math.max(0, key.remaining - value)
      if (remaining > Number.MAX_SAFE_INTEGER) {
        throw badRequest(`The balance would exceed ${Number.MAX_SAFE_INTEGER} credits.`, [
          { location: 'body.value', message: 'the resulting balance is too large' },
        ])
      }
    }
    this.db.transaction(() => {
      this.db
        .query(`UPDATE keys SET remaining = ?, updated_at = ?, last_refill_at = ?${clearRefill ? ', refill_amount = NULL, refill_day = NULL' : ''} WHERE id = ?`)
        .run(remaining, this.clock.now(), key.lastRefillAt, key.id)
    })()
    this.cache.invalidateKey(key.id)
    const refill = clearRefill ? undefined : refillView(key)
    return { remaining, ...(refill ? { refill } : {}) }
  }

  /**
   * Issues a new key that copies the old one's settings, permissions, roles and
   * ratelimits; the old key expires `expirationMs` from now (0 = now).
   */
  reroll(workspaceId: string, keyId: string, expirationMs: number): { keyId: string; key: string } {
    const old = this.require(workspaceId, keyId)
    const generated = generateKey(prefixOf(old.start), 16)
    const encrypted = old.encrypted ? this.deps.vault.encrypt(generated.key) : null
    const newKeyId = newId('key')
    const now = this.clock.now()
    // Like the upstream, a grace period ends on the next full minute; 0 ends the old key now.
    const oldExpires = expirationMs === 0 ? now : Math.min(EXPIRES_MAX, Math.ceil((now + expirationMs) / 60_000) * 60_000)
    this.db.transaction(() => {
      this.stmt.insert.run({
        id: newKeyId,
        workspaceId,
        apiId: old.apiId,
        hash: generated.hash,
        start: generated.start,
        name: old.name,
        meta: old.meta === null ? null : JSON.stringify(old.meta),
        identityId: old.identity?.id ?? null,
        enabled: old.enabled ? 1 : 0,
        expiresAt: old.expiresAt,
        remaining: old.remaining,
        refillAmount: old.refillAmount,
        refillDay: old.refillDay,
        lastRefillAt: old.lastRefillAt,
        encrypted,
        createdAt: now,
      })
      this.ratelimits.replace(workspaceId, { keyId: newKeyId }, old.ratelimits)
      this.deps.rbac.copyKeyAccess(old.id, newKeyId)
      // Never extend an expiry that is already sooner.
      if (old.expiresAt === null || old.expiresAt > oldExpires) this.stmt.setExpires.run(oldExpires, now, old.id)
    })()
    this.cache.invalidateKey(old.id)
    this.cache.invalidateHash(generated.hash)
    return { keyId: newKeyId, key: generated.key }
  }

  /** Keys of an API, ordered by id; `cursor` is the first id of the page. */
  list(
    workspaceId: string,
    input: { apiId: string; externalId?: string } & PageInput,
  ): Page<LoadedKey> {
    const api = this.deps.apis.get(workspaceId, input.apiId)
    this.flushCredits()
    let rows: KeyRow[]
    if (input.externalId !== undefined) {
      const identity = this.deps.identities.findByExternalId(workspaceId, input.externalId)
      if (!identity) return { items: [] }
      rows = this.stmt.listPageByIdentity.all(api.id, workspaceId, identity.id, input.cursor ?? '', input.limit + 1)
    } else {
      rows = this.stmt.listPage.all(api.id, workspaceId, input.cursor ?? '', input.limit + 1)
    }
    return toPage(rows, input.limit, (r) => this.load(r))
  }

  decrypt(key: LoadedKey): string | undefined {
    return key.encrypted ? this.deps.vault.decrypt(key.encrypted) : undefined
  }

  // ---- verification hot path ----------------------------------------------------------

  /**
   * Applies a due refill and spends `cost` credits if the balance allows.
   * Synchronous: nothing can interleave between the check and the decrement.
   */
  spendCredits(key: LoadedKey, cost: number, now: number): { ok: boolean; spent: number } {
    if (refillDue(key, now)) {
      key.remaining = refilledRemaining(key)
      key.lastRefillAt = now
      this.pendingCredits.set(key.id, { remaining: key.remaining, lastRefillAt: now })
    }
    if (key.remaining === null) return { ok: true, spent: 0 }
    if (cost > 0 && key.remaining < cost) return { ok: false, spent: 0 }
    if (cost > 0) {
      key.remaining -= cost
      this.pendingCredits.set(key.id, { remaining: key.remaining, lastRefillAt: key.lastRefillAt })
    }
    return { ok: true, spent: cost }
  }

  /** Refills every due key (scheduled; verification also refills on its own). */
  runRefills(): number {
    this.flushCredits()
    const now = this.clock.now()
    let refilled = 0
    this.db.transaction(() => {
      const due = [this.stmt.dueDaily.all(lastRefillBoundary(now, null))]
      for (let day = 1; day <= 31; day++) due.push(this.stmt.dueMonthly.all(day, lastRefillBoundary(now, day)))
      for (const row of due.flat()) {
        this.stmt.setCredits.run(refilledRemaining({ remaining: row.remaining, refillAmount: row.refill_amount }), now, row.id)
        this.cache.invalidateKey(row.id)
        refilled++
      }
    })()
    return refilled
  }

}

export function refillView(key: { refillAmount: number | null; refillDay: number | null }) {
  if (key.refillAmount === null) return undefined
  return key.refillDay === null
    ? { interval: 'daily' as const, amount: key.refillAmount }
    : { interval: 'monthly' as const, amount: key.refillAmount, refillDay: key.refillDay }
}
