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

export class KeyLoader {
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
    const cached = this.cache.peek(workspaceId, hash)
    if (cached !== undefined) return cached
    const slot = cacheSlot(workspaceId, hash)
    const epoch = this.cache.epoch
    const under = this.loading.get(slot)
    // Only a load begun since the last invalidation is shared: an older one may have read the row as it was before a change
    // the caller has already seen acknowledged (a key deleted, then verified).
    if (under?.epoch === epoch) return under.load
    const load: Promise<LoadedKey | null> = this.loadByHash(workspaceId, hash).finally(() => {
      if (this.loading.get(slot)?.load === load) this.loading.delete(slot)
    })
    this.loading.set(slot, { epoch, load })
    return load
  }

  private async loadByHash(workspaceId: string, hash: string): Promise<LoadedKey | null> {
    const epoch = this.cache.epoch
    const record = await this.stores.keys.findLiveByHash(workspaceId, hash)
    const key = record && (await this.stores.apis.isLive(record.apiId)) ? await this.build(record) : null
    // Something changed while loading: answer with what was read, but do not keep it.
    if (this.cache.epoch === epoch) this.cache.set(workspaceId, hash, key)
    return key
  }

  /** The live key (of a live API) with this id in this workspace, read from the store now; null when absent. */
  async findFresh(workspaceId: string, keyId: string): Promise<LoadedKey | null> {
    const record = await this.stores.keys.findLive(workspaceId, keyId)
    if (!record || !(await this.stores.apis.isLive(record.apiId))) return null
    return this.build(record)
  }

  /** Records the `start` of a migrated key, first known when its plaintext is verified. */
  async recordStart(key: LoadedKey, start: string): Promise<void> {
    key.start = start
    await this.stores.keys.setStart(key.id, start)
  }

  /** A stored key with its identity, access and ratelimits, and with balances and times not yet written. */
  async build(record: KeyRecord): Promise<LoadedKey> {
    const { meta, identityId, ...rest } = record
    const access = await this.deps.keyAccess.keyAccess(record.id)
    const pending = this.deps.credits.pendingBalance(record.id)
    return {
      ...rest,
      meta: meta === null ? null : JSON.parse(meta),
      remaining: pending ? pending.remaining : record.remaining,
      lastRefillAt: pending ? pending.lastRefillAt : record.lastRefillAt,
      lastUsedAt: this.deps.events.pendingLastUsed(record.id) ?? record.lastUsedAt,
      identity: identityId ? await this.identityView(record.workspaceId, identityId) : null,
      access,
      permissionSet: new Set(access.permissions),
      ratelimits: await this.deps.ratelimitDefinitions.list({ keyId: record.id }),
    }
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
