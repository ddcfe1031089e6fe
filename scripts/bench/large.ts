// The large-store rows of `npm run bench` (--large-keys N, default 1,000,000;
// --no-large leaves them out): keys.verifyKey over a store of N keys, each
// request picking one of all N at random, against the same route over the
// 10,000 keys of the main table, measured next to it.
//   - cold: the server just started on the store, so nearly every request is a
//     cache miss that reads SQLite (5 s cover a few percent of a million keys);
//   - the warm-up pass: every key verified once, in order, in runs of wrk that
//     each start where the last one stopped (its rate is that of misses);
//   - warm: random keys again once all are cached, in two rounds interleaved
//     with the 10,000-key scenario, whose mean it is compared with.
// The server's peak RSS (VmHWM) covers all of it. The store is seeded straight
// into SQLite (seed-large.ts); the server runs as the main table's does.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileSize, startServer, type ServerSpec } from './processes'
import { preflight, type Scenario } from './scenarios'
import { seedLargeStore } from './seed-large'
import { runWrk, type Load, type WrkResult } from './wrk'

export interface LargeFigures {
  keys: number
  seeding: { seconds: number; insertSeconds: number }
  cold: WrkResult
  /** The pass over every key, in order, before the warm rounds. */
  warmUp: { keys: number; seconds: number; rps: number }
  /** Warm rounds over the large store, and the 10,000-key scenario run just before each. */
  warm: WrkResult[]
  reference: WrkResult[]
  peakRssBytes: number | null
  /** VmRSS at the end of the load. */
  endRssBytes: number | null
  dbBytes: number
  walBytes: number
}

export interface LargeOptions {
  binary: string
  dir: string
  wrk: string
  keys: number
  load: Load
  /** How to serve a database file (the main table's settings). */
  spec: (name: string, db: string, output: string) => ServerSpec
  /** The main table's keys.verifyKey scenario, on its running server, for the interleaved rounds. */
  reference: { url: string; scenario: Scenario; rootKey: string }
}

const ROUNDS = 2
/** Most seconds one run of the warm-up pass lasts; the pass takes as many as it needs. */
const PASS_RUN_SECONDS = 30
/**
 * Fewest seconds of one run: a 2 s last run once completed no request at all (every answer
 * waited for the analytics writer), which failed the whole benchmark.
 */
const PASS_MIN_SECONDS = 5

const VALID = (b: any) => b?.data?.valid === true && b.data.code === 'VALID'

export async function largeSection(o: LargeOptions): Promise<LargeFigures> {
  const db = join(o.dir, 'large.db')
  const seeded = await seedLargeStore(o.binary, db, o.dir, o.keys, o.spec('latch (seeding the large store)', db, join(o.dir, 'large-seeding.log')))
  console.log(
    `seeded ${o.keys.toLocaleString('en-US')} keys straight into SQLite in ${seeded.seconds.toFixed(1)} s (insert ${seeded.insertSeconds.toFixed(1)} s)`,
  )
  const log = join(o.dir, 'large.log')
  const server = await startServer(o.spec('latch (large store)', db, log))
  try {
    const random: Scenario = {
      id: 'verify-large',
      label: `keys.verifyKey valid, ${o.keys.toLocaleString('en-US')} keys`,
      server: 'latch',
      method: 'POST',
      path: '/v2/keys.verifyKey',
      auth: true,
      template: '{"key":"%s"}',
      source: `file:${seeded.file}`,
      sample: seeded.sample,
      expectStatus: 200,
      expectBody: VALID,
    }
    await preflight(server.url, random, seeded.rootKey)
    const describe = (what: string, r: WrkResult) =>
      console.log(
        `large  ${what.padEnd(40)} ${Math.round(r.rps).toLocaleString('en-US').padStart(8)} req/s  p50 ${(r.p50Us / 1000).toFixed(2)} ms  p99 ${(r.p99Us / 1000).toFixed(2)} ms`,
      )

    const cold = await runWrk(o.wrk, server.url, random, seeded.rootKey, o.load)
    describe('cold (just started)', cold)

    // Every key once, in order: the runs go on from where the previous one stopped.
    let done = 0
    let seconds = 0
    while (done < o.keys) {
      const left = o.keys - done
      // Sized from the rate so far (5 s for the first), so that little of the last run re-verifies warm keys;
      // never under PASS_MIN_SECONDS, which an answer waiting for the writer (up to about a second) must not fill.
      const rate = seconds > 0 ? done / seconds : 0
      const runSeconds = rate > 0 ? Math.max(PASS_MIN_SECONDS, Math.min(PASS_RUN_SECONDS, Math.ceil(left / rate))) : PASS_MIN_SECONDS
      const pass = await runWrk(o.wrk, server.url, { ...random, source: `seq:${done}:${seeded.file}` }, seeded.rootKey, { ...o.load, seconds: runSeconds })
      done += pass.requests
      seconds += pass.durationUs / 1e6
    }
    const warmUp = { keys: o.keys, seconds, rps: done / seconds }
    console.log(`large  warm-up pass over every key: ${seconds.toFixed(1)} s, ${Math.round(warmUp.rps).toLocaleString('en-US')} req/s`)

    const warm: WrkResult[] = []
    const reference: WrkResult[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      const ref = await runWrk(o.wrk, o.reference.url, o.reference.scenario, o.reference.rootKey, o.load)
      reference.push(ref)
      describe(`round ${round}: ${o.reference.scenario.label}`, ref)
      const r = await runWrk(o.wrk, server.url, random, seeded.rootKey, o.load)
      warm.push(r)
      describe(`round ${round}: warm`, r)
    }
    const peakRssBytes = server.peakRss()
    const endRssBytes = server.rss()
    return {
      keys: o.keys,
      seeding: { seconds: seeded.seconds, insertSeconds: seeded.insertSeconds },
      cold,
      warmUp,
      warm,
      reference,
      peakRssBytes,
      endRssBytes,
      dbBytes: fileSize(db),
      walBytes: fileSize(`${db}-wal`),
    }
  } finally {
    await server.stop()
    rmSync(log, { force: true })
    // A million keys take some 300 MB: not kept past the run, whatever its outcome.
    for (const file of [db, `${db}-wal`, `${db}-shm`, seeded.file]) rmSync(file, { force: true })
  }
}
