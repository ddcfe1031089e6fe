// Turns stored keys into `LoadedKey`s (the key with its identity, access and
// ratelimits: everything verification and the key views need), and keeps the
// verifiable ones in the KeyCache. A cached key is answered synchronously, so
// a warm verification awaits nothing; a miss loads from the stores once, however
// many requests for the same key arrive meanwhile (they share one load, so
// they also share one object and one credit balance).
import type { Stores } from '../../db/stores'
import type { KeyRecord } from '../../db/stores/keys'
import { hashKey } from '../../crypto'
import type { IdentityService } from '../identities/service'
import type { RatelimitDefinition, RatelimitDefinitionService } from '../ratelimit/definitions'
import type { KeyAccess, KeyAccessService } from './access'
import { cacheSlot, type KeyCache } from './cache'
import type { CreditLedger } from './credits'
import type { VerificationLog } from './events'

export interface IdentityView {
  id: string
  externalId: string
  meta: Record<string, unknown> | null
  ratelimits: RatelimitDefinition[]
}

/** Everything needed to verify or describe a key, as held in the cache. */
export interface LoadedKey extends Omit<KeyRecord, 'meta' | 'identityId'> {
  meta: Record<string, unknown> | null
  identity: IdentityView | null
  access: KeyAccess
  permissionSet: ReadonlySet<string>
  ratelimits: RatelimitDefinition[]
}

export interface KeyLoaderDeps {
  credits: CreditLedger
  events: VerificationLog
  keyAccess: KeyAccessService
  identities: IdentityService
  ratelimitDefinitions: RatelimitDefinitionService
}

// What most keys have: nothing beyond the key itself. Shared by every such cached key (read only, never mutated).
export const NO_ACCESS: KeyAccess = Object.freeze({ permissions: Object.freeze([]) as unknown as string[], roles: Object.freeze([]) as unknown as string[] })
export const NO_PERMISSIONS: ReadonlySet<string> = new Set()
export const NO_RATELIMITS = Object.freeze([]) as unknown as RatelimitDefinition[]
/** Distinct workspace and API ids kept by `shared`; past this the table starts over (it only saves memory). */
const MAX_SHARED_IDS = 10_000

/** Loads begun again because the key changed while one ran, before a load's own answer is given uncached. */
const MAX_RELOADS = 8

