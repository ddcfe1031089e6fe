// Root keys: the credentials that authenticate management calls. Owns creation,
// listing, revocation, rotation and authentication. Only SHA-256 hashes are
// stored; the plaintext leaves this module once, in the create/rotate result.
//
// The CLI acts as the operator at the database and may do anything. Over HTTP
// another root key (the issuer) asks, bound by the rules of issuer.ts.
//
// authenticate runs before every management call, so a known key is answered
// from memory without awaiting anything; only a cache miss reads the store.
import type { Clock } from '../../clock'
import { digestsEqual, generateKey, hashKey } from '../../crypto'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { RootKey } from '../../db/stores/rootKeys'
import { ApiError, badRequest } from '../../errors'
import { newId } from '../../ids'
import { permissionProblem } from '../../rbac/grants'
import type { AuditLog } from '../audit/service'
import type { WorkspaceService } from '../workspaces/service'
import { type Issuer, mayActOn, mayGrant, mayOutlive, rootKeyNotFound } from './issuer'
import { KnownRootKeyHashes } from './known-hashes'

export interface Principal {
  rootKeyId: string
  workspaceId: string
  permissions: ReadonlySet<string>
}

export type AuthFailure = 'invalid' | 'expired'

export type RootKeyStatus = 'active' | 'expired' | 'revoked'

export interface RootKeyInfo {
  id: string
  workspaceId: string
  name: string
  start: string
  permissions: string[]
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
  revokedAt: number | null
  status: RootKeyStatus
}

export interface CreatedRootKey {
  rootKeyId: string
  key: string
  workspaceId: string
}

export interface RotatedRootKey extends CreatedRootKey {
  replacedRootKeyId: string
  /** When the replaced key stops working (unix ms). */
  replacedKeyStopsAt: number
}

const invalidInput = (message: string, location: string) => {
  const e = badRequest(message, [{ location, message }])
  return [e.status, e.title, e.type, e.detail, e.errors] as const
}

/** Input the CLI reports as a usage problem and HTTP as a 400 at `location`. */
export class RootKeyInputError extends ApiError {
  constructor(message: string, location = 'body') {
    super(...invalidInput(message, location))
    this.name = 'RootKeyInputError'
  }
}

function statusOf(k: RootKey, now: number): RootKeyStatus {
  if (k.revokedAt !== null) return 'revoked'
  return k.expiresAt !== null && k.expiresAt <= now ? 'expired' : 'active'
}

const toInfo = (k: RootKey, now: number): RootKeyInfo => ({
  id: k.id,
  workspaceId: k.workspaceId,
  name: k.name,
  start: k.start,
  permissions: k.permissions,
  createdAt: k.createdAt,
  expiresAt: k.expiresAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
  status: statusOf(k, now),
})

/**
 * A cached lookup, or null for an unknown hash: the key with the principal it
 * authenticates as (grants parsed once; one object, handed to every request
 * the key makes and never changed).
 */
type CacheEntry = { key: RootKey; principal: Principal } | null

/** Root keys use the `unkey_` prefix and 16+ random bytes, like the upstream. */
export const ROOT_KEY_PREFIX = 'unkey'
const ROOT_KEY_BYTES = 24

/**
 * How often the store is asked whether another process (the CLI) changed root
 * keys: a key it revoked is refused, and a key it created accepted, within
 * this long of its commit. Asking costs a statement (about 4.5 µs), paid once
 * per interval however many requests arrive, unknown keys included: asking
 * every quarter millisecond before each refusal cost a flood of unknown root
 * keys about 1 µs a request.
 */
const EXTERNAL_CHANGE_CHECK_MS = 2

export class RootKeyService {
  /** hash -> entry; cleared whenever another process commits (stores.externalVersion) or a key here changes. */
  private readonly cache = new Map<string, CacheEntry>()
  private cacheVersion = -1
  private versionCheckedAt = Number.NEGATIVE_INFINITY
  /** Bumped whenever the cache is dropped, so that a lookup begun before cannot refill it with stale data. */
  private generation = 0
  private readonly pendingUse = new Map<string, number>()
  /** Told of every root-key change made here (revoke, rotate): cluster mode announces it to the other nodes. */
  announceChange: (() => void) | null = null

  constructor(
    private readonly stores: Pick<Stores, 'rootKeys' | 'transaction' | 'externalVersion'>,
    private readonly clock: Clock,
    private readonly workspaces: WorkspaceService,
    private readonly audit: AuditLog,
    private readonly options: { cacheMaxEntries: number; knownHashes?: boolean },
  ) {
    // Only where every root-key change is seen at once (see ServiceOptions.knownRootKeyHashes).
    this.known = options.knownHashes ? new KnownRootKeyHashes((limit) => this.stores.rootKeys.listHashes(limit)) : null
  }

  private readonly known: KnownRootKeyHashes | null

