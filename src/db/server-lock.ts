// One serving process per database file. latch keeps verification caches,
// unwritten credits and ratelimit counters in memory, so two servers on one
// file would each hand out the same credits. The lock is a file beside the
// database holding the server's pid; a lock whose process is gone is stale
// and is taken over. (The CLI may still write the file while a server runs:
// the server notices root-key changes through SQLite's data_version.)
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export class DatabaseInUseError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock for `dbPath`; returns the function that releases it. */
export function lockDatabase(dbPath: string): () => void {
  if (dbPath === ':memory:') return () => {}
  const lockPath = `${dbPath}.lock`
  mkdirSync(dirname(dbPath), { recursive: true })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath)
        } catch {}
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(readFileSync(lockPath, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DatabaseInUseError(`Another latch server (pid ${pid}) is serving ${dbPath}. Stop it first, or use another --db.`)
      }
      if (pid === process.pid) {
        throw new DatabaseInUseError(`This process is already serving ${dbPath}.`)
      }
      unlinkSync(lockPath) // stale: its process is gone
    }
  }
  throw new DatabaseInUseError(`Could not lock ${dbPath}.`)
}
