// Retention: the scheduled job deletes audit events older than
// `auditRetentionDays` (365 by default), with their resource rows, in slices,
// and keeps everything newer.
import { describe, expect, test } from 'bun:test'
import { DEFAULT_TUNABLES } from '../../../src/config'
import { newId } from '../../../src/ids'
import { createServices } from '../../../src/services'
import { Harness } from '../../support/harness'
import { allEvents, auditFixture, auditRowCount } from './fixture'

const DAY = 86_400_000
const resourceRowCount = (h: Harness) => h.db.query<{ n: number }, []>('SELECT count(*) AS n FROM audit_log_resources').get()!.n

describe('audit log retention', () => {
  test('the scheduled job keeps a year of events by default, and deletes older ones with their resource rows', async () => {
    expect(DEFAULT_TUNABLES.auditRetentionDays).toBe(365)
    const { h, workspaceId, root } = await auditFixture()
    const old = auditRowCount(h)
    h.clock.advance(200 * DAY)
    await h.ok('apis.createApi', { name: 'recent' }, root)

    h.clock.advance(165 * DAY) // exactly 365 days after the fixture: not older yet
    await h.services.runScheduledJobs()
    expect(auditRowCount(h)).toBe(old + 1)

    h.clock.advance(1)
    await h.services.runScheduledJobs()
    const left = await allEvents(h, workspaceId)
    expect(left.map((e) => e.description)).toEqual(['Created API recent'])
    expect(resourceRowCount(h)).toBe(1)
    // What is left is still found by resource.
    const { items } = await h.services.audit.list(workspaceId, { resourceId: left[0]!.resources[0]!.id, limit: 10 })
    expect(items.map((e) => e.id)).toEqual([left[0]!.id])
    await h.close()
  })

  test('auditRetentionDays is a tunable', async () => {
    const h = new Harness()
    const services = createServices({ stores: h.stores, clock: h.clock, tunables: { auditRetentionDays: 7 } })
    const ws = await services.workspaces.ensure('ws')
    h.clock.advance(3 * DAY)
    await services.apis.create(ws.id, 'kept')
    h.clock.advance(5 * DAY)
    await services.runScheduledJobs()
    expect((await services.audit.list(ws.id, { limit: 10 })).items.map((e) => e.event)).toEqual(['api.create'])
    await h.close()
  })

  test('prunes in slices until nothing old is left', async () => {
    const h = new Harness()
    const ws = await h.services.workspaces.ensure('ws')
    const base = h.clock.now()
    await h.stores.transaction(async () => {
      for (let i = 0; i < 12_001; i++) {
        await h.stores.auditLogs.insert({
          id: newId('audit'),
          time: base + (i % 100),
          workspaceId: ws.id,
          event: 'api.create',
          actor: { type: 'system', id: 'latch' },
          resources: [{ type: 'api', id: `api_${i}` }],
          description: `bulk ${i}`,
          requestId: null,
          remoteAddr: null,
          userAgent: null,
        })
      }
    })
    expect(auditRowCount(h)).toBe(12_002)
    expect(await h.services.audit.prune(base + 50)).toBe(6_001 + 1)
    expect(await h.services.audit.prune(base + 100)).toBe(6_000)
    expect(auditRowCount(h)).toBe(0)
    expect(resourceRowCount(h)).toBe(0)
    await h.close()
  })
})