  /** Validates every permission string; throws RootKeyInputError naming the bad one. */
  static validatePermissions(permissions: string[]): string[] {
    if (permissions.length === 0) throw new RootKeyInputError('at least one --permission is required', 'body.permissions')
    for (const [i, p] of permissions.entries()) {
      const problem = permissionProblem(p)
      if (problem) throw new RootKeyInputError(`invalid permission ${problem}`, `body.permissions[${i}]`)
    }
    return [...new Set(permissions)]
  }

  /**
   * Creates a key in the workspace named by id or name (created by name when
   * absent). With an issuer, in the issuer's workspace and with nothing the
   * issuer does not hold.
   */
  async create(
    input: { workspace: string; name: string; permissions: string[]; expiresAt?: number | null; seeded?: boolean },
    issuer?: Issuer,
  ): Promise<CreatedRootKey> {
    const name = input.name.trim()
    if (!name) throw new RootKeyInputError('the root key needs a non-empty --name', 'body.name')
    const permissions = RootKeyService.validatePermissions(input.permissions)
    const now = this.clock.now()
    if (input.expiresAt != null && input.expiresAt <= now) throw new RootKeyInputError('the expiry must be in the future', 'body.expiresIn')
    if (issuer) mayGrant(issuer, permissions)
    return this.stores.transaction(async () => {
      if (issuer) mayOutlive(await this.expiryOf(issuer), input.expiresAt ?? null)
      const ws = await this.workspaces.ensure(issuer ? issuer.workspaceId : input.workspace)
      const created = await this.insertKey(ws.id, name, permissions, input.expiresAt ?? null, input.seeded ?? false)
      await this.audit.record({
        workspaceId: ws.id,
        event: 'root_key.create',
        resources: [{ type: 'root_key', id: created.rootKeyId, name }],
        description: `Created root key ${name} with permissions ${permissions.join(', ')}`,
      })
      return created
    })
  }

  private async insertKey(workspaceId: string, name: string, permissions: string[], expiresAt: number | null, seeded: boolean): Promise<CreatedRootKey> {
    const { key, hash, start } = generateKey(ROOT_KEY_PREFIX, ROOT_KEY_BYTES)
    this.known?.add(hash)
    const id = newId('rk')
    await this.stores.rootKeys.insert({
      id,
      workspaceId,
      name,
      hash,
      start,
      permissions,
      createdAt: this.clock.now(),
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
      seeded,
    })
    return { rootKeyId: id, key, workspaceId }
  }

  async find(id: string): Promise<RootKeyInfo | null> {
    const key = await this.stores.rootKeys.findById(id)
    return key ? toInfo(key, this.clock.now()) : null
  }

  /** The calling key itself with its workspace (what the console shows at sign-in). */
  async describe(principal: Principal): Promise<RootKeyInfo & { workspace: { id: string; name: string } }> {
    const [key, ws] = await Promise.all([this.find(principal.rootKeyId), this.workspaces.find(principal.workspaceId)])
    if (!key) throw rootKeyNotFound()
    return { ...key, workspace: { id: principal.workspaceId, name: ws?.name ?? principal.workspaceId } }
  }

  async list(workspaceId: string): Promise<RootKeyInfo[]> {
    const now = this.clock.now()
    return (await this.stores.rootKeys.listByWorkspace(workspaceId)).map((k) => toInfo(k, now))
  }

  /** A page of the workspace's keys in id order, revoked and expired ones included. */
  async page(workspaceId: string, input: PageInput): Promise<Page<RootKeyInfo>> {
    const keys = await this.stores.rootKeys.pageByWorkspace(workspaceId, { cursor: input.cursor ?? '', limit: input.limit + 1 })
    const now = this.clock.now()
    return toPage(keys, input.limit, (k) => toInfo(k, now))
  }

  /** Active keys created by the seed command for a workspace. */
  async listSeeded(workspaceId: string): Promise<RootKeyInfo[]> {
    const now = this.clock.now()
    return (await this.stores.rootKeys.listSeeded(workspaceId)).map((k) => toInfo(k, now))
  }

  /**
   * Returns false when the key does not exist or was already revoked. With an
   * issuer, a key it may not act on (see mayActOn) is a 404 or a 403.
   */
  async revoke(id: string, issuer?: Issuer): Promise<boolean> {
    const changed = await this.stores.transaction(async () => {
      const key = await this.stores.rootKeys.findById(id)
      if (issuer) mayActOn(issuer, key)
      if (!key || !(await this.stores.rootKeys.revoke(id, this.clock.now()))) return false
      const resources = [{ type: 'root_key', id, name: key.name }]
      await this.audit.record({ workspaceId: key.workspaceId, event: 'root_key.revoke', resources, description: `Revoked root key ${key.name}` })
      return true
    })
    this.changed()
    return changed
  }

