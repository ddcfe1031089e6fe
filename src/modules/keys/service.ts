// Managing keys (keys.createKey, getKey, updateKey, deleteKey, rerollKey,
// updateCredits, apis.listKeys). Knows nothing about HTTP; every method takes
// the caller's workspace id and never crosses it. Verification is in
// verifier.ts, credits in credits.ts, imports by hash in migrations.ts.
import type { Clock } from '../../clock'
import { generateKey } from '../../crypto'
import type { Stores } from '../../db/stores'
import type { KeyPatch, NewKeyRecord } from '../../db/stores/keys'
import type { Page } from '../../db/pagination'
import { toPage } from '../../db/pagination'
import { badRequest, notFound } from '../../errors'
import { newId } from '../../ids'
import { serializeMeta } from '../../meta'
import { apiResource, type ApiService } from '../apis/service'
import type { AuditLog } from '../audit/service'
import { identityResource, type IdentityService } from '../identities/service'
import { assertUniqueNames, type RatelimitDefinitionService, type RatelimitInput } from '../ratelimit/definitions'
import type { KeyAccessService } from './access'
import { validateCredits, type CreditLedger } from './credits'
import { keyResource, prefixOf } from './format'
import type { KeyLoader, LoadedKey } from './loader'
import type * as m from './model'
import { noVault, type Vault } from './vault'

export type CreateKeyInput = typeof m.CreateKeyBody.static
export type UpdateKeyInput = typeof m.UpdateKeyBody.static
/** The settings a key is created with: what createKey and migrateKeys have in common. */
export type KeySettings = Omit<CreateKeyInput, 'apiId' | 'prefix' | 'byteLength' | 'recoverable'>

/** A key and its API, as most key events name them. */
const keyResources = (key: { id: string; name: string | null; apiId: string }) => [keyResource(key), { type: 'api', id: key.apiId }]

/** How an audit description names a key. */
const keyLabel = (key: { id: string; name: string | null }) => (key.name ? `key ${key.name} (${key.id})` : `key ${key.id}`)

export const keyNotFound = () => notFound('key', 'The requested key does not exist or has been deleted.')

const EXPIRES_MAX = 4102444800000

export interface KeyServiceDeps {
  apis: ApiService
  identities: IdentityService
  keyAccess: KeyAccessService
  ratelimitDefinitions: RatelimitDefinitionService
  loader: KeyLoader
  credits: CreditLedger
  vault: Vault
  audit: AuditLog
}

