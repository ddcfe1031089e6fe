// The change bus: one Redis pub/sub channel on which every node announces the
// changes that make cached state stale, and hears everyone else's.
//
// Whether this node hears the channel is measured, not assumed: every
// HEARTBEAT_MS it publishes a heartbeat stamped with its own monotonic time
// and waits to hear it back. Redis delivers a channel's messages in the order
// it ran the PUBLISH commands, so hearing our heartbeat sent at `s` proves we
// have heard every change published before `s`. The bus is `live` while the
// newest heartbeat heard back was sent less than LIVE_WINDOW_MS ago; when it
// is not (Redis down, the subscription dropped silently, this node cut off),
// listeners are told, and the subscription is made again. What the caches do
// then (expire entries quickly, flush on recovery) is src/cluster/caches.ts's.
import { randomBytes } from 'node:crypto'
import type { RedisLink } from './redis'

/** How often a heartbeat is published. */
export const HEARTBEAT_MS = 100
/** The bus counts as live while a heartbeat sent within this window has come back. */
export const LIVE_WINDOW_MS = 600
/** Changes kept for sending again while Redis cannot take them; beyond this the oldest are dropped. */
const MAX_UNSENT = 10_000

/** A change that makes other nodes' cached state stale (see src/cluster/caches.ts for how each is applied). */
export type ClusterChange =
  | { kind: 'key'; keyId: string }
  | { kind: 'hash'; workspaceId: string; hash: string }
  | { kind: 'workspace'; workspaceId: string }
  | { kind: 'rootKeys' }
  | { kind: 'ratelimitNamespace'; namespaceId: string }

interface Message {
  /** The node that sent it. */
  from: string
  /** A heartbeat: the sender's performance.now() when it sent it. */
  beat?: number
  changes?: ClusterChange[]
}

export interface ChangeBusOptions {
  channel: string
  log: (level: 'info' | 'warn' | 'error', message: string) => void
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 512

/** The change if `value` is a well-formed one (anyone who can reach Redis can publish), else null. */
function parseChange(value: unknown): ClusterChange | null {
  if (typeof value !== 'object' || value === null) return null
  const c = value as Record<string, unknown>
  switch (c.kind) {
    case 'key':
      return isString(c.keyId) ? { kind: 'key', keyId: c.keyId } : null
    case 'hash':
      return isString(c.workspaceId) && isString(c.hash) ? { kind: 'hash', workspaceId: c.workspaceId, hash: c.hash } : null
    case 'workspace':
      return isString(c.workspaceId) ? { kind: 'workspace', workspaceId: c.workspaceId } : null
    case 'rootKeys':
      return { kind: 'rootKeys' }
    case 'ratelimitNamespace':
      return isString(c.namespaceId) ? { kind: 'ratelimitNamespace', namespaceId: c.namespaceId } : null
    default:
      return null
  }
}

export class ChangeBus {
  /** This node's id on the channel (random per process). */
  readonly nodeId = randomBytes(9).toString('base64url')
  /** When the newest heartbeat heard back was sent (this node's performance.now()). */
  private confirmedAt = Number.NEGATIVE_INFINITY
  private resubscribedAt = Number.NEGATIVE_INFINITY
  private isLive = false
  private readonly changeListeners: ((changes: ClusterChange[]) => void)[] = []
  private readonly liveListeners: ((live: boolean) => void)[] = []
  /** Changes whose publication failed, sent again once Redis answers. */
  private unsent: ClusterChange[] = []
  private timer: ReturnType<typeof setInterval> | null = null
  private stopped = false

  constructor(
    private readonly publisher: RedisLink,
    private readonly subscriber: RedisLink,
    private readonly options: ChangeBusOptions,
  ) {}

  /** The Redis channel of the changes. */
  get channel(): string {
    return this.options.channel
  }

  /** True while this node provably hears the channel (see the header). */
  get live(): boolean {
    return this.isLive
  }

  /** True while changes can be published (the command connection is up). */
  get canPublish(): boolean {
    return this.publisher.connected
  }

