// The SQLite driver under Deno: node:sqlite, adapted to behave as bun:sqlite
// does for latch (see ./driver.ts):
// - `get` of no row is null (node:sqlite: undefined);
// - booleans bind as 1/0 and undefined as NULL (node:sqlite refuses both);
// - keys of a parameter object that the statement does not use are ignored;
// - errors carry SQLite's code (`SQLITE_BUSY`, ...), which the engine turns
//   into 503s: Deno's node:sqlite reports every failure as ERR_SQLITE_ERROR
//   with SQLite's message only, so the code is read back from that message
//   (SQLite's own fixed text for each primary result code);
// - the SQL math functions latch uses (floor, ceil) exist: Deno's SQLite is
//   built without them, so they are added.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { Connection, OpenOptions, RunResult, SqliteDriver, Statement } from './driver'

/**
 * SQLite's code for an error from its message (sqlite3ErrStr's fixed text for
 * each primary result code latch tells apart). Self-contained: the analytics
 * child runs its source too (see `childPrelude`).
 */
function sqliteCodeOf(message: string): string {
  const codes: [RegExp, string][] = [
    [/^database is locked/, 'SQLITE_BUSY'],
    [/^database table is locked/, 'SQLITE_LOCKED'],
    [/^database or disk is full/, 'SQLITE_FULL'],
    [/^attempt to write a readonly database/, 'SQLITE_READONLY'],
    [/^disk I\/O error/, 'SQLITE_IOERR'],
    [/^unable to open database file/, 'SQLITE_CANTOPEN'],
    [/^database disk image is malformed/, 'SQLITE_CORRUPT'],
    [/^file is not a database/, 'SQLITE_NOTADB'],
    [/^locking protocol/, 'SQLITE_PROTOCOL'],
    [/^out of memory/, 'SQLITE_NOMEM'],
    [/^string or blob too big/, 'SQLITE_TOOBIG'],
    [/^access permission denied/, 'SQLITE_PERM'],
    [/^authorization denied/, 'SQLITE_AUTH'],
    [/constraint failed/, 'SQLITE_CONSTRAINT'],
    [/^interrupted/, 'SQLITE_INTERRUPT'],
  ]
  return codes.find(([pattern]) => pattern.test(message))?.[1] ?? 'SQLITE_ERROR'
}

/** The same error, its `code` replaced by SQLite's when it came from SQLite. */
function sqliteError(error: unknown): unknown {
  const e = error as { code?: unknown; message?: unknown }
  if (e && e.code === 'ERR_SQLITE_ERROR' && typeof e.message === 'string') e.code = sqliteCodeOf(e.message)
  return error
}

/**
 * Adds the SQL math functions latch uses (the analytics query language's
 * floor and ceil) when this SQLite was built without them (Deno's is; Bun's
 * has them), with SQLite's meaning: NULL stays NULL, text that is not a
 * number is NULL. Self-contained: the analytics child runs its source too.
 */
function addMathFunctions(db: DatabaseSync): void {
  try {
    db.prepare('SELECT ceil(1), floor(1)')
    return
  } catch {}
  const math: [string, (x: number) => number][] = [
    ['ceil', Math.ceil],
    ['floor', Math.floor],
  ]
  for (const [name, f] of math) {
    db.function(name, { deterministic: true }, (x: unknown) => {
      if (x === null || x === undefined) return null
      if (typeof x === 'bigint') return x
      const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : Number.NaN
      return Number.isNaN(n) ? null : f(n)
    })
  }
}

const isParamObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)

function bindValue(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value === undefined) return null
  return value as SQLInputValue
}

const needsConversion = (value: unknown) => typeof value === 'boolean' || value === undefined || isParamObject(value)

/** The parameters as node:sqlite accepts them (a copy only when something needs converting). */
function bindable(params: unknown[]): SQLInputValue[] {
  if (!params.some(needsConversion)) return params as SQLInputValue[]
  return params.map((param) => {
    if (!isParamObject(param)) return bindValue(param)
    const named: Record<string, SQLInputValue> = {}
    for (const key in param) named[key] = bindValue(param[key])
    return named as unknown as SQLInputValue
  })
}

