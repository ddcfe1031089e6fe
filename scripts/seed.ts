// Seeds a database with three isolated workspaces — development, staging and
// production — each holding one root key with permission `*`. Idempotent: a
// second run changes nothing unless asked to rotate. Used by `latch seed`
// (src/cli/seed.ts, bundled into the binary); `bun scripts/seed.ts [flags]`
// runs that same command.
import type { Clock } from '../src/clock'
import type { Database } from '../src/db/database'
import { RootKeyService } from '../src/modules/rootkeys/service'

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

/**
 * Ensures every seed workspace has an active seed key, in one transaction.
 * With `rotate`, issues new keys and revokes the previous seed keys at once.
 */
export function seedWorkspaces(db: Database, clock: Clock, options: { rotate?: boolean } = {}): SeedResult {
  const rootKeys = new RootKeyService(db, clock)
  return db.transaction(() => {
    const result = {} as SeedResult
    for (const name of SEED_WORKSPACES) {
      const now = clock.now()
      const ws = rootKeys.workspaces.find(name)
      const active = ws
        ? rootKeys
            .listSeeded(ws.id)
            .filter((k) => k.expiresAt === null || k.expiresAt > now)
            .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
        : []
      const [newest, ...older] = active
      if (!newest) {
        const created = rootKeys.create({ workspace: name, name: SEED_KEY_NAME, permissions: ['*'], seeded: true })
        result[name] = { workspaceId: created.workspaceId, rootKeyId: created.rootKeyId, key: created.key, status: 'created', revokedRootKeyIds: [] }
      } else if (!options.rotate) {
        result[name] = { workspaceId: newest.workspaceId, rootKeyId: newest.id, status: 'existing', revokedRootKeyIds: [] }
      } else {
        const created = rootKeys.rotate(newest.id, 0, { seeded: true })
        for (const k of older) rootKeys.revoke(k.id)
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
  })()
}

if (import.meta.main) {
  const { runCli } = await import('../src/cli/run')
  process.exitCode = await runCli(['seed', ...process.argv.slice(2)])
}
