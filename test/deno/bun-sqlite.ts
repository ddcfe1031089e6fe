// bun:sqlite for the Deno run of the suite (the import map points
// `bun:sqlite` here): the `Database` a few tests open beside latch's own
// connection to look at or change the file, over latch's node:sqlite driver
// (src/db/sqlite/driver/node.ts), so it behaves as latch's connection does.
import { driver } from '../../src/db/sqlite/driver/node'
import type { Connection } from '../../src/db/sqlite/driver/driver'

export class Database {
  private readonly connection: Connection

  constructor(path: string, options: { readonly?: boolean; create?: boolean; readwrite?: boolean; strict?: boolean } = {}) {
    this.connection = driver.openConnection(path, { readonly: options.readonly, create: options.create })
  }

  query<R = unknown, P extends unknown[] = any[]>(sql: string) {
    return this.connection.query<R, P>(sql)
  }

  prepare<R = unknown, P extends unknown[] = any[]>(sql: string) {
    return this.connection.prepare<R, P>(sql)
  }

  exec(sql: string): void {
    this.connection.exec(sql)
  }

  run(sql: string, params: unknown[] = []) {
    return this.connection.prepare(sql).run(...params)
  }

  transaction<A extends unknown[], T>(fn: (...args: A) => T) {
    return this.connection.transaction(fn)
  }

  get inTransaction(): boolean {
    return this.connection.inTransaction
  }

  close(): void {
    this.connection.close()
  }
}