  /** Changes announced by other nodes (never this node's own). */
  onChanges(listener: (changes: ClusterChange[]) => void): void {
    this.changeListeners.push(listener)
  }

  /** Called with false when the bus stops being live, and with true when it is live again. */
  onLiveChange(listener: (live: boolean) => void): void {
    this.liveListeners.push(listener)
  }

  /** Subscribes and starts the heartbeat; resolves once the first heartbeat came back (or rejects after `timeoutMs`). */
  async start(timeoutMs: number): Promise<void> {
    // Changes published while the subscription is down are never delivered: the bus stops being live at once,
    // and is live again only once a heartbeat sent over the new subscription comes back.
    this.subscriber.onStateChange((up) => {
      if (up) return
      this.confirmedAt = Number.NEGATIVE_INFINITY
      this.setLive(false)
    })
    await this.subscriber.subscribe(this.options.channel, (message) => this.receive(message))
    this.resubscribedAt = performance.now()
    this.timer = setInterval(() => this.tick(), HEARTBEAT_MS)
    this.tick()
    const deadline = performance.now() + timeoutMs
    while (!this.isLive) {
      if (performance.now() > deadline) throw new Error(`no heartbeat came back through Redis within ${timeoutMs} ms`)
      await Bun.sleep(10)
    }
  }

  /** Stops the heartbeat and the reports of liveness (the links are about to be closed). */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.stopped = true
  }

  /**
   * Publishes `changes`; resolves once Redis has taken them. When that fails
   * they are kept and published again after the next heartbeat that gets
   * through, and the promise rejects.
   */
  async publish(changes: ClusterChange[]): Promise<void> {
    if (changes.length === 0) return
    try {
      await this.send({ from: this.nodeId, changes })
    } catch (error) {
      this.unsent.push(...changes)
      if (this.unsent.length > MAX_UNSENT) this.unsent.splice(0, this.unsent.length - MAX_UNSENT)
      this.options.log('error', `could not announce ${changes.length} change(s) to the other nodes (kept, sent again once Redis answers): ${String(error)}`)
      throw error
    }
  }

  private send(message: Message): Promise<unknown> {
    return this.publisher.command('PUBLISH', [this.options.channel, JSON.stringify(message)])
  }

  private tick(): void {
    const now = performance.now()
    this.send({ from: this.nodeId, beat: now }).then(
      () => this.resend(),
      () => {},
    )
    const live = now - this.confirmedAt < LIVE_WINDOW_MS
    this.setLive(live)
    // Heartbeats go out but none come back: the subscription is dead without Redis having said so.
    if (!live && this.subscriber.connected && this.publisher.connected && now - Math.max(this.confirmedAt, this.resubscribedAt) > 2 * LIVE_WINDOW_MS) {
      this.resubscribedAt = now
      this.subscriber.restart('heartbeats stopped coming back')
    }
  }

  private setLive(live: boolean): void {
    if (this.stopped || live === this.isLive) return
    this.isLive = live
    this.options.log(live ? 'info' : 'warn', live ? 'change bus live' : 'change bus lost: cached keys expire quickly until it is back')
    for (const listener of this.liveListeners) listener(live)
  }

  private resend(): void {
    if (this.unsent.length === 0) return
    const changes = this.unsent
    this.unsent = []
    this.publish(changes).catch(() => {})
  }

  private receive(text: string): void {
    let message: Message
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null || typeof message.from !== 'string') return
    if (message.from === this.nodeId) {
      if (typeof message.beat === 'number' && message.beat > this.confirmedAt) {
        this.confirmedAt = message.beat
        if (performance.now() - message.beat < LIVE_WINDOW_MS) this.setLive(true)
      }
      return
    }
    if (!Array.isArray(message.changes)) return
    const changes = message.changes.map(parseChange).filter((c): c is ClusterChange => c !== null)
    if (changes.length === 0) return
    for (const listener of this.changeListeners) listener(changes)
  }
}
