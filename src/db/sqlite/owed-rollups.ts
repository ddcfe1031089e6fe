// Rollups written after their raw rows, and still exact after a crash. The
// analytics writer thread commits raw events at once and their rollups about
// a second later, grouped over every batch of that second: under load spread
// over many keys a rollup row then takes one upsert per second instead of one
// per event. Each transaction of raw rows notes the id range whose rollups it
// owes (`rollups_owed`, migration 14); the transaction that writes one grain's
// rollups marks that grain paid for every range it covers, and a range owing
// nothing more is deleted there. Whatever is still owed at start (the thread
// or the process died in between) is rebuilt from the raw rows in SQL, a range
// and its remaining grains in one transaction.
import { ROLLUP_GRAINS } from '../stores/analytics'
import type { RollupGroups, RollupWriter } from './analytics-rollups'
import type { SqliteEngine } from './engine'

export type EventKind = 'verifications' | 'ratelimits'

const ALL_GRAINS = (1 << ROLLUP_GRAINS.length) - 1

export class OwedRollups {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      note: sql.prepare<unknown, [EventKind, number, number]>('INSERT INTO rollups_owed (kind, first_id, last_id) VALUES (?, ?, ?)'),
      paid: sql.prepare<unknown, [number, string]>('UPDATE rollups_owed SET grains_done = grains_done | ?1 WHERE id IN (SELECT value FROM json_each(?2))'),
      settled: sql.prepare<unknown, [string]>(`DELETE FROM rollups_owed WHERE grains_done = ${ALL_GRAINS} AND id IN (SELECT value FROM json_each(?1))`),
      all: sql.prepare<{ id: number; kind: EventKind; first_id: number; last_id: number; grains_done: number }, []>(
        'SELECT id, kind, first_id, last_id, grains_done FROM rollups_owed ORDER BY id',
      ),
      remove: sql.prepare<unknown, [number]>('DELETE FROM rollups_owed WHERE id = ?'),
    }
  }

  /** In the caller's transaction: the raw rows `first`..`last` of `kind` owe their rollups. Returns the note's id. */
  note(kind: EventKind, first: number, last: number): Promise<number> {
    return this.sql.run(() => Number(this.stmt.note.run(kind, first, last).lastInsertRowid))
  }

  /** In the caller's transaction: grain `g` of the notes `ids` is written. */
  paid(g: number, ids: number[]): void {
    const list = JSON.stringify(ids)
    this.stmt.paid.run(1 << g, list)
    this.stmt.settled.run(list)
  }

  /**
   * Rebuilds from the raw rows every rollup still owed; returns how many
   * ranges. Only for the process that holds the server lock, before its
   * writer thread holds anything back: a range noted by a live writer is not
   * yet owed.
   */
  async rebuild(writers: Record<EventKind, Pick<RollupWriter<never>, 'rebuilds'>>): Promise<number> {
    const owed = await this.sql.run(() => this.stmt.all.all())
    for (const row of owed) {
      await this.sql.transaction(() =>
        this.sql.run(() => {
          ROLLUP_GRAINS.forEach((_, g) => {
            if ((row.grains_done & (1 << g)) === 0) writers[row.kind].rebuilds[g]!.run(row.first_id, row.last_id)
          })
          this.stmt.remove.run(row.id)
        }),
      )
    }
    return owed.length
  }
}

/** One kind of event's rollups held back by the writer thread: groups per grain, and the notes each grain pays. */
export class HeldRollups<E> {
  private readonly groups: RollupGroups<E>
  private readonly notes: number[][] = ROLLUP_GRAINS.map(() => [])

  constructor(
    private readonly sql: SqliteEngine,
    private readonly owed: OwedRollups,
    writer: RollupWriter<E>,
  ) {
    this.groups = writer.group()
  }

  /** After the commit of `events`' raw rows (noted as `note`). */
  add(events: E[], note: number): void {
    for (const event of events) this.groups.add(event)
    for (const notes of this.notes) notes.push(note)
  }

  /** The most rollup rows held for one grain. */
  get size(): number {
    return Math.max(...ROLLUP_GRAINS.map((_, g) => this.groups.size(g)))
  }

  /**
   * Writes what is held, one transaction per grain; a grain that fails stays
   * held for the next call. `pause` runs after every `rowsPerPause` rows and
   * after each grain (the writer thread's breather, see event-worker.ts).
   */
  async write(pause: () => void = () => {}, rowsPerPause = Number.POSITIVE_INFINITY): Promise<void> {
    for (let g = 0; g < ROLLUP_GRAINS.length; g++) {
      const notes = this.notes[g]!
      if (notes.length === 0) continue
      const rows = this.groups.rows(g)
      await this.sql.transaction(() =>
        this.sql.run(() => {
          for (let i = 0; i < rows.length; i++) {
            const [statement, params] = rows[i]!
            statement.run(...params)
            if ((i + 1) % rowsPerPause === 0) pause()
          }
          this.owed.paid(g, notes)
        }),
      )
      pause()
      this.groups.clear(g)
      this.notes[g] = []
    }
  }
}
