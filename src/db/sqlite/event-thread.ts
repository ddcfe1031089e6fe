// The request thread's side of the SQLite server's analytics writer: hands
// each batch of events to a worker thread (./event-worker.ts) with a
// connection of its own, and settles when the worker has committed and synced
// it. Writing a verification event and its rollups cost the request thread
// more than answering the verification did; now it costs their JSON text.
// Should the thread be lost, batches are written on this thread again (the
// `fallback`), as they are without one.
import { type EventWriter, PartialBatchError, type RatelimitEvent, type VerificationEvent } from '../stores/analytics'
import { nextTurn } from './engine'

// lockWaiters (open): the request thread's count of writes waiting for the lock (see EngineOptions.lockWaiters).
export type EventThreadRequest = { id: number } & (
  | { kind: 'open'; path: string; busyDeadlineMs: number; walLimitBytes: number; lockWaiters: Int32Array }
  // Events, and last-used times as [keyId, at] pairs, as JSON text: a structured copy of as many
  // objects costs the request thread several times more (of 10,000 pairs, 6-16 ms against 1-2).
  | { kind: 'verifications'; events: string; lastUsed: string }
  | { kind: 'ratelimits'; events: string }
  // Writes the rollups held back (see ./owed-rollups.ts).
  | { kind: 'rollups' }
  | { kind: 'close' }
)
/** `written`: with an error, the events of the batch that had committed before it. */
export type EventThreadReply = { id: number; error?: string; written?: number }

type Message = EventThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never

/**
 * The worker's module. A compiled latch holds every entrypoint under
 * /$bunfs/root/ by its path below src/ (scripts/build.ts adds this one);
 * from source it sits beside this file.
 */
const WORKER_URL = import.meta.url.includes('/$bunfs/') ? './db/sqlite/event-worker.ts' : new URL('./event-worker.ts', import.meta.url).href

const report = (message: string) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message })}\n`)

/** The thread starts with the first batch, or this long after opening: never in the way of start-up. */
const START_AFTER_MS = 1_000

/**
 * Items serialised between two turns of the event loop: one JSON.stringify of a batch of 5,000
 * events, or of a second's last-used times of 10,000 keys, held requests for milliseconds.
 */
const ITEMS_PER_TURN = 256

/** `JSON.stringify(items)` of an array longer than ITEMS_PER_TURN, made ITEMS_PER_TURN items at a time. */
async function jsonInTurns(items: unknown[]): Promise<string> {
  const parts: string[] = []
  for (let from = 0; from < items.length; from += ITEMS_PER_TURN) {
    if (from > 0) await nextTurn()
    parts.push(JSON.stringify(items.slice(from, from + ITEMS_PER_TURN)).slice(1, -1))
  }
  return `[${parts.join(',')}]`
}

export class EventThread implements EventWriter {
  private worker: Worker | null = null
  private state: 'waiting' | 'running' | 'lost' = 'waiting'
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>()
  private nextId = 0
  private closed = false
  private readonly starter: ReturnType<typeof setTimeout>

  /** `onLost` runs once if the thread fails; from then on `fallback` writes every batch. */
  constructor(
    private readonly path: string,
    private readonly options: { busyDeadlineMs: number; walLimitBytes: number; lockWaiters: Int32Array },
    private readonly fallback: EventWriter,
    private readonly onLost: () => void,
  ) {
    // Started even without events: it also checkpoints the log.
    this.starter = setTimeout(() => this.thread(), START_AFTER_MS)
    ;(this.starter as { unref?: () => void }).unref?.()
  }

  /** The running thread (started now if it was waiting), or null once lost or closed. */
  private thread(): Worker | null {
    if (this.state !== 'waiting' || this.closed) return this.worker
    clearTimeout(this.starter)
    this.state = 'running'
    const worker = new Worker(WORKER_URL, { type: 'module' })
    worker.onerror = (event) => {
      event.preventDefault?.()
      this.lose(`the analytics writer thread failed: ${event.message}`)
    }
    worker.onmessage = ({ data }: MessageEvent<EventThreadReply>) => {
      const waiting = this.pending.get(data.id)
      if (!waiting) return
      this.pending.delete(data.id)
      if (data.error === undefined) waiting.resolve()
      else waiting.reject(data.written ? new PartialBatchError(data.error, data.written) : new Error(data.error))
    }
    this.worker = worker
    this.send({ kind: 'open', path: this.path, ...this.options }).catch((error: Error) =>
      this.lose(`the analytics writer thread could not open the database: ${error.message}`),
    )
    return worker
  }

  writeVerifications(events: VerificationEvent[], lastUsed: [string, number][]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the analytics writer is closed'))
    if (!this.thread()) return this.fallback.writeVerifications(events, lastUsed)
    return this.post([events, lastUsed], ([text, used]) => ({ kind: 'verifications', events: text!, lastUsed: used! }))
  }

  writeRatelimits(events: RatelimitEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the analytics writer is closed'))
    if (!this.thread()) return this.fallback.writeRatelimits(events)
    return this.post([events], ([text]) => ({ kind: 'ratelimits', events: text! }))
  }

  /** Batches still being serialised: `close` waits for them to be handed over first. */
  private readonly serialising = new Set<Promise<void>>()

  /** Hands a batch over as JSON text (one per array): at once when small, else serialised in turns (and tracked until sent). */
  private post(arrays: unknown[][], message: (texts: string[]) => Message): Promise<void> {
    if (arrays.every((items) => items.length <= ITEMS_PER_TURN)) return this.send(message(arrays.map((items) => JSON.stringify(items))))
    let sent: Promise<void> = Promise.resolve()
    const serialised = (async () => {
      const texts: string[] = []
      for (const items of arrays) texts.push(await jsonInTurns(items))
      sent = this.send(message(texts))
    })()
    this.serialising.add(serialised)
    return serialised.finally(() => this.serialising.delete(serialised)).then(() => sent)
  }

  /** Settles when the rollups of every batch handed over are written (the thread holds them back up to a second). */
  settle(): Promise<void> {
    if (this.closed || this.state !== 'running' || !this.worker) return Promise.resolve()
    return this.send({ kind: 'rollups' })
  }

  /** Waits for the batches handed over, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.starter)
    await Promise.allSettled([...this.serialising])
    const worker = this.worker
    if (!worker) return
    try {
      await this.send({ kind: 'close' })
    } finally {
      this.worker = null
      worker.terminate()
    }
  }

  private send(message: Message): Promise<void> {
    // Lost while a batch was being serialised: it fails, its buffer keeps it, and the fallback writes it next.
    if (!this.worker) return Promise.reject(new Error('the analytics writer thread is gone'))
    const id = ++this.nextId
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker!.postMessage({ ...message, id } as EventThreadRequest)
    })
  }

  /** The thread is gone: what it was given is failed (its buffers keep it and retry), and the fallback takes over. */
  private lose(reason: string): void {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    this.state = 'lost'
    worker.terminate()
    report(`${reason}; analytics events are written on the request thread from now on`)
    for (const waiting of this.pending.values()) waiting.reject(new Error(reason))
    this.pending.clear()
    this.onLost()
  }
}
