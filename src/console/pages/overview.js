// Overview: verifications per day over the last 30 days, one colour per API
// (from the analytics day rollup), and how many APIs, keys and identities the
// workspace has. Counting pages through the list routes, so it stops at
// COUNT_CAP and says "or more".
import { call, collect } from '../api.js'
import { barChart, lastDays, seriesOf } from '../chart.js'
import { errorBox, h, link, pageHeader } from '../dom.js'

const COUNT_CAP = 1000

/** @param {HTMLElement} main */
export async function overviewPage(main) {
  const days = lastDays(30)
  const chartSlot = h('div', { class: 'card' }, h('p', { class: 'muted', text: 'Loading verifications…' }))
  const counts = h('dl', { class: 'counts' })
  main.append(pageHeader('Overview'), h('section', { 'aria-label': 'Totals' }, counts), chartSlot)

  const apis = collect('apis.listApis', {}, COUNT_CAP)
  const count = (/** @type {string} */ label, /** @type {string} */ route, /** @type {Promise<{ items: any[], complete: boolean }>} */ pending) => {
    const value = h('dd', { text: '…' })
    counts.append(h('div', { class: 'count' }, h('dt', {}, link(route, label)), value))
    pending.then(
      (r) => {
        value.textContent = `${r.items.length.toLocaleString()}${r.complete ? '' : ' or more'}`
      },
      (error) => value.replaceChildren(errorBox(error)),
    )
  }
  count('APIs', '/apis', apis)
  count('Keys', '/apis', keyCount(apis))
  count('Identities', '/identities', collect('identities.listIdentities', {}, COUNT_CAP))

  try {
    // A bare number compared with a time counts seconds (as in ClickHouse), hence fromUnixTimestamp64Milli.
    const { data } = await call('analytics.getVerifications', {
      query: `SELECT time AS day, key_space_id AS api, SUM(count) AS n FROM key_verifications_per_day_v1 WHERE time >= fromUnixTimestamp64Milli(${days[0]}) GROUP BY day, api ORDER BY day`,
    })
    /** @type {Map<string, string>} */
    const names = new Map()
    try {
      for (const api of (await apis).items) names.set(api.id, api.name)
    } catch {
      // Without api read access the chart still shows ids.
    }
    const series = seriesOf(data, 'api', days, (id) => names.get(id) ?? (id || 'unknown key'))
    chartSlot.replaceChildren(barChart({ label: 'Verifications per day, by API', days, series }))
  } catch (error) {
    chartSlot.replaceChildren(h('h2', { text: 'Verifications per day' }), errorBox(error))
  }
}

/**
 * Keys of every API, counted page by page up to COUNT_CAP in all.
 * @param {Promise<{ items: any[], complete: boolean }>} apis
 */
async function keyCount(apis) {
  const { items, complete } = await apis
  let total = 0
  for (const api of items) {
    const keys = await collect('apis.listKeys', { apiId: api.id }, COUNT_CAP - total)
    total += keys.items.length
    if (!keys.complete || total >= COUNT_CAP) return { items: new Array(total), complete: false }
  }
  return { items: new Array(total), complete }
}
