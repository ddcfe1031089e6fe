// The one id generator: `<prefix>_<8 base58 characters of the time in ms><12
// random base58 characters>` (about 70 random bits), e.g. `key_3xYz…`. The
// alphabet is in ASCII order, so ids sort by creation time (to the
// millisecond): a new row's id lands at the end of every index that holds ids
// instead of at a random page of each, which is most of the pages a write
// dirties. The creation time an id shows is no secret (createdAt is public).
import { base58Digits, randomBase58Chars } from './crypto'

export type IdPrefix = 'ws' | 'api' | 'key' | 'id' | 'rl' | 'rlns' | 'rlor' | 'perm' | 'role' | 'req' | 'rk' | 'mig' | 'audit'

/** 58^8 ms: about 4,000 years from 1970. */
const TIME_DIGITS = 8

let lastMs = -1
let lastTime = ''

export function newId(prefix: IdPrefix): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    lastTime = base58Digits(ms, TIME_DIGITS)
  }
  return `${prefix}_${lastTime}${randomBase58Chars(12)}`
}
