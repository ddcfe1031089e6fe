// When credits refill. A daily refill happens at 00:00 UTC; a monthly one on
// `refillDay` (on the month's last day when the month is shorter). A key is
// due when its last refill (or its creation) predates the latest boundary,
// which makes a refill missed while latch was down happen at the next check.
const DAY = 86_400_000

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month + 1, 0)).getUTCDate()

/** The most recent refill boundary at or before `now`. `refillDay` null means daily. */
export function lastRefillBoundary(now: number, refillDay: number | null): number {
  const startOfDay = Math.floor(now / DAY) * DAY
  if (refillDay === null) return startOfDay
  const d = new Date(startOfDay)
  let year = d.getUTCFullYear()
  let month = d.getUTCMonth()
  let boundary = Date.UTC(year, month, Math.min(refillDay, daysInMonth(year, month)))
  if (boundary > now) {
    month -= 1
    if (month < 0) {
      month = 11
      year -= 1
    }
    boundary = Date.UTC(year, month, Math.min(refillDay, daysInMonth(year, month)))
  }
  return boundary
}

export interface Refillable {
  remaining: number | null
  refillAmount: number | null
  refillDay: number | null
  lastRefillAt: number | null
  createdAt: number
}

export function refillDue(key: Refillable, now: number): boolean {
  if (key.refillAmount === null) return false
  return (key.lastRefillAt ?? key.createdAt) < lastRefillBoundary(now, key.refillDay)
}

/** The remaining credits after a refill: the refill amount, never lowering a larger balance. */
export function refilledRemaining(key: Pick<Refillable, 'remaining' | 'refillAmount'>): number {
  const amount = key.refillAmount!
  return key.remaining === null || key.remaining < amount ? amount : key.remaining
}

/** The refill settings as responses show them, or undefined when the key has none. */
export function refillView(key: { refillAmount: number | null; refillDay: number | null }) {
  if (key.refillAmount === null) return undefined
  return key.refillDay === null
    ? { interval: 'daily' as const, amount: key.refillAmount }
    : { interval: 'monthly' as const, amount: key.refillAmount, refillDay: key.refillDay }
}
