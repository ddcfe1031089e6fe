// Scheduled jobs never run twice at once: the prunes keep a cursor between
// slices, and a run that outlasted the job interval used to start the next
// one beside it.
import { describe, expect, test } from 'bun:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createServices, serialJob } from '../src/services'
import { Harness } from './support/harness'

/** A job that counts its runs and how many were ever in progress at once, each held until `release()`. */
function gatedJob() {
  const state = { runs: 0, active: 0, maxActive: 0 }
  const gates: (() => void)[] = []
  const job = async () => {
    state.runs++
    state.active++
    state.maxActive = Math.max(state.maxActive, state.active)
    await new Promise<void>((resolve) => gates.push(resolve))
    state.active--
  }
  const release = async () => {
    while (gates.length === 0) await sleep(1)
    gates.shift()!()
  }
  return { state, job, release }
}

describe('serialJob', () => {
  test('a run asked for during a run starts after it, once for every caller meanwhile', async () => {
    const { state, job, release } = gatedJob()
    const jobs = serialJob(job)
    const first = jobs.run()
    const second = jobs.run()
    const third = jobs.run()
    expect(second).toBe(third)
    expect(state.runs).toBe(1)

    await release()
    await first
    await sleep(1)
    expect(state.runs).toBe(2)
    await release()
    await second
    expect(state).toEqual({ runs: 2, active: 0, maxActive: 1 })
  })

  test('a run asked for just as the run before ends, with the next one queued, is that queued one', async () => {
    const { state, job, release } = gatedJob()
    const jobs = serialJob(job)
    const first = jobs.run()
    const queued = jobs.run()
    await release()
    await first
    // The first run has ended; the queued one has not started yet.
    const late = jobs.run()
    expect(late).toBe(queued)
    await release()
    await queued
    expect(state).toEqual({ runs: 2, active: 0, maxActive: 1 })
  })

  test("the timer's tick skips its turn while a run is in progress or asked for", async () => {
    const { state, job, release } = gatedJob()
    const jobs = serialJob(job)
    const ticked = jobs.tick()
    expect(ticked).not.toBeNull()
    expect(jobs.tick()).toBeNull()
    const asked = jobs.run()
    await release()
    await ticked
    expect(jobs.tick()).toBeNull() // the asked-for run is in progress
    await release()
    await asked
    expect(state).toEqual({ runs: 2, active: 0, maxActive: 1 })
    const again = jobs.tick()
    expect(again).not.toBeNull()
    await release()
    await again
    expect(state.runs).toBe(3)
  })

  test('a failed run is reported to its callers and does not stop the next', async () => {
    let calls = 0
    const jobs = serialJob(async () => {
      calls++
      if (calls === 1) throw new Error('disk gone')
    })
    const first = jobs.run()
    const second = jobs.run()
    await expect(first).rejects.toThrow('disk gone')
    await second
    expect(calls).toBe(2)
    await jobs.run()
    expect(calls).toBe(3)
  })
})

describe('runScheduledJobs', () => {
  test('two calls at once run the jobs one after the other', async () => {
    const h = new Harness()
    const services = createServices({ stores: h.stores, clock: h.clock })
    const { state, job, release } = gatedJob()
    services.credits.runRefills = async () => {
      await job()
      return 0
    }
    const a = services.runScheduledJobs()
    const b = services.runScheduledJobs()
    await release()
    await a
    await release()
    await b
    expect(state).toEqual({ runs: 2, active: 0, maxActive: 1 })
    await h.close()
  })
})
