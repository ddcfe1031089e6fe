// Runs the latch CLI in-process against a temp directory (cwd) and SQLite file,
// capturing stdout/stderr, with a ManualClock so tests can move time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock'
import { runCli } from '../../src/cli/run'
import { closeDatabase, openDatabase, type Database } from '../../src/db/database'
import { RootKeyService } from '../../src/modules/rootkeys/service'

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

  /** Opens the database directly, with a RootKeyService on the harness clock. */
  inspect<T>(work: (rootKeys: RootKeyService, db: Database) => T): T {
    const db = openDatabase(this.dbPath)
    try {
      return work(new RootKeyService(db, this.clock), db)
    } finally {
      closeDatabase(db)
    }
  }

  /** Every row of the tables the CLI writes, to prove that a failed command changed nothing. */
  snapshot(): unknown {
    return this.inspect((_, db) => ({
      workspaces: db.query('SELECT * FROM workspaces ORDER BY id').all(),
      rootKeys: db.query('SELECT * FROM root_keys ORDER BY id').all(),
    }))
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