  /**
   * Issues a new key with the same workspace, name and permissions; the old one
   * stops working after `graceMs` (immediately when 0). With an issuer, a key
   * it may not act on (see mayActOn) is a 404 or a 403.
   */
  async rotate(id: string, graceMs = 0, options: { seeded?: boolean; issuer?: Issuer } = {}): Promise<RotatedRootKey> {
    const { issuer } = options
    const created = await this.stores.transaction(async () => {
      const old = await this.stores.rootKeys.findById(id)
      if (issuer) mayActOn(issuer, old)
      if (!old) throw new RootKeyInputError(`no root key with id '${id}'`, 'body.rootKeyId')
      const now = this.clock.now()
      if (old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt <= now)) {
        throw new RootKeyInputError(`root key '${id}' is already revoked or expired`, 'body.rootKeyId')
      }
      if (issuer) mayOutlive(await this.expiryOf(issuer), old.expiresAt)
      const created = await this.insertKey(old.workspaceId, old.name, old.permissions, old.expiresAt, options.seeded ?? old.seeded)
      if (graceMs <= 0) await this.stores.rootKeys.revoke(id, now)
      else await this.stores.rootKeys.expireBy(id, now + graceMs)
      const stopsAt = graceMs <= 0 ? now : Math.min(old.expiresAt ?? Number.POSITIVE_INFINITY, now + graceMs)
      await this.audit.record({
        workspaceId: old.workspaceId,
        event: 'root_key.rotate',
        resources: [
          { type: 'root_key', id: old.id, name: old.name },
          { type: 'root_key', id: created.rootKeyId, name: old.name },
        ],
        description: `Rotated root key ${old.name}: ${created.rootKeyId} replaces ${old.id}, which stops ${graceMs <= 0 ? 'at once' : `at ${new Date(stopsAt).toISOString()}`}`,
      })
      return { ...created, replacedRootKeyId: old.id, replacedKeyStopsAt: stopsAt }
    })
    // After the commit, so that no lookup running meanwhile caches the key as it was.
    this.changed()
    return created
  }

  /** When the issuer's own key expires (null: never). */
  private async expiryOf(issuer: Issuer): Promise<number | null> {
    return (await this.stores.rootKeys.findById(issuer.rootKeyId))?.expiresAt ?? null
  }

  /**
   * Resolves a bearer token to its principal. Lookups are by hash; the stored
   * hash is then compared in constant time. Results are cached in memory and
   * the cache is dropped whenever another process (the CLI) writes the store.
   * Answers synchronously on a cache hit; a miss returns a Promise.
   */
  authenticate(token: string): Principal | AuthFailure | Promise<Principal | AuthFailure> {
    const hash = hashKey(token)
    // Asking SQLite costs a statement; asking once per couple of milliseconds still applies a CLI revocation at once for any caller.
    this.dropIfChangedElsewhere()
    const entry = this.cache.get(hash)
    if (entry !== undefined) return this.judge(entry, hash)
    // A hash no stored root key has is refused at once (another process's changes were asked about above).
    if (this.known && !this.known.mayHold(hash)) return 'invalid'
    return this.load(hash)
  }

  /** Drops the cache if another process changed root keys; the store is asked at most every EXTERNAL_CHANGE_CHECK_MS. */
  private dropIfChangedElsewhere(): void {
    const now = performance.now()
    if (now - this.versionCheckedAt < EXTERNAL_CHANGE_CHECK_MS) return
    this.versionCheckedAt = now
    const version = this.stores.externalVersion()
    if (version === this.cacheVersion) return
    this.dropCache()
    this.cacheVersion = version
  }

  private async load(hash: string): Promise<Principal | AuthFailure> {
    const generation = this.generation
    const key = await this.stores.rootKeys.findByHash(hash)
    const entry: CacheEntry = key ? { key, principal: { rootKeyId: key.id, workspaceId: key.workspaceId, permissions: new Set(key.permissions) } } : null
    if (generation === this.generation) {
      if (this.cache.size > this.options.cacheMaxEntries) this.cache.clear()
      this.cache.set(hash, entry)
    }
    return this.judge(entry, hash)
  }

  private judge(entry: CacheEntry, hash: string): Principal | AuthFailure {
    if (!entry || !digestsEqual(entry.key.hash, hash) || entry.key.revokedAt !== null) return 'invalid'
    const { key } = entry
    const now = this.clock.now()
    if (key.expiresAt !== null && key.expiresAt <= now) return 'expired'
    this.pendingUse.set(key.id, now)
    return entry.principal
  }

  /** Forgets every cached lookup: after a change here, or when another node of a cluster announces one. */
  dropCache(): void {
    this.known?.forget()
    this.cache.clear()
    this.generation++
  }

  private changed(): void {
    this.dropCache()
    this.announceChange?.()
  }

  /** Writes batched last-used times; called periodically and at shutdown. */
  async flushUsage(): Promise<void> {
    if (this.pendingUse.size === 0) return
    const entries = [...this.pendingUse]
    this.pendingUse.clear()
    await this.stores.rootKeys.recordUse(entries)
  }
}
