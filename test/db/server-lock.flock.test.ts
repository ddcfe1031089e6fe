// What the Bun runtime's server lock relies on (src/runtime/bun.ts): flock, through
// bun:ffi, conflicts between two descriptors of one file even within one
// process. Bun only: the Deno runtime locks through Deno.FsFile, and
// test/runtime/ shows each runtime refused while the other serves a file.
import { afterAll, describe, expect, test } from 'bun:test'
import { dlopen, FFIType } from 'bun:ffi'
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('one server per file', () => {
  test('flock on a second descriptor of the same file conflicts even within one process (what the lock relies on)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-flock-'))
    dirs.push(dir)
    const file = join(dir, 'f')
    writeFileSync(file, '')
    const { symbols } = dlopen(process.platform === 'linux' ? 'libc.so.6' : 'libc.dylib', { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } })
    const a = openSync(file, 'r')
    const b = openSync(file, 'r')
    try {
      expect(symbols.flock(a, 2 | 4)).toBe(0)
      expect(symbols.flock(b, 2 | 4)).toBe(-1)
      closeSync(a)
      expect(symbols.flock(b, 2 | 4)).toBe(0)
    } finally {
      closeSync(b)
    }
  })
})
