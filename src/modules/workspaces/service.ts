// Workspaces: the unit of isolation. Every other row belongs to exactly one.
// A workspace is named by its id or its name wherever an operator names one
// (the CLI); creating a root key in an unknown name creates the workspace.
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import type { Workspace } from '../../db/stores/workspaces'
import { newId } from '../../ids'
import type { AuditLog } from '../audit/service'

export type { Workspace }

export class WorkspaceService {
  constructor(
    private readonly stores: Pick<Stores, 'workspaces' | 'transaction'>,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** The workspace with this id, or else with this name, or null. */
  find(idOrName: string): Promise<Workspace | null> {
    return this.stores.workspaces.findByIdOrName(idOrName)
  }

  /** Finds a workspace by id or name, creating it (by name) when absent. */
  ensure(idOrName: string): Promise<Workspace> {
    return this.stores.transaction(async () => {
      const found = await this.find(idOrName)
      if (found) return found
      const workspace: Workspace = { id: newId('ws'), name: idOrName, createdAt: this.clock.now() }
      await this.stores.workspaces.insert(workspace)
      await this.audit.record({
        workspaceId: workspace.id,
        event: 'workspace.create',
        resources: [{ type: 'workspace', id: workspace.id, name: workspace.name }],
        description: `Created workspace ${workspace.name}`,
      })
      return workspace
    })
  }
}
