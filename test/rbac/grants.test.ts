import { describe, expect, test } from 'bun:test'
import { allOf, isGranted, needs, notCovered, permissionProblem, unmet } from '../../src/rbac/grants'

describe('permissionProblem (validation of grantable strings)', () => {
  test.each([
    '*',
    'api.*.create_api',
    'api.api_123.read_api',
    'ratelimit.rlns_1.limit',
    'rbac.*.create_role',
    'identity.*.read_identity',
    'identity.user-42.update_identity',
    'root_key.*.create_root_key',
  ])('%s is valid', (p) => expect(permissionProblem(p)).toBeNull())

  test.each([
    ['api.read_api', 'three dot-separated parts'],
    ['api.*.read_api.extra', 'three dot-separated parts'],
    ['**', 'three dot-separated parts'],
    ['apis.*.read_api', "unknown resource type 'apis'"],
    ['api.*.fly', "unknown action 'fly' for resource type 'api'"],
    ['ratelimit.*.create_key', "unknown action 'create_key' for resource type 'ratelimit'"],
    ['api.api 1.read_api', "resource id 'api 1'"],
    ['api..read_api', "resource id ''"],
    ['rbac.perm_1.create_role', "can only be granted on every resource ('rbac.*.create_role')"],
    ['api.api_1.create_api', "can only be granted on every resource ('api.*.create_api')"],
    ['root_key.rk_1.delete_root_key', "can only be granted on every resource ('root_key.*.delete_root_key')"],
    ['root_key.*.rotate_root_key', "unknown action 'rotate_root_key' for resource type 'root_key'"],
  ])('%s is refused naming the wrong part', (p, fragment) => {
    expect(permissionProblem(p)).toContain(fragment)
  })
})

describe('matching', () => {
  const grants = (...p: string[]) => new Set(p)

  test('bare * grants everything', () => {
    expect(isGranted(grants('*'), 'api.api_1.read_api')).toBe(true)
    expect(isGranted(grants('*'), 'rbac.*.create_role')).toBe(true)
  })

  test('* as resource id matches any id of that type only', () => {
    expect(isGranted(grants('api.*.read_api'), 'api.api_1.read_api')).toBe(true)
    expect(isGranted(grants('api.*.read_api'), 'api.*.read_api')).toBe(true)
    expect(isGranted(grants('api.*.read_api'), 'api.api_1.delete_api')).toBe(false)
    expect(isGranted(grants('api.*.limit'), 'ratelimit.rlns_1.limit')).toBe(false)
  })

  test('a specific id matches exactly that id', () => {
    expect(isGranted(grants('api.api_1.read_api'), 'api.api_1.read_api')).toBe(true)
    expect(isGranted(grants('api.api_1.read_api'), 'api.api_2.read_api')).toBe(false)
    expect(isGranted(grants('api.api_1.read_api'), 'api.*.read_api')).toBe(false)
  })

  test('unmet returns the alternatives of the first unmet part', () => {
    const r = allOf(needs('api', 'read_key', 'api_1'), needs('api', 'read_api', 'api_1'))
    expect(unmet(grants('api.api_1.read_key', 'api.*.read_api'), r)).toBeNull()
    expect(unmet(grants('api.api_1.read_key'), r)).toEqual(['api.*.read_api', 'api.api_1.read_api'])
    expect(unmet(grants(), r)).toEqual(['api.*.read_key', 'api.api_1.read_key'])
    expect(unmet(grants('api.api_9.read_key'), { anyResource: { type: 'api', action: 'read_key' } })).toBeNull()
    expect(unmet(grants('api.api_9.read_api'), { anyResource: { type: 'api', action: 'read_key' } })).toEqual(['api.*.read_key'])
  })
})

describe('notCovered (what a root key may not hand to another)', () => {
  const grants = (...p: string[]) => new Set(p)

  test('* covers everything, itself included', () => {
    expect(notCovered(grants('*'), ['*', 'api.*.read_api', 'root_key.*.create_root_key'])).toEqual([])
  })

  test('* is covered only by *', () => {
    const everyAction = ['api', 'ratelimit', 'rbac', 'identity', 'audit', 'root_key'].map((t) => `${t}.*.create_root_key`)
    expect(notCovered(grants(...everyAction, 'api.*.read_api'), ['*'])).toEqual(['*'])
  })

  test('a wildcard covers its specific ids, not the reverse', () => {
    expect(notCovered(grants('api.*.read_api'), ['api.*.read_api', 'api.api_1.read_api'])).toEqual([])
    expect(notCovered(grants('api.api_1.read_api'), ['api.api_1.read_api', 'api.*.read_api', 'api.api_2.read_api'])).toEqual([
      'api.*.read_api',
      'api.api_2.read_api',
    ])
  })

  test('another action or resource type is not covered', () => {
    expect(notCovered(grants('api.*.read_api'), ['api.*.delete_api', 'ratelimit.*.read_api', 'identity.*.read_identity'])).toEqual([
      'api.*.delete_api',
      'ratelimit.*.read_api',
      'identity.*.read_identity',
    ])
  })
})
