// The synchronous SQLite connection that the engine, the stores, backups and
// the analytics child use: the part of a SQLite driver latch needs, and no more.
//
// Two drivers implement it, one per runtime, and package.json's "imports"
// (`#sqlite-driver`, by the "bun" and "deno" conditions) picks one when the
// module is resolved, so no file asks at run time which runtime it is on:
// - ./bun.ts: bun:sqlite. A bun:sqlite Database already has exactly this
//   shape and is handed out as it is, so Bun pays no indirection per statement.
// - ./node.ts: node:sqlite (used under Deno), adapted to the same behaviour:
//   a missing row is null, booleans bind as 1/0, errors carry SQLite's code.
//
// Parameters: positional (`?`, `?1`) as arguments, or one object whose keys
// name `$name` parameters without the `$`; keys the statement does not use
// are ignored. Both files build the same SQLite file format, so a database
// moves between runtimes as it is.

export interface RunResult {
  changes: number
  lastInsertRowid: number | bigint
}

export interface Statement<R = unknown, P extends unknown[] = any[]> {
  /** The first row, or null. */
  get(...params: P): R | null
  all(...params: P): R[]
  run(...params: P): RunResult
  /** Every row as an array of its columns in order (repeated column names kept). */
  values(...params: P): unknown[][]
  /** Releases a statement made with `prepare` (cached ones live as long as the connection). */
  finalize(): void
}

export interface Connection {
  /** A prepared statement, cached by its SQL text for the life of the connection. */
  query<R = unknown, P extends unknown[] = any[]>(sql: string): Statement<R, P>
  /** A prepared statement that is not cached: `finalize` it when done. */
  prepare<R = unknown, P extends unknown[] = any[]>(sql: string): Statement<R, P>
  /** Runs one or more statements without parameters. */
  exec(sql: string): void
  /** Wraps `fn` in BEGIN/COMMIT (a SAVEPOINT when already in a transaction); rolled back when it throws. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T
  readonly inTransaction: boolean
  close(): void
}

export interface OpenOptions {
  /** Open read-only (default: read-write). */
  readonly?: boolean
  /** Create the file when it is missing (default: true unless read-only). */
  create?: boolean
}

/**
 * What a driver file exports (each one declares `satisfies SqliteDriver`
 * on its exports, so both are held to this shape by the type checker).
 */
export interface SqliteDriver {
  openConnection(path: string, options?: OpenOptions): Connection
  /**
   * JavaScript source, run first in the analytics child process (see
   * ../analytics-runner.ts), that defines `openReadOnly(path)`, returning
   * `{ exec(sql), values(sql, params) }`, and `errorCode(error)`, SQLite's
   * code (e.g. 'SQLITE_BUSY') of an error that connection threw.
   */
  childPrelude: string
}
