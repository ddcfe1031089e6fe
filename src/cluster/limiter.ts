// The shared ratelimit engine of cluster mode: the arithmetic of
// src/modules/ratelimit/limiter.ts (a sliding window over two fixed windows,
// all-or-nothing over a batch, requests on one counter seeing each other's
// cost), run as one Lua script in Redis so that every node counts against the
// same counters atomically. One round trip per decision (EVALSHA; EVAL when
// Redis has lost the script, e.g. after a restart).
//
// Each fixed window of a counter is one Redis key, `<prefix><counter>:<window>`,
// holding its count and expiring once it can no longer matter (the end of the
// next window, plus a second of slack for clocks): counters survive a node's
// restart, and Redis memory stays bounded by the live windows. Windows are
// computed from the node's clock (keep the nodes' clocks in sync, e.g. NTP).
// When Redis cannot be reached the decision fails with 503 (fail closed).
import { createHash } from 'node:crypto'
import type { Clock } from '../clock'
import { counterKey, type LimitDecision, type Limiter, type LimitOutcome, type LimitRequest } from '../modules/ratelimit/limiter'
import type { RedisLink } from './redis'

// KEYS: per request, its current window then its previous window.
// ARGV: per request, limit, cost, duration, elapsed (ms into the current window), ttl (ms).
// Returns { passed, ok1, remaining1, ok2, remaining2, ... }.
const SCRIPT = `
local n = #KEYS / 2
local added, stored, previous, oks = {}, {}, {}, {}
local passed = 1
for i = 1, n do
  local cur, prev = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, cost = tonumber(ARGV[5 * i - 4]), tonumber(ARGV[5 * i - 3])
  local duration, elapsed = tonumber(ARGV[5 * i - 2]), tonumber(ARGV[5 * i - 1])
  stored[i] = tonumber(redis.call('GET', cur) or '0')
  local p = tonumber(redis.call('GET', prev) or '0')
  previous[i] = 0
  if p > 0 then previous[i] = p * (duration - elapsed) / duration end
  local used = stored[i] + (added[cur] or 0) + previous[i]
  if limit > 0 and used + cost <= limit then
    oks[i] = used + cost
    added[cur] = (added[cur] or 0) + cost
  else
    oks[i] = false
    passed = 0
  end
end
local out = { passed }
for i = 1, n do
  local limit = tonumber(ARGV[5 * i - 4])
  -- Passed: what each request left (earlier requests of the batch included); refused: the untouched counters.
  local used = stored[i] + previous[i]
  if passed == 1 then used = oks[i] end
  local remaining = math.floor(limit - used)
  if remaining < 0 then remaining = 0 end
  out[2 * i] = oks[i] and 1 or 0
  out[2 * i + 1] = remaining
end
if passed == 1 then
  for i = 1, n do
    local cur = KEYS[2 * i - 1]
    local cost = tonumber(ARGV[5 * i - 3])
    if cost > 0 then
      redis.call('INCRBY', cur, cost)
      redis.call('PEXPIRE', cur, ARGV[5 * i])
    end
  end
end
return out
`

const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex')

/** Slack added to a window key's lifetime, for clocks a little apart between nodes. */
const TTL_SLACK_MS = 1_000

export class RedisLimiter implements Limiter {
  /** Counters live in Redis: none in this process. */
  readonly size = 0

  constructor(
    private readonly redis: RedisLink,
    private readonly clock: Clock,
    /** Prefix of every counter key, e.g. `latch:rl:`. */
    private readonly prefix: string,
  ) {}

  async limit(requests: LimitRequest[]): Promise<LimitDecision> {
    if (requests.length === 0) return { passed: true, outcomes: [] }
    const now = this.clock.now()
    const keys: string[] = []
    const args: string[] = []
    const resets: number[] = []
    for (const request of requests) {
      const sequence = Math.floor(now / request.duration)
      const counter = this.prefix + counterKey(request)
      keys.push(`${counter}:${sequence}`, `${counter}:${sequence - 1}`)
      const elapsed = Math.min(Math.max(now - sequence * request.duration, 0), request.duration)
      const ttl = (sequence + 2) * request.duration - now + TTL_SLACK_MS
      args.push(String(request.limit), String(request.cost), String(request.duration), String(elapsed), String(ttl))
      resets.push((sequence + 1) * request.duration)
    }
    const reply = (await this.run(keys, args)) as number[]
    const outcomes: LimitOutcome[] = requests.map((request, i) => ({
      passed: reply[1 + 2 * i] === 1,
      limit: request.limit,
      remaining: reply[2 + 2 * i]!,
      reset: resets[i]!,
    }))
    return { passed: reply[0] === 1, outcomes }
  }

  private async run(keys: string[], args: string[]): Promise<unknown> {
    const count = String(keys.length)
    try {
      return await this.redis.command('EVALSHA', [SCRIPT_SHA, count, ...keys, ...args])
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error
      return this.redis.command('EVAL', [SCRIPT, count, ...keys, ...args])
    }
  }
}
