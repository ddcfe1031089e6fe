// The audit log: every service that changes a workspace calls `record` inside
// the transaction that makes the change, so that the event commits or rolls
// back with it. The actor and request facts come from the context set around
// the call (./context.ts); without one (a scheduled job, a test calling a
// service directly) the actor is latch itself, so recording never fails for
// want of a caller. Events hold ids, names and a one-line description, never
// a secret, a key's plaintext or its hash: callers pass only those.
import type { Clock } from '../../clock'
import { toPage, type Page } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { AuditActor, AuditQuery, AuditRecord, AuditResource } from '../../db/stores/audit'
import { newId } from '../../ids'
import { currentAudit } from './context'
import type { AuditEventName, ListLogsInput } from './model'

export type { AuditRecord, AuditResource }

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: 'latch' }

export interface AuditEntry {
  workspaceId: string
  event: AuditEventName
  resources: AuditResource[]
  /** One line, for people; no secrets. */
  description: string
}

/** Events deleted per statement when pruning, so that no single write holds the database long. */
const PRUNE_SLICE = 5_000
const ROOT_KEY_NAMES_CACHED = 10_000

/** Collapses whitespace runs (newlines included) to one space and caps the length. */
const oneLine = (text: string, max: number) => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

export class AuditLog {
  /** Root key id → name; names never change (rotation issues a new id), so entries never go stale. */
  private readonly rootKeyNames = new Map<string, string>()

  constructor(
    private readonly stores: Pick<Stores, 'auditLogs' | 'rootKeys'>,
    private readonly clock: Clock,
  ) {}

  /** Writes one event. Call it inside the transaction of the change it describes. */
  async record(entry: AuditEntry): Promise<void> {
    const context = currentAudit()
    await this.stores.auditLogs.insert({
      id: newId('audit'),
      time: this.clock.now(),
      workspaceId: entry.workspaceId,
      event: entry.event,
      actor: context ? await this.named(context.actor) : SYSTEM_ACTOR,
      resources: entry.resources,
      description: oneLine(entry.description, 1_024),
      requestId: context?.requestId ?? null,
      remoteAddr: context?.remoteAddr ?? null,
      userAgent: context?.userAgent === undefined ? null : oneLine(context.userAgent, 512),
    })
  }

  /** A root key actor with its name, read from the root keys store (the authenticated principal carries only the id). */
  private async named(actor: AuditActor): Promise<AuditActor> {
    if (actor.type !== 'root_key' || actor.name !== undefined) return actor
    let name = this.rootKeyNames.get(actor.id)
    if (name === undefined) {
      name = (await this.stores.rootKeys.findById(actor.id))?.name
      if (name === undefined) return actor
      if (this.rootKeyNames.size >= ROOT_KEY_NAMES_CACHED) this.rootKeyNames.clear()
      this.rootKeyNames.set(actor.id, name)
    }
    return { ...actor, name }
  }

  /** A page of the workspace's events, newest first; `cursor` is the id of the page's first event. */
  async list(workspaceId: string, input: Omit<ListLogsInput, 'limit'> & { limit: number }): Promise<Page<AuditRecord>> {
    const query: AuditQuery = { cursor: input.cursor ?? '', limit: input.limit + 1 }
    if (input.events) query.events = input.events
    if (input.actorId !== undefined) query.actorId = input.actorId
    if (input.resourceId !== undefined) query.resourceId = input.resourceId
    if (input.since !== undefined) query.since = input.since
    if (input.until !== undefined) query.until = input.until
    return toPage(await this.stores.auditLogs.page(workspaceId, query), input.limit, (r) => r)
  }

  /** Deletes events older than `before` (unix ms), a slice at a time. Returns how many. */
  async prune(before: number): Promise<number> {
    let total = 0
    for (;;) {
      const removed = await this.stores.auditLogs.deleteBefore(before, PRUNE_SLICE)
      total += removed
      if (removed < PRUNE_SLICE) return total
    }
  }
}
