// The `bun` module for the Deno run of the suite (the import map points `bun`
// here). latch's PostgreSQL engine and cluster mode use Bun's own SQL and
// Redis clients, so they run on Bun only (README, "Running on Deno"); the test
// harness and the CLI import them, but under Deno the suite runs on SQLite and
// never constructs them. Constructing one says why instead of failing obscurely.
const bunOnly = (what: string) =>
  class {
    constructor() {
      throw new Error(`${what} is Bun's own client; latch's PostgreSQL engine and cluster mode run on Bun only.`)
    }
  }

export const SQL = bunOnly('SQL (PostgreSQL)')
export const RedisClient = bunOnly('RedisClient')
