// Seeds three isolated workspaces — development, staging and production —
// each holding one root key with permission `*`. Idempotent: a second run
// changes nothing unless asked to rotate. Used by `latch seed`
// (src/cli/seed.ts), which `bun scripts/seed.ts [flags]` also runs.
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import type { WorkspaceService } from '../workspaces/service'
import type { RootKeyService } from './service'

export const SEED_WORKSPACES = ['development', 'staging', 'production'] as const
export type SeedWorkspace = (typeof SEED_WORKSPACES)[number]

/** The name given to every seeded root key. */
export const SEED_KEY_NAME = 'seed'

export interface SeededKey {
  workspaceId: string
  rootKeyId: string
  /** The plaintext, only when this run issued the key. */
  key?: string
  /** `created`: new; `rotated`: replaced the previous seed key; `existing`: left as it was. */
  status: 'created' | 'rotated' | 'existing'
  /** Seed keys revoked by this run (when rotating). */
  revokedRootKeyIds: string[]
}

export type SeedResult = Record<SeedWorkspace, SeededKey>

export interface SeedDeps {
  stores: Pick<Stores, 'transaction'>
  rootKeys: RootKeyService
  workspaces: WorkspaceService
}

/**
 * Ensures every seed workspace has an active seed key, in one transaction.
 * With `rotate`, issues new keys and revokes the previous seed keys at once.
 */
export function seedWorkspaces({ stores, rootKeys, workspaces }: SeedDeps, clock: Clock, options: { rotate?: boolean } = {}): Promise<SeedResult> {
  return stores.transaction(async () => {
    const result = {} as SeedResult
    for (const name of SEED_WORKSPACES) {
      const now = clock.now()
      const ws = await workspaces.find(name)
      const active = ws
        ? (await rootKeys.listSeeded(ws.id))
            .filter((k) => k.expiresAt === null || k.expiresAt > now)
            .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
        : []
      const [newest, ...older] = active
      if (!newest) {
        const created = await rootKeys.create({ workspace: name, name: SEED_KEY_NAME, permissions: ['*'], seeded: true })
        result[name] = { workspaceId: created.workspaceId, rootKeyId: created.rootKeyId, key: created.key, status: 'created', revokedRootKeyIds: [] }
      } else if (!options.rotate) {
        result[name] = { workspaceId: newest.workspaceId, rootKeyId: newest.id, status: 'existing', revokedRootKeyIds: [] }
      } else {
        const created = await rootKeys.rotate(newest.id, 0, { seeded: true })
        for (const k of older) await rootKeys.revoke(k.id)
        result[name] = {
          workspaceId: created.workspaceId,
          rootKeyId: created.rootKeyId,
          key: created.key,
          status: 'rotated',
          revokedRootKeyIds: [newest.id, ...older.map((k) => k.id)],
        }
      }
    }
    return result
  })
}
