// What the root-key route tests share: a key with chosen grants made through
// the service (its id and plaintext), and the root-key rows and audit events
// of a workspace read back through the routes.
import type { Harness } from '../../support/harness'

export interface IssuedRootKey {
  rootKeyId: string
  key: string
}

/** A root key of `workspace` with `permissions`, made as the CLI makes it. */
export async function issueRootKey(
  h: Harness,
  permissions: string[],
  options: { workspace?: string; name?: string; expiresAt?: number } = {},
): Promise<IssuedRootKey> {
  const { rootKeyId, key } = await h.services.rootKeys.create({
    workspace: options.workspace ?? 'ws',
    name: options.name ?? `holds ${permissions.join(' ')}`,
    permissions,
    expiresAt: options.expiresAt ?? null,
  })
  return { rootKeyId, key }
}

/** Every root key of the workspace as rootKeys.listRootKeys shows it (one page of 100). */
export async function listed(h: Harness, root: string): Promise<any[]> {
  return h.ok('rootKeys.listRootKeys', {}, root)
}

/** The workspace's audit events with one of `events`, newest first. */
export async function eventsNamed(h: Harness, root: string, ...events: string[]): Promise<any[]> {
  return h.ok('audit.listLogs', { events }, root)
}

/** How many root keys the database holds, in every workspace. */
export const rootKeyCount = (h: Harness) => h.db.query<{ n: number }, []>('SELECT count(*) AS n FROM root_keys').get()!.n