export class KeyLoader {
  private readonly ids = new Map<string, string>()
  /** Loads under way by cache slot, with the cache epoch each began in. */
  private readonly loading = new Map<string, { epoch: number; load: Promise<LoadedKey | null> }>()

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'apis'>,
    readonly cache: KeyCache<LoadedKey>,
    private readonly deps: KeyLoaderDeps,
  ) {}

  /**
   * The live key with this plaintext in this workspace (another workspace's
   * key with the same hash is never seen); from memory when cached.
   */
  findByPlaintext(workspaceId: string, plaintext: string): LoadedKey | null | Promise<LoadedKey | null> {
    return this.findByHash(workspaceId, hashKey(plaintext))
  }

  /** Like findByPlaintext, by hash. */
  findByHash(workspaceId: string, hash: string): LoadedKey | null | Promise<LoadedKey | null> {
    // A hash no stored key has: answered before the cache, which then need not remember its absence.
    if (this.stores.keys.mayHoldHash?.(hash) === false) return null
    // Only a load begun since the last invalidation is shared: an older one may have read the row as it was before a change
    // the caller has already seen acknowledged (a key deleted, then verified).
    return this.findByHashAfter(workspaceId, hash, 0)
  }

  /** A key that is not stored is answered without an await when the store answers at once: abuse must stay cheap. */
  private loadByHash(workspaceId: string, hash: string, retries = 0): LoadedKey | null | Promise<LoadedKey | null> {
    const epoch = this.cache.epoch
    const found = this.stores.keys.findLiveByHash(workspaceId, hash)
    if (found === null) {
      this.cache.set(workspaceId, hash, null)
      return null
    }
    return this.loadRecord(workspaceId, hash, epoch, found, retries)
  }

  private async loadRecord(
    workspaceId: string,
    hash: string,
    epoch: number,
    found: KeyRecord | Promise<KeyRecord | null>,
    retries: number,
  ): Promise<LoadedKey | null> {
    const record = await found
    const pending = record ? this.deps.credits.pendingBalance(record.id) : undefined
    const key = record && (await this.stores.apis.isLive(record.apiId)) ? await this.build(record, pending) : null
    if (this.cache.epoch === epoch) {
      this.cache.set(workspaceId, hash, key)
      return key
    }
    // Something changed while loading: what was read may predate it, and a key object that is not
    // the cached one must not be handed out: verifications spending credits from two objects of one
    // key would each start from the same balance. Join (or start) the load of the new epoch instead.
    if (retries >= MAX_RELOADS) return key
    return this.findByHashAfter(workspaceId, hash, retries + 1)
  }

  private findByHashAfter(workspaceId: string, hash: string, retries: number): LoadedKey | null | Promise<LoadedKey | null> {
    const cached = this.cache.peek(workspaceId, hash)
    if (cached !== undefined) return cached
    const slot = cacheSlot(workspaceId, hash)
    const epoch = this.cache.epoch
    const under = this.loading.get(slot)
    if (under?.epoch === epoch) return under.load
    const loaded = this.loadByHash(workspaceId, hash, retries)
    if (!(loaded instanceof Promise)) return loaded
    const load = loaded.finally(() => {
      if (this.loading.get(slot)?.load === load) this.loading.delete(slot)
    })
    this.loading.set(slot, { epoch, load })
    return load
  }

  /** The live key (of a live API) with this id in this workspace, read from the store now; null when absent. */
  async findFresh(workspaceId: string, keyId: string): Promise<LoadedKey | null> {
    const record = await this.stores.keys.findLive(workspaceId, keyId)
    const pending = record ? this.deps.credits.pendingBalance(record.id) : undefined
    if (!record || !(await this.stores.apis.isLive(record.apiId))) return null
    return this.build(record, pending)
  }

  /** Records the `start` of a migrated key, first known when its plaintext is verified. */
  async recordStart(key: LoadedKey, start: string): Promise<void> {
    key.start = start
    await this.stores.keys.setStart(key.id, start)
  }

  /**
   * A stored key with its identity, access and ratelimits, and with balances and times not yet written.
   * `pending` is the unwritten balance as it was when `record` was read (the default: now, for a record
   * just read): looked up any later, a balance written and dropped meanwhile would leave the record's
   * older one in force, and credits acknowledged as spent would be spent again.
   */
  async build(record: KeyRecord, pending = this.deps.credits.pendingBalance(record.id)): Promise<LoadedKey> {
    const access = await this.deps.keyAccess.keyAccess(record.id)
    const ratelimits = await this.deps.ratelimitDefinitions.list({ keyId: record.id })
    const identity = record.identityId ? await this.identityView(record.workspaceId, record.identityId) : null
    const plain = access.permissions.length === 0 && access.roles.length === 0
    // Every field spelled out, no spread: the object is then allocated with room for exactly these (a million may be cached).
    return {
      id: record.id,
      workspaceId: this.shared(record.workspaceId),
      apiId: this.shared(record.apiId),
      hash: record.hash,
      start: record.start,
      name: record.name,
      meta: record.meta === null ? null : JSON.parse(record.meta),
      enabled: record.enabled,
      expiresAt: record.expiresAt,
      remaining: pending ? pending.remaining : record.remaining,
      refillAmount: record.refillAmount,
      refillDay: record.refillDay,
      lastRefillAt: pending ? pending.lastRefillAt : record.lastRefillAt,
      encrypted: record.encrypted,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      lastUsedAt: this.deps.events.pendingLastUsed(record.id) ?? record.lastUsedAt,
      identity,
      access: plain ? NO_ACCESS : access,
      permissionSet: plain ? NO_PERMISSIONS : new Set(access.permissions),
      ratelimits: ratelimits.length === 0 ? NO_RATELIMITS : ratelimits,
    }
  }

  /** One copy of each workspace and API id, however many cached keys name it. */
  private shared(id: string): string {
    const known = this.ids.get(id)
    if (known !== undefined) return known
    if (this.ids.size >= MAX_SHARED_IDS) this.ids.clear()
    this.ids.set(id, id)
    return id
  }

  private async identityView(workspaceId: string, identityId: string): Promise<IdentityView | null> {
    const identity = await this.deps.identities.findById(workspaceId, identityId)
    if (!identity) return null
    return {
      id: identity.id,
      externalId: identity.externalId,
      meta: identity.meta,
      ratelimits: await this.deps.ratelimitDefinitions.list({ identityId: identity.id }),
    }
  }
}