class NodeStatement<R, P extends unknown[]> implements Statement<R, P> {
  constructor(private readonly statement: StatementSync) {
    statement.setAllowUnknownNamedParameters(true)
  }

  get(...params: P): R | null {
    try {
      return (this.statement.get(...bindable(params)) as R | undefined) ?? null
    } catch (error) {
      throw sqliteError(error)
    }
  }

  all(...params: P): R[] {
    try {
      return this.statement.all(...bindable(params)) as R[]
    } catch (error) {
      throw sqliteError(error)
    }
  }

  run(...params: P): RunResult {
    try {
      return this.statement.run(...bindable(params)) as RunResult
    } catch (error) {
      throw sqliteError(error)
    }
  }

  values(...params: P): unknown[][] {
    this.statement.setReturnArrays(true)
    try {
      return this.statement.all(...bindable(params)) as unknown as unknown[][]
    } catch (error) {
      throw sqliteError(error)
    } finally {
      this.statement.setReturnArrays(false)
    }
  }

  finalize(): void {
    // node:sqlite finalizes a statement when it is collected.
  }
}

class NodeConnection implements Connection {
  private readonly cache = new Map<string, NodeStatement<any, any>>()
  private savepoints = 0

  constructor(private readonly db: DatabaseSync) {}

  query<R = unknown, P extends unknown[] = any[]>(sql: string): Statement<R, P> {
    let statement = this.cache.get(sql)
    if (!statement) {
      statement = this.prepare(sql) as NodeStatement<any, any>
      this.cache.set(sql, statement)
    }
    return statement
  }

  prepare<R = unknown, P extends unknown[] = any[]>(sql: string): Statement<R, P> {
    try {
      return new NodeStatement<R, P>(this.db.prepare(sql))
    } catch (error) {
      throw sqliteError(error)
    }
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql)
    } catch (error) {
      throw sqliteError(error)
    }
  }

  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A): T => {
      const savepoint = this.inTransaction ? `latch_${++this.savepoints}` : null
      this.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN')
      let result: T
      try {
        result = fn(...args)
      } catch (error) {
        if (savepoint) this.exec(`ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`)
        else if (this.inTransaction) this.exec('ROLLBACK')
        throw error
      } finally {
        if (savepoint) this.savepoints--
      }
      this.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT')
      return result
    }
  }

  get inTransaction(): boolean {
    return this.db.isTransaction
  }

  close(): void {
    this.cache.clear()
    this.db.close()
  }
}

function openConnection(path: string, options: OpenOptions = {}): Connection {
  try {
    const readOnly = options.readonly === true
    if (!readOnly && options.create === false) {
      // node:sqlite always creates a missing file; refuse it as bun:sqlite does.
      new DatabaseSync(path, { readOnly: true }).close()
    }
    const db = new DatabaseSync(path, { readOnly })
    addMathFunctions(db)
    return new NodeConnection(db)
  } catch (error) {
    throw sqliteError(error)
  }
}

// The analytics child runs as `deno eval` (an ES module): see ../analytics-runner.ts.
const childPrelude = `
import { DatabaseSync } from 'node:sqlite';
${sqliteCodeOf.toString()}
${addMathFunctions.toString()}
const openReadOnly = (path) => {
  const db = new DatabaseSync(path, { readOnly: true });
  addMathFunctions(db);
  return {
    exec: (sql) => db.exec(sql),
    values: (sql, params) => {
      const statement = db.prepare(sql);
      statement.setReturnArrays(true);
      return statement.all(...params);
    },
  };
};
const errorCode = (e) => (e && e.code === 'ERR_SQLITE_ERROR' ? sqliteCodeOf(String(e.message)) : String((e && e.code) || ''));
`

export const driver: SqliteDriver = { openConnection, childPrelude }
