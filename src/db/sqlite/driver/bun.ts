// The SQLite driver under Bun: bun:sqlite, handed out as it is (a Database
// already is a `Connection`; see ./driver.ts). Strict mode: `$name`
// parameters bind from object keys without the `$`, and a missing one throws.
import { Database } from 'bun:sqlite'
import type { Connection, OpenOptions, SqliteDriver } from './driver'

function openConnection(path: string, options: OpenOptions = {}): Connection {
  const db = options.readonly
    ? new Database(path, { readonly: true, strict: true })
    : new Database(path, { readwrite: true, create: options.create ?? true, strict: true })
  return db as Connection
}

const childPrelude = `
const { Database } = require('bun:sqlite');
const openReadOnly = (path) => {
  const db = new Database(path, { readonly: true });
  return {
    exec: (sql) => db.exec(sql),
    values: (sql, params) => {
      const statement = db.prepare(sql);
      try {
        return statement.values(...params);
      } finally {
        statement.finalize();
      }
    },
  };
};
const errorCode = (e) => String((e && e.code) || '');
`

export const driver: SqliteDriver = { openConnection, childPrelude }
