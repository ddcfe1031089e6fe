// audit.listLogs refuses malformed bodies with a 400 naming the field, and a
// cursor it cannot place (unknown, pruned, or another workspace's event)
// gives an empty last page rather than anything of another workspace.
import { describe, expect, test } from 'bun:test'
import { invalidBody } from '../../support/harness'
import { type AuditFixture, allEvents, withAuditFixture } from './fixture'

const RPC = 'audit.listLogs'

describe('audit.listLogs errors', () => {
  let f: AuditFixture
  withAuditFixture((fixture) => {
    f = fixture
  })

  test.each([
    [{ events: ['key.explode'] }, 'body.events[0]', "Expected kind 'UnionEnum'"],
    [{ events: [] }, 'body.events', 'Expected array length to be greater or equal to 1'],
    [{ events: 'key.create' }, 'body.events', 'Expected array'],
    [{ limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    [{ limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    [{ since: -1 }, 'body.since', 'Expected integer to be greater or equal to 0'],
    [{ until: 1.5 }, 'body.until', 'Expected integer'],
    [{ since: '1700000000000' }, 'body.since', 'Expected integer'],
    [{ actorId: '' }, 'body.actorId', 'Expected string length greater or equal to 1'],
    [{ resourceId: 'x'.repeat(256) }, 'body.resourceId', 'Expected string length less or equal to 255'],
    [{ cursor: 'c'.repeat(1025) }, 'body.cursor', 'Expected string length less or equal to 1024'],
    [{ workspaceId: 'ws_other' }, 'body.workspaceId', "Property 'workspaceId' should not be provided"],
  ])('400 for %j', async (body, location, message) => {
    const res = await f.h.call(`/v2/${RPC}`, body, f.root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody(RPC, location, message))
  })

  test('a cursor that names no event of this workspace gives an empty last page', async () => {
    const other = await f.h.services.rootKeys.create({ workspace: 'other', name: 'o', permissions: ['*'] })
    const [foreign] = await allEvents(f.h, other.workspaceId)
    for (const cursor of ['audit_doesNotExist1', foreign!.id, '']) {
      const res = await f.h.call(`/v2/${RPC}`, { cursor }, f.root)
      expect(res.status).toBe(200)
      if (cursor === '') expect(res.body.data.length).toBeGreaterThan(0)
      else expect(res.body).toMatchObject({ data: [], pagination: { hasMore: false } })
    }
  })
})
