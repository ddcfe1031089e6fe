// Root keys: the credentials that authenticate management calls. Owns creation,
// listing, revocation, rotation and authentication. Only SHA-256 hashes are
// stored; the plaintext leaves this module once, in the create/rotate result.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { generateKey, hashKey, secretsEqual } from '../../crypto'
import { newId } from '../../ids'
import { WorkspaceRepository } from '../workspaces/repository'
import { permissionProblem } from './permissions'

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

interface RootKeyRow {
  id: string
  workspace_id: string
  name: string
  hash: string
  start: string
  permissions: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
  seeded: number
}

const toInfo = (r: RootKeyRow): RootKeyInfo => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  start: r.start,
  permissions: JSON.parse(r.permissions),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
})

/** Root keys use the `unkey_` prefix and 16+ random bytes, like the upstream. */
export const ROOT_KEY_PREFIX = 'unkey'
const ROOT_KEY_BYTES = 24

export class RootKeyService {
  readonly workspaces: WorkspaceRepository
  private readonly stmt
  /** hash -> row; cleared whenever another connection commits (PRAGMA data_version). */
  private readonly cache = new Map<string, RootKeyRow | null>()
  private cacheVersion = -1
  private readonly pendingUse = new Map<string, number>()

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {
    this.workspaces = new WorkspaceRepository(db)
    this.stmt = {
      byHash: db.query<RootKeyRow, [string]>('SELECT * FROM root_keys WHERE hash = ?'),
      byId: db.query<RootKeyRow, [string]>('SELECT * FROM root_keys WHERE id = ?'),
      list: db.query<RootKeyRow, [string]>('SELECT * FROM root_keys WHERE workspace_id = ? ORDER BY created_at, id'),
      seeded: db.query<RootKeyRow, [string]>('SELECT * FROM root_keys WHERE workspace_id = ? AND seeded = 1 AND revoked_at IS NULL'),
      insert: db.query(
        `INSERT INTO root_keys (id, workspace_id, name, hash, start, permissions, created_at, expires_at, seeded)
         VALUES ($id, $workspaceId, $name, $hash, $start, $permissions, $createdAt, $expiresAt, $seeded)`,
      ),
      revoke: db.query('UPDATE root_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      expire: db.query('UPDATE root_keys SET expires_at = ? WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)'),
      touch: db.query('UPDATE root_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
      dataVersion: db.query<{ data_version: number }, []>('PRAGMA data_version'),
    }
  }

  /** Validates every permission string; throws RootKeyInputError naming the bad one. */
  static validatePermissions(permissions: string[]): string[] {
    if (permissions.length === 0) throw new RootKeyInputError('at least one --permission is required')
    for (const p of permissions) {
      const problem = permissionProblem(p)
      if (problem) throw new RootKeyInputError(`invalid permission ${problem}`)
    }
    return [...new Set(permissions)]
  }

  create(input: {
    workspace: string
    name: string
    permissions: string[]
    expiresAt?: number | null
    seeded?: boolean
  }): CreatedRootKey {
    const name = input.name.trim()
    if (!name) throw new RootKeyInputError('the root key needs a non-empty --name')
    const permissions = RootKeyService.validatePermissions(input.permissions)
    const now = this.clock.now()
    if (input.expiresAt != null && input.expiresAt <= now) throw new RootKeyInputError('the expiry must be in the future')
    return this.db.transaction(() => {
      const ws = this.workspaces.ensure(input.workspace, now)
      return this.insertKey(ws.id, name, permissions, input.expiresAt ?? null, input.seeded ?? false)
    })()
  }

  private insertKey(workspaceId: string, name: string, permissions: string[], expiresAt: number | null, seeded: boolean): CreatedRootKey {
    const { key, hash, start } = generateKey(ROOT_KEY_PREFIX, ROOT_KEY_BYTES)
    const id = newId('rk')
    this.stmt.insert.run({
      id,
      workspaceId,
      name,
      hash,
      start,
      permissions: JSON.stringify(permissions),
      createdAt: this.clock.now(),
      expiresAt,
      seeded: seeded ? 1 : 0,
    })
    return { rootKeyId: id, key, workspaceId }
  }

  get(id: string): RootKeyInfo | null {
    const row = this.stmt.byId.get(id)
    return row ? toInfo(row) : null
  }

  list(workspaceId: string): RootKeyInfo[] {
    return this.stmt.list.all(workspaceId).map(toInfo)
  }

  /** Active keys created by the seed script for a workspace. */
  listSeeded(workspaceId: string): RootKeyInfo[] {
    return this.stmt.seeded.all(workspaceId).map(toInfo)
  }

  /** Returns false when the key does not exist or was already revoked. */
  revoke(id: string): boolean {
    const changed = this.stmt.revoke.run(this.clock.now(), id).changes > 0
    this.cache.clear()
    return changed
  }

  /**
   * Issues a new key with the same workspace, name and permissions; the old one
   * stops working after `graceMs` (immediately when 0).
   */
  rotate(id: string, graceMs = 0, options: { seeded?: boolean } = {}): CreatedRootKey {
    return this.db.transaction(() => {
      const row = this.stmt.byId.get(id)
      if (!row) throw new RootKeyInputError(`no root key with id '${id}'`)
      const now = this.clock.now()
      if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
        throw new RootKeyInputError(`root key '${id}' is already revoked or expired`)
      }
      const created = this.insertKey(row.workspace_id, row.name, JSON.parse(row.permissions), row.expires_at, options.seeded ?? row.seeded === 1)
      if (graceMs <= 0) this.stmt.revoke.run(now, id)
      else this.stmt.expire.run(now + graceMs, id, now + graceMs)
      this.cache.clear()
      return created
    })()
  }

  /**
   * Resolves a bearer token to its principal. Lookups are by hash; the stored
   * hash is then compared in constant time. Results are cached in memory and
   * the cache is dropped whenever another process (the CLI) writes the database.
   */
  authenticate(token: string): Principal | AuthFailure {
    const hash = hashKey(token)
    const version = this.stmt.dataVersion.get()!.data_version
    if (version !== this.cacheVersion) {
      this.cache.clear()
      this.cacheVersion = version
    }
    let row = this.cache.get(hash)
    if (row === undefined) {
      row = this.stmt.byHash.get(hash) ?? null
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(hash, row)
    }
    if (!row || !secretsEqual(row.hash, hash) || row.revoked_at !== null) return 'invalid'
    const now = this.clock.now()
    if (row.expires_at !== null && row.expires_at <= now) return 'expired'
    this.pendingUse.set(row.id, now)
    return {
      rootKeyId: row.id,
      workspaceId: row.workspace_id,
      permissions: permissionSet(row),
    }
  }

  /** Writes batched last-used times; called periodically and at shutdown. */
  flushUsage(): void {
    if (this.pendingUse.size === 0) return
    const entries = [...this.pendingUse]
    this.pendingUse.clear()
    this.db.transaction(() => {
      for (const [id, at] of entries) this.stmt.touch.run(at, id, at)
    })()
  }
}

const parsedPermissions = new WeakMap<RootKeyRow, ReadonlySet<string>>()
function permissionSet(row: RootKeyRow): ReadonlySet<string> {
  let set = parsedPermissions.get(row)
  if (!set) {
    set = new Set<string>(JSON.parse(row.permissions))
    parsedPermissions.set(row, set)
  }
  return set
}
