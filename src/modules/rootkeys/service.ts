// Root keys: the credentials that authenticate management calls. Owns creation,
// listing, revocation, rotation and authentication. Only SHA-256 hashes are
// stored; the plaintext leaves this module once, in the create/rotate result.
//
// authenticate runs before every management call, so a known key is answered
// from memory without awaiting anything; only a cache miss reads the store.
import type { Clock } from '../../clock'
import { generateKey, hashKey, secretsEqual } from '../../crypto'
import type { Stores } from '../../db/stores'
import type { RootKey } from '../../db/stores/rootKeys'
import { newId } from '../../ids'
import { permissionProblem } from '../../rbac/grants'
import type { AuditLog } from '../audit/service'
import type { WorkspaceService } from '../workspaces/service'

export interface Principal {
  rootKeyId: string
  workspaceId: string
  permissions: ReadonlySet<string>
}

export type AuthFailure = 'invalid' | 'expired'

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
}

export interface CreatedRootKey {
  rootKeyId: string
  key: string
  workspaceId: string
}

export class RootKeyInputError extends Error {}

const toInfo = (k: RootKey): RootKeyInfo => ({
  id: k.id,
  workspaceId: k.workspaceId,
  name: k.name,
  start: k.start,
  permissions: k.permissions,
  createdAt: k.createdAt,
  expiresAt: k.expiresAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
})

/** A cached lookup: the key with its grants parsed once, or null for an unknown hash. */
type CacheEntry = { key: RootKey; permissions: ReadonlySet<string> } | null

/** Root keys use the `unkey_` prefix and 16+ random bytes, like the upstream. */
export const ROOT_KEY_PREFIX = 'unkey'
const ROOT_KEY_BYTES = 24

/** How often the store is asked whether another process changed root keys. */
const EXTERNAL_CHANGE_CHECK_MS = 2

export class RootKeyService {
  /** hash -> entry; cleared whenever another process commits (stores.externalVersion) or a key here changes. */
  private readonly cache = new Map<string, CacheEntry>()
  private cacheVersion = -1
  private versionCheckedAt = Number.NEGATIVE_INFINITY
  /** Bumped whenever the cache is dropped, so that a lookup begun before cannot refill it with stale data. */
  private generation = 0
  private readonly pendingUse = new Map<string, number>()

  constructor(
    private readonly stores: Pick<Stores, 'rootKeys' | 'transaction' | 'externalVersion'>,
    private readonly clock: Clock,
    private readonly workspaces: WorkspaceService,
    private readonly audit: AuditLog,
    private readonly options: { cacheMaxEntries: number },
  ) {}

  /** Validates every permission string; throws RootKeyInputError naming the bad one. */
  static validatePermissions(permissions: string[]): string[] {
    if (permissions.length === 0) throw new RootKeyInputError('at least one --permission is required')
    for (const p of permissions) {
      const problem = permissionProblem(p)
      if (problem) throw new RootKeyInputError(`invalid permission ${problem}`)
    }
    return [...new Set(permissions)]
  }

