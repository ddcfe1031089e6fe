// One serving process per database file. latch keeps verification caches,
// unwritten credits and ratelimit counters in memory, so two servers on one
// file would each hand out the same credits.
//
// The lock is an exclusive flock(2) on a descriptor of the database file
// itself, so every path to that file (a symbolic link, a hard link, another
// relative path) meets the same lock, and the operating system releases it when
// the process dies, however it dies: no pid comparison, no stale lock. SQLite
// locks with fcntl(2), which on Linux and macOS does not interact with flock.
// But closing ANY descriptor of a file drops the fcntl locks this process holds
// on it, so the lock keeps exactly one descriptor, opened before SQLite opens
// the file and closed only after SQLite has closed it, and a second attempt
// from this same process is refused without opening the file again.
//
// `<db>.lock` beside the (resolved) database only tells who holds the lock
// (the pid, for the error message); it is not the lock.
//
// The descriptor and its flock come from the runtime seam (src/runtime/):
// bun:ffi's flock under Bun, Deno.FsFile's under Deno; both are flock(2), so
// a Bun server and a Deno server on one file exclude each other.
import { runtime } from '#runtime'
import { chmodSync, mkdirSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export class DatabaseInUseError extends Error {}

/** Database files (by device and inode) this process serves, so that a second attempt never opens them again. */
const held = new Set<string>()

const fileId = (stat: { dev: number | bigint; ino: number | bigint }) => `${stat.dev}:${stat.ino}`

function existingId(path: string): string | null {
  try {
    return fileId(statSync(path))
  } catch {
    return null
  }
}

/** The info file beside the database's real path, so a symbolic link finds the same one. */
function infoPath(dbPath: string): string {
  return `${realpathSync(dbPath)}.lock`
}

function holderPid(dbPath: string): number | null {
  try {
    const pid = Number(readFileSync(infoPath(dbPath), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/** Takes the lock for `dbPath` (creating the file, mode 0600, if missing); returns the function that releases it. */
export function lockDatabase(dbPath: string): () => void {
  if (dbPath === ':memory:') return () => {}
  const already = () => new DatabaseInUseError(`This process is already serving ${dbPath}.`)
  const before = existingId(dbPath)
  if (before && held.has(before)) throw already()
  mkdirSync(dirname(dbPath), { recursive: true })
  const file = runtime.openLockableFile(dbPath)
  const id = file.id
  // The path changed between the two looks and now names a file this process
  // serves: leave the descriptor open rather than close it under SQLite.
  if (held.has(id)) throw already()
  let locked: boolean
  try {
    locked = file.tryLock()
  } catch (error) {
    file.close()
    throw error
  }
  if (!locked) {
    // This process holds no SQLite lock on the file (it is not in `held`), so closing is safe.
    file.close()
    const pid = holderPid(dbPath)
    const who = pid ? `Another latch server (pid ${pid})` : 'Another latch server'
    throw new DatabaseInUseError(`${who} is serving ${dbPath}. Stop it first, or use another --db.`)
  }
  held.add(id)
  const info = infoPath(dbPath)
  try {
    writeFileSync(info, String(process.pid), { mode: 0o600 })
    chmodSync(info, 0o600) // a file left by an older latch may have another mode
  } catch {
    // Only informational: the flock is the lock.
  }
  let released = false
  return () => {
    if (released) return
    released = true
    try {
      if (readFileSync(info, 'utf8').trim() === String(process.pid)) unlinkSync(info)
    } catch {}
    held.delete(id)
    file.close() // releases the flock; the database is closed by now
  }
}
