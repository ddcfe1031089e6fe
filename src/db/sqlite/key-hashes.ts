// Which key hashes the SQLite file may hold, in memory: a Bloom filter over
// every hash in the keys table, so that a key nobody issued (a guess, a typo,
// an attacker's stream of random strings) is answered without a read of the
// database. Reading SQLite for such a key cost about 7 µs of the request
// thread here, more than verifying a real key from the cache; now it costs a
// few bit tests. The filter can say "maybe" for a hash that is absent (about
// 1 % of them, which then read SQLite as before) but never "no" for a hash
// that is present, as long as every hash written to the table goes through
// `add` first: only the server's own connection writes keys (it holds the
// file lock; CLI commands do not write keys), and SqliteKeyStore calls `add`
// before it inserts a key or changes its hash. Hashes are SHA-256, so nobody
// can choose which bits theirs sets.
//
// The filter is built after start-up, a slice of rows per turn of the event
// loop, and answers "maybe" for everything until it is complete; hashes
// written meanwhile are added to the one being built. When more hashes have
// been added than it was sized for, a larger one is built the same way while
// the old one goes on answering.
import { nextTurn, type SqliteEngine } from './engine'

/** Bits per hash the filter is sized for, and bits set per hash: about a 1 % false "maybe" at capacity. */
const BITS_PER_HASH = 10
const PROBES = 7
/** The smallest filter (hashes), so that a new store does not rebuild at every few keys. */
const MIN_CAPACITY = 1 << 16
/** Rows read per turn of the event loop while building: well under a millisecond. */
const ROWS_PER_TURN = 2_000

/** A Bloom filter over key hashes (base64 SHA-256, or any string), sized for `capacity` of them. */
export class HashFilter {
  private readonly bits: Uint32Array
  private readonly size: number
  added = 0

  constructor(readonly capacity: number) {
    this.size = Math.max(64, capacity * BITS_PER_HASH)
    this.bits = new Uint32Array(Math.ceil(this.size / 32))
  }

  add(hash: string): void {
    this.added++
    const [h1, h2] = seeds(hash)
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) % this.size
      this.bits[bit >>> 5]! |= 1 << (bit & 31)
    }
  }

  mayHold(hash: string): boolean {
    const [h1, h2] = seeds(hash)
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) % this.size
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

/** Two independent 31-bit values from the string (FNV-1a with two offsets): double hashing gives the probes. */
function seeds(text: string): [number, number] {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
  }
  return [(a >>> 1) % 0x7fffffff, ((b >>> 1) | 1) % 0x7fffffff]
}

/** The keys table's hashes as a filter, kept whole across writes and growth (see the file header). */
export class KeyHashes {
  private current: HashFilter | null = null
  private next: HashFilter | null = null
  private building: Promise<void> | null = null
  private closed = false
  private readonly count
  private readonly slice

  constructor(private readonly sql: SqliteEngine) {
    // The largest rowid, not count(*): as good a size and instant, where counting a million rows is not.
    this.count = sql.prepare<{ n: number }, []>('SELECT coalesce(max(rowid), 0) AS n FROM keys')
    this.slice = sql.prepare<{ rowid: number; hash: string }, [number, number]>('SELECT rowid, hash FROM keys WHERE rowid > ? ORDER BY rowid LIMIT ?')
  }

  /** Starts the first build, unless one is done or under way; settles when a filter answers. */
  start(): Promise<void> {
    if (this.current) return Promise.resolve()
    return this.rebuild()
  }

  /** Whether the table may hold `hash`; true until the first filter is built. */
  mayHold(hash: string): boolean {
    return this.current === null || this.current.mayHold(hash)
  }

  /** Before `hash` is written to the table. */
  add(hash: string): void {
    this.current?.add(hash)
    this.next?.add(hash)
    const sized = this.current ?? this.next
    if (sized && sized.added > sized.capacity && !this.building) void this.rebuild()
  }

  /** Whether a filter answers. */
  get ready(): boolean {
    return this.current !== null
  }

  /** Settles when the build under way, if any, is done. */
  built(): Promise<void> {
    return this.building ?? Promise.resolve()
  }

  close(): void {
    this.closed = true
  }

  private rebuild(): Promise<void> {
    // A build that fails (the database closed under it) leaves the filters as they were: they still never say "no" wrongly.
    this.building ??= this.build()
      .catch((error) => {
        if (!this.closed) process.stderr.write(`${JSON.stringify({ level: 'error', message: 'building the key hash filter failed', error: String(error) })}\n`)
      })
      .finally(() => (this.building = null))
    return this.building
  }

  private async build(): Promise<void> {
    if (this.closed) return
    const rows = await this.sql.run(() => this.count.get()!.n)
    const filter = new HashFilter(Math.max(MIN_CAPACITY, rows * 2))
    // From here on, hashes being written go into it too: the scan below may have passed their row.
    this.next = filter
    let after = 0
    for (;;) {
      if (this.closed) return
      const slice = await this.sql.run(() => this.slice.all(after, ROWS_PER_TURN))
      for (const row of slice) filter.add(row.hash)
      if (slice.length < ROWS_PER_TURN) break
      after = slice[slice.length - 1]!.rowid
      await nextTurn()
    }
    this.current = filter
    this.next = null
  }
}