  /** Creates a key in the workspace named by id or name (created by name when absent). */
  async create(input: { workspace: string; name: string; permissions: string[]; expiresAt?: number | null; seeded?: boolean }): Promise<CreatedRootKey> {
    const name = input.name.trim()
    if (!name) throw new RootKeyInputError('the root key needs a non-empty --name')
    const permissions = RootKeyService.validatePermissions(input.permissions)
    const now = this.clock.now()
    if (input.expiresAt != null && input.expiresAt <= now) throw new RootKeyInputError('the expiry must be in the future')
    return this.stores.transaction(async () => {
      const ws = await this.workspaces.ensure(input.workspace)
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
    return key ? toInfo(key) : null
  }

  async list(workspaceId: string): Promise<RootKeyInfo[]> {
    return (await this.stores.rootKeys.listByWorkspace(workspaceId)).map(toInfo)
  }

  /** Active keys created by the seed command for a workspace. */
  async listSeeded(workspaceId: string): Promise<RootKeyInfo[]> {
    return (await this.stores.rootKeys.listSeeded(workspaceId)).map(toInfo)
  }

  /** Returns false when the key does not exist or was already revoked. */
  async revoke(id: string): Promise<boolean> {
    const changed = await this.stores.transaction(async () => {
      const key = await this.stores.rootKeys.findById(id)
      if (!key || !(await this.stores.rootKeys.revoke(id, this.clock.now()))) return false
      const resources = [{ type: 'root_key', id, name: key.name }]
      await this.audit.record({ workspaceId: key.workspaceId, event: 'root_key.revoke', resources, description: `Revoked root key ${key.name}` })
      return true
    })
    this.dropCache()
    return changed
  }

  /**
   * Issues a new key with the same workspace, name and permissions; the old one
   * stops working after `graceMs` (immediately when 0).
   */
  rotate(id: string, graceMs = 0, options: { seeded?: boolean } = {}): Promise<CreatedRootKey> {
    return this.stores.transaction(async () => {
      const old = await this.stores.rootKeys.findById(id)
      if (!old) throw new RootKeyInputError(`no root key with id '${id}'`)
      const now = this.clock.now()
      if (old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt <= now)) {
        throw new RootKeyInputError(`root key '${id}' is already revoked or expired`)
      }
      const created = await this.insertKey(old.workspaceId, old.name, old.permissions, old.expiresAt, options.seeded ?? old.seeded)
      if (graceMs <= 0) await this.stores.rootKeys.revoke(id, now)
      else await this.stores.rootKeys.expireBy(id, now + graceMs)
      await this.audit.record({
        workspaceId: old.workspaceId,
        event: 'root_key.rotate',
        resources: [
          { type: 'root_key', id: old.id, name: old.name },
          { type: 'root_key', id: created.rootKeyId, name: old.name },
        ],
        description: `Rotated root key ${old.name}: ${created.rootKeyId} replaces ${old.id}, which stops ${graceMs <= 0 ? 'at once' : `at ${new Date(Math.min(old.expiresAt ?? Number.POSITIVE_INFINITY, now + graceMs)).toISOString()}`}`,
      })
      this.dropCache()
      return created
    })
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
    const now = performance.now()
    if (now - this.versionCheckedAt >= EXTERNAL_CHANGE_CHECK_MS) {
      this.versionCheckedAt = now
      const version = this.stores.externalVersion()
      if (version !== this.cacheVersion) {
        this.dropCache()
        this.cacheVersion = version
      }
    }
    const entry = this.cache.get(hash)
    return entry === undefined ? this.load(hash) : this.judge(entry, hash)
  }

  private async load(hash: string): Promise<Principal | AuthFailure> {
    const generation = this.generation
    const key = await this.stores.rootKeys.findByHash(hash)
    const entry: CacheEntry = key ? { key, permissions: new Set(key.permissions) } : null
    if (generation === this.generation) {
      if (this.cache.size > this.options.cacheMaxEntries) this.cache.clear()
      this.cache.set(hash, entry)
    }
    return this.judge(entry, hash)
  }

  private judge(entry: CacheEntry, hash: string): Principal | AuthFailure {
    if (!entry || !secretsEqual(entry.key.hash, hash) || entry.key.revokedAt !== null) return 'invalid'
    const { key } = entry
    const now = this.clock.now()
    if (key.expiresAt !== null && key.expiresAt <= now) return 'expired'
    this.pendingUse.set(key.id, now)
    return { rootKeyId: key.id, workspaceId: key.workspaceId, permissions: entry.permissions }
  }

  private dropCache(): void {
    this.cache.clear()
    this.generation++
  }

  /** Writes batched last-used times; called periodically and at shutdown. */
  async flushUsage(): Promise<void> {
    if (this.pendingUse.size === 0) return
    const entries = [...this.pendingUse]
    this.pendingUse.clear()
    await this.stores.rootKeys.recordUse(entries)
  }
}