export class KeyService {
  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'transaction'>,
    private readonly clock: Clock,
    private readonly deps: KeyServiceDeps,
  ) {}

  private get cache() {
    return this.deps.loader.cache
  }

  /** Live key id + API id, for permission checks; null when missing, deleted or of another workspace. */
  async locate(workspaceId: string, keyId: string): Promise<{ id: string; apiId: string; recoverable: boolean } | null> {
    const key = await this.stores.keys.findLive(workspaceId, keyId)
    if (!key || !(await this.deps.apis.isLive(key.apiId))) return null
    return { id: key.id, apiId: key.apiId, recoverable: key.encrypted !== null }
  }

  /** The live key in this workspace, freshly loaded (unwritten credits first); 404 when absent. */
  async get(workspaceId: string, keyId: string): Promise<LoadedKey> {
    await this.deps.credits.flush()
    const key = await this.deps.loader.findFresh(workspaceId, keyId)
    if (!key) throw keyNotFound()
    return key
  }

  /** Keys of an API, ordered by id; `cursor` is the first id of the page. */
  async list(workspaceId: string, input: { apiId: string; externalId?: string; limit: number; cursor?: string }): Promise<Page<LoadedKey>> {
    const api = await this.deps.apis.get(workspaceId, input.apiId)
    await this.deps.credits.flush()
    let identityId: string | undefined
    if (input.externalId !== undefined) {
      const identity = await this.deps.identities.findByExternalId(workspaceId, input.externalId)
      if (!identity) return { items: [] }
      identityId = identity.id
    }
    const records = await this.stores.keys.listLive(workspaceId, api.id, { cursor: input.cursor ?? '', limit: input.limit + 1, identityId })
    const page = toPage(records, input.limit, (r) => r)
    return { ...page, items: await Promise.all(page.items.map((r) => this.deps.loader.build(r))) }
  }

  decrypt(key: LoadedKey): string | undefined {
    return key.encrypted ? this.deps.vault.decrypt(key.encrypted) : undefined
  }

  async create(workspaceId: string, input: CreateKeyInput): Promise<{ keyId: string; key: string }> {
    if (input.credits) validateCredits(input.credits, 'credits')
    if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
    const api = await this.deps.apis.get(workspaceId, input.apiId)
    if (input.recoverable && !this.deps.vault.configured) throw noVault()
    const generated = generateKey(input.prefix, input.byteLength ?? 16)
    const encrypted = input.recoverable ? await this.deps.vault.encrypt(generated.key) : null
    const keyId = await this.stores.transaction(async () => {
      const id = await this.insertFromSettings(workspaceId, api.id, input, generated, encrypted)
      const key = { id, name: input.name ?? null }
      const identity = input.externalId ? await this.deps.identities.findByExternalId(workspaceId, input.externalId) : null
      const resources = [keyResource(key), apiResource(api), ...(identity ? [identityResource(identity)] : [])]
      await this.deps.audit.record({ workspaceId, event: 'key.create', resources, description: `Created ${keyLabel(key)} for API ${api.name}` })
      return id
    })
    this.cache.invalidateHash(workspaceId, generated.hash)
    return { keyId, key: generated.key }
  }

  /** Inserts a key with these settings (create and migrate). Joins the caller's transaction. */
  async insertFromSettings(
    workspaceId: string,
    apiId: string,
    settings: KeySettings,
    material: { hash: string; start: string },
    encrypted: string | null,
  ): Promise<string> {
    const identity = settings.externalId ? await this.deps.identities.upsertByExternalId(workspaceId, settings.externalId) : null
    const credits = settings.credits
    return this.insertKey(
      {
        id: newId('key'),
        workspaceId,
        apiId,
        hash: material.hash,
        start: material.start,
        name: settings.name ?? null,
        meta: settings.meta ? serializeMeta(settings.meta) : null,
        identityId: identity?.id ?? null,
        enabled: settings.enabled !== false,
        expiresAt: settings.expires ?? null,
        remaining: credits?.remaining ?? null,
        refillAmount: credits?.refill?.amount ?? null,
        refillDay: credits?.refill?.interval === 'monthly' ? credits.refill.refillDay! : null,
        lastRefillAt: null,
        encrypted,
        createdAt: this.clock.now(),
      },
      { ratelimits: settings.ratelimits, permissions: settings.permissions, roles: settings.roles },
    )
  }

  /**
   * The one way a key row comes to exist: the row, then its ratelimits and
   * access (given, or copied from another key). Joins the caller's transaction.
   */
  private async insertKey(
    record: NewKeyRecord,
    attach: { ratelimits?: RatelimitInput[]; permissions?: string[]; roles?: string[]; copyAccessFrom?: string },
  ): Promise<string> {
    await this.stores.keys.insert(record)
    const { workspaceId, id: keyId } = record
    if (attach.ratelimits?.length) await this.deps.ratelimitDefinitions.replace(workspaceId, { keyId }, attach.ratelimits)
    if (attach.permissions?.length) await this.deps.keyAccess.setPermissions(workspaceId, keyId, attach.permissions)
    if (attach.roles?.length) await this.deps.keyAccess.setRoles(workspaceId, keyId, attach.roles)
    if (attach.copyAccessFrom) await this.deps.keyAccess.copy(attach.copyAccessFrom, keyId)
    return keyId
  }

  async update(workspaceId: string, input: UpdateKeyInput): Promise<void> {
    if (input.credits) validateCredits(input.credits, 'credits')
    if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
    const key = await this.get(workspaceId, input.keyId)
    const now = this.clock.now()
    const patch: KeyPatch = {}
    if (input.name !== undefined) patch.name = input.name
    if (input.meta !== undefined) patch.meta = input.meta === null ? null : serializeMeta(input.meta)
    if (input.expires !== undefined) patch.expiresAt = input.expires
    if (input.enabled !== undefined) patch.enabled = input.enabled
    if (input.credits !== undefined) Object.assign(patch, creditsPatch(key, input.credits, now))
    await this.stores.transaction(async () => {
      if (input.externalId !== undefined) {
        patch.identityId = input.externalId ? (await this.deps.identities.upsertByExternalId(workspaceId, input.externalId)).id : null
      }
      patch.updatedAt = this.clock.now()
      await this.stores.keys.update(key.id, patch)
      if (input.ratelimits !== undefined) await this.deps.ratelimitDefinitions.replace(workspaceId, { keyId: key.id }, input.ratelimits)
      if (input.permissions !== undefined) await this.deps.keyAccess.setPermissions(workspaceId, key.id, input.permissions)
      if (input.roles !== undefined) await this.deps.keyAccess.setRoles(workspaceId, key.id, input.roles)
      // The fields changed, never their values (meta is the caller's own data).
      const fields = Object.keys(input).filter((field) => field !== 'keyId' && input[field as keyof UpdateKeyInput] !== undefined)
      const description = `Updated ${keyLabel(key)}${fields.length ? `: ${fields.join(', ')}` : ''}`
      const linked = patch.identityId ? [identityResource({ id: patch.identityId, externalId: input.externalId! })] : []
      await this.deps.audit.record({ workspaceId, event: 'key.update', resources: [...keyResources(key), ...linked], description })
    })
    this.cache.invalidateKey(key.id)
  }

  async delete(workspaceId: string, keyId: string, permanent: boolean): Promise<void> {
    const key = await this.get(workspaceId, keyId)
    await this.stores.transaction(async () => {
      if (permanent) await this.stores.keys.hardDelete(key.id)
      else await this.stores.keys.softDelete(key.id, this.clock.now())
      const description = `Deleted ${keyLabel(key)}${permanent ? ' permanently' : ''}`
      await this.deps.audit.record({ workspaceId, event: 'key.delete', resources: keyResources(key), description })
    })
    this.cache.invalidateKey(key.id)
  }

  async updateCredits(workspaceId: string, keyId: string, operation: 'set' | 'increment' | 'decrement', value: number | null | undefined) {
    const key = await this.get(workspaceId, keyId)
    return this.stores.transaction(async () => {
      const result = await this.deps.credits.update(key, operation, value)
      const now = result.remaining === null ? 'unlimited' : String(result.remaining)
      const description =
        operation === 'set'
          ? `Set the credits of ${keyLabel(key)} to ${now}`
          : `${operation === 'increment' ? 'Added' : 'Took'} ${value} credits ${operation === 'increment' ? 'to' : 'from'} ${keyLabel(key)} (now ${now})`
      await this.deps.audit.record({ workspaceId, event: 'key.update_credits', resources: keyResources(key), description })
      return result
    })
  }

  /**
   * Issues a new key that copies the old one's settings, permissions, roles and
   * ratelimits; the old key expires `expirationMs` from now (0 = now).
   */
  async reroll(workspaceId: string, keyId: string, expirationMs: number): Promise<{ keyId: string; key: string }> {
    const old = await this.get(workspaceId, keyId)
    const generated = generateKey(prefixOf(old.start), 16)
    const encrypted = old.encrypted ? await this.deps.vault.encrypt(generated.key) : null
    const now = this.clock.now()
    // Like the upstream, a grace period ends on the next full minute; 0 ends the old key now.
    const oldExpires = expirationMs === 0 ? now : Math.min(EXPIRES_MAX, Math.ceil((now + expirationMs) / 60_000) * 60_000)
    const newKeyId = await this.stores.transaction(async () => {
      const id = await this.insertKey(
        {
          id: newId('key'),
          workspaceId,
          apiId: old.apiId,
          hash: generated.hash,
          start: generated.start,
          name: old.name,
          meta: old.meta === null ? null : JSON.stringify(old.meta),
          identityId: old.identity?.id ?? null,
          enabled: old.enabled,
          expiresAt: old.expiresAt,
          remaining: old.remaining,
          refillAmount: old.refillAmount,
          refillDay: old.refillDay,
          lastRefillAt: old.lastRefillAt,
          encrypted,
          createdAt: now,
        },
        { ratelimits: old.ratelimits, copyAccessFrom: old.id },
      )
      // Never extend an expiry that is already sooner.
      const sooner = old.expiresAt === null || old.expiresAt > oldExpires
      if (sooner) await this.stores.keys.setExpiry(old.id, oldExpires, now)
      await this.deps.audit.record({
        workspaceId,
        event: 'key.reroll',
        resources: [...keyResources(old), keyResource({ id, name: old.name })],
        description: `Rerolled ${keyLabel(old)} as ${id}; the old key stops at ${new Date(sooner ? oldExpires : old.expiresAt!).toISOString()}`,
      })
      return id
    })
    this.cache.invalidateKey(old.id)
    this.cache.invalidateHash(workspaceId, generated.hash)
    return { keyId: newKeyId, key: generated.key }
  }
}

/** The columns keys.updateKey's `credits` changes (null clears balance and refill). */
function creditsPatch(key: LoadedKey, credits: NonNullable<UpdateKeyInput['credits']> | null, now: number): KeyPatch {
  if (credits === null) return { remaining: null, refillAmount: null, refillDay: null }
  const patch: KeyPatch = {}
  if (credits.remaining !== undefined) patch.remaining = credits.remaining
  // A balance or refill set now starts the refill schedule now: no instant refill for an old key.
  if (credits.remaining !== undefined || credits.refill) patch.lastRefillAt = now
  // Clearing the balance makes the key unlimited, which leaves nothing to refill.
  if (credits.refill === null || (credits.remaining === null && credits.refill === undefined)) {
    patch.refillAmount = null
    patch.refillDay = null
  } else if (credits.refill) {
    if (credits.remaining === undefined && key.remaining === null) {
      throw badRequest('`credits.remaining` must be provided when `credits.refill` is set.', [
        { location: 'body.credits.remaining', message: 'the key has unlimited credits; set a balance to refill' },
      ])
    }
    patch.refillAmount = credits.refill.amount
    patch.refillDay = credits.refill.interval === 'monthly' ? credits.refill.refillDay! : null
  }
  return patch
}
