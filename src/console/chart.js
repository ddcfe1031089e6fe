// Daily verification charts: stacked SVG bars, one per UTC day, drawn at the
// container's real width (redrawn when it changes) so text stays legible
// from a phone to a desktop. Each bar names its day and counts; the same
// numbers are in a table for screen readers and for copying.
import { h, uid } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'
const DAY = 86_400_000

/** @param {string} tag @param {Record<string, string | number>} attrs @param {...Node} children */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  el.append(...children)
  return el
}

/** Unix ms of the UTC day that starts `count - 1` days before today, and every day up to today. @param {number} count */
export function lastDays(count, now = Date.now()) {
  const today = Math.floor(now / DAY) * DAY
  return Array.from({ length: count }, (_, i) => today - (count - 1 - i) * DAY)
}

/**
 * Rows `{day, [group], n}` → one series per group, aligned on `days`.
 * @param {any[]} rows @param {string} group @param {number[]} days @param {(key: string) => string} [name]
 * @returns {{ name: string, values: number[] }[]}
 */
export function seriesOf(rows, group, days, name = (k) => k) {
  /** @type {Map<string, number[]>} */
  const byGroup = new Map()
  for (const row of rows) {
    const index = days.indexOf(Number(row.day))
    if (index === -1) continue
    const key = String(row[group] ?? '')
    if (!byGroup.has(key))
      byGroup.set(
        key,
        days.map(() => 0),
      )
    const values = /** @type {number[]} */ (byGroup.get(key))
    values[index] = (values[index] ?? 0) + Number(row.n)
  }
  return [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, values]) => ({ name: name(key), values }))
}

const dayLabel = (/** @type {number} */ ms) => new Date(ms).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })

/** A round whole step (counts are whole) for about four grid lines up to `max`. @param {number} max */
function step(max) {
  const raw = Math.max(1, max / 4)
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return ([1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) ?? raw) || 1
}

/**
 * @param {{ label: string, days: number[], series: { name: string, values: number[] }[] }} data
 */
export function barChart({ label, days, series }) {
  const totals = days.map((_, i) => series.reduce((sum, x) => sum + (x.values[i] ?? 0), 0))
  const total = totals.reduce((a, b) => a + b, 0)
  const summary = `${label}: ${total.toLocaleString()} verification${total === 1 ? '' : 's'} in the last ${days.length} days`
  const titleId = uid('chart')
  const plot = h('div', { class: 'plot' })
  const legend = h(
    'ul',
    { class: 'legend' },
    series.map((x, i) => h('li', {}, h('span', { class: `swatch s${i % 8}`, 'aria-hidden': 'true' }), x.name)),
  )
  const dataTable = h(
    'table',
    { class: 'data' },
    h('caption', { class: 'visually-hidden', text: summary }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Day (UTC)' }),
        series.map((x) => h('th', { scope: 'col', text: x.name })),
      ),
    ),
    h(
      'tbody',
      {},
      days.map((d, i) =>
        totals[i]
          ? h(
              'tr',
              {},
              h('th', { scope: 'row', text: dayLabel(d) }),
              series.map((x) => h('td', { text: String(x.values[i] ?? 0) })),
            )
          : null,
      ),
    ),
  )
  const figure = h(
    'figure',
    { class: 'chart', 'data-total': total },
    h('figcaption', { id: titleId }, h('strong', { text: label }), ` — ${total.toLocaleString()} in the last ${days.length} days`),
    plot,
    series.length ? legend : h('p', { class: 'muted', text: 'No verifications yet.' }),
    total ? h('details', {}, h('summary', { text: 'Show the numbers' }), h('div', { class: 'table-wrap' }, dataTable)) : null,
  )

  let drawnWidth = 0
  const draw = () => {
    const width = Math.max(280, Math.floor(plot.clientWidth))
    if (width === drawnWidth) return
    drawnWidth = width
    const height = 180
    const pad = { left: 40, right: 8, top: 8, bottom: 24 }
    const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom }
    const max = Math.max(1, ...totals)
    const tick = step(max)
    const top = Math.ceil(max / tick) * tick
    const y = (/** @type {number} */ v) => pad.top + inner.h - (v / top) * inner.h
    const slot = inner.w / days.length
    const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, class: 'bars' })
    for (let v = 0; v <= top; v += tick) {
      svg.append(s('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }))
      svg.append(s('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, document.createTextNode(v.toLocaleString())))
    }
    const every = Math.ceil(days.length / Math.max(1, Math.floor(inner.w / 70)))
    days.forEach((d, i) => {
      const x = pad.left + i * slot
      let base = 0
      series.forEach((x0, k) => {
        const v = x0.values[i] ?? 0
        if (!v) return
        const rect = s('rect', { x: x + slot * 0.15, width: Math.max(1, slot * 0.7), y: y(base + v), height: y(base) - y(base + v), class: `s${k % 8}` })
        rect.append(s('title', {}, document.createTextNode(`${dayLabel(d)}: ${x0.name} ${v.toLocaleString()}`)))
        svg.append(rect)
        base += v
      })
      if ((days.length - 1 - i) % every === 0) {
        // The last label (today) ends at the edge instead of running past it.
        const last = i === days.length - 1
        const at = last ? { x: width - pad.right, 'text-anchor': 'end' } : { x: x + slot / 2, 'text-anchor': 'middle' }
        svg.append(s('text', { ...at, y: height - 6, class: 'axis' }, document.createTextNode(dayLabel(d))))
      }
    })
    plot.replaceChildren(svg)
  }
  new ResizeObserver(draw).observe(plot)
  return figure
}
