// Runs the latch CLI in-process against a temp directory (cwd) and SQLite file,
// capturing stdout/stderr, with a ManualClock so tests can move time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock'
import { runCli } from '../../src/cli/run'
import { openSqliteStores } from '../../src/db/sqlite'
import type { Database } from '../../src/db/sqlite/database'
import type { RootKeyService } from '../../src/modules/rootkeys/service'
import { createServices, type Services } from '../../src/services'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export class Capture {
  text = ''
  write(chunk: string) {
    this.text += chunk
    return true
  }
}

export class CliHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'latch-cli-'))
  /** Where the CLI puts the database with no --db and no LATCH_DB: ./data/latch.db. */
  readonly dbPath = join(this.dir, 'data', 'latch.db')
  readonly clock = new ManualClock(Date.UTC(2026, 5, 15, 12, 0, 0))

  async run(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const stdout = new Capture()
    const stderr = new Capture()
    const code = await runCli(argv, { stdout, stderr, env, cwd: this.dir, clock: this.clock })
    return { code, stdout: stdout.text, stderr: stderr.text }
  }

  /** Runs a command that must succeed with nothing on stderr and print JSON. */
  async json(argv: string[]): Promise<any> {
    const r = await this.run([...argv, '--json'])
    if (r.code !== 0 || r.stderr !== '') throw new Error(`latch ${argv.join(' ')} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }

  dbExists(): boolean {
    return existsSync(this.dbPath)
  }

  /**
   * Opens the database directly, with latch's services on the harness clock
   * (a fresh RootKeyService: nothing cached). What they batch in memory
   * (last-used times) is dropped unless `work` flushes it.
   */
  async inspect<T>(work: (rootKeys: RootKeyService, db: Database, services: Services) => T | Promise<T>): Promise<T> {
    const stores = openSqliteStores(this.dbPath)
    try {
      const services = createServices({ stores, clock: this.clock })
      return await work(services.rootKeys, stores.db, services)
    } finally {
      stores.close()
    }
  }

  /** Every row of the tables the CLI writes, to prove that a failed command changed nothing. */
  snapshot(): Promise<unknown> {
    return this.inspect((_, db) => ({
      workspaces: db.query('SELECT * FROM workspaces ORDER BY id').all(),
      rootKeys: db.query('SELECT * FROM root_keys ORDER BY id').all(),
    }))
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
