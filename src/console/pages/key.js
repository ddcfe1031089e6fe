// One key: what it is, its last use and verifications per day over 30 days
// (by outcome, from the analytics day rollup), and what can be done to it:
// enable or disable, change credits, reroll (new key shown once), delete.
import { call } from '../api.js'
import { barChart, lastDays, seriesOf } from '../chart.js'
import { destroyButton, errorBox, formatTime, h, pageHeader, replace, secretPanel } from '../dom.js'
import { field, form, input, integer, select, value } from '../forms.js'
import { creditsText, statusText } from './keys.js'

/** @param {HTMLElement} main @param {string[]} params */
export async function keyPage(main, [apiId = '', keyId = '']) {
  const [{ data: api }, { data: key }] = await Promise.all([call('apis.getApi', { apiId }), call('keys.getKey', { keyId })])
  const label = key.name ?? key.keyId
  const secret = h('div')
  const details = h('dl', { class: 'details' })
  const chart = h('div', { class: 'card' }, h('p', { class: 'muted', text: 'Loading verifications…' }))
  const showDetails = () =>
    replace(
      details,
      [
        ['Key id', h('code', { text: key.keyId })],
        ['Starts with', h('code', { text: `${key.start}…` })],
        ['Status', statusText(key)],
        ['Credits', creditsText(key.credits)],
        ['Last used', formatTime(key.lastUsedAt)],
        ['Identity', key.identity?.externalId ?? '—'],
        ['Permissions', key.permissions?.join(', ') || '—'],
        ['Roles', key.roles?.join(', ') || '—'],
        ['Ratelimits', key.ratelimits?.map((/** @type {any} */ r) => `${r.name}: ${r.limit} per ${r.duration} ms`).join('; ') || '—'],
        ['Created', formatTime(key.createdAt)],
      ].map(([term, desc]) => h('div', {}, h('dt', { text: term }), h('dd', {}, desc))),
    )
  showDetails()
  const refresh = async () => {
    const fresh = (await call('keys.getKey', { keyId })).data
    for (const field of Object.keys(key)) delete key[field]
    Object.assign(key, fresh)
    showDetails()
  }

  const toggleError = h('div')
  const toggle = h('button', {
    type: 'button',
    class: 'secondary',
    text: key.enabled ? 'Disable key' : 'Enable key',
    on: {
      click: async () => {
        try {
          await call('keys.updateKey', { keyId, enabled: !key.enabled })
          await refresh()
          toggle.textContent = key.enabled ? 'Disable key' : 'Enable key'
          replace(toggleError)
        } catch (e) {
          replace(toggleError, errorBox(e))
        }
      },
    },
  })

  const credits = form({
    label: 'Change credits',
    submit: 'Change credits',
    class: 'inline',
    fields: [
      field(
        'Operation',
        select('operation', [
          ['set', 'Set to'],
          ['increment', 'Add'],
          ['decrement', 'Subtract'],
        ]),
        { loc: 'operation' },
      ),
      field('Credits', input('value', { type: 'number', min: 0, inputMode: 'numeric' }), { loc: 'value', hint: '"Set to" with blank: unlimited.' }),
    ],
    onSubmit: async (el) => {
      const operation = String(value(el, 'operation'))
      const amount = integer(String(value(el, 'value')), 'value')
      await call('keys.updateCredits', { keyId, operation, value: amount ?? null })
      el.reset()
      await refresh()
    },
  })

  const reroll = form({
    label: 'Reroll key',
    submit: 'Reroll key',
    class: 'inline',
    fields: [
      field('Old key keeps working for (ms)', input('expiration', { type: 'number', min: 0, value: '0', inputMode: 'numeric' }), {
        loc: 'expiration',
        hint: '0: the old key stops at once.',
      }),
    ],
    onSubmit: async (el) => {
      const expiration = integer(String(value(el, 'expiration')), 'expiration') ?? 0
      const { data } = await call('keys.rerollKey', { keyId, expiration })
      replace(
        secret,
        secretPanel('New key', data.key, `This is the only time the new key ${data.keyId} is shown. Store it now.`),
        h('p', {}, h('a', { href: `#/apis/${apiId}/keys/${data.keyId}`, text: 'Open the new key' })),
      )
    },
  })

  const remove = destroyButton({
    what: `key ${label}`,
    consequence: `Key ${label} (${key.keyId}, starting ${key.start}) will stop verifying at once.`,
    action: async () => {
      await call('keys.deleteKey', { keyId })
      location.hash = `#/apis/${apiId}`
    },
  })

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/apis', text: 'APIs' }), ' / ', h('a', { href: `#/apis/${apiId}`, text: api.name }), ' / ', label),
    pageHeader(`Key ${label}`),
    secret,
    h('section', { class: 'card', 'aria-label': 'Details' }, details),
    chart,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'key-actions' },
      h('h2', { id: 'key-actions', text: 'Change this key' }),
      h('div', { class: 'actions' }, toggle),
      toggleError,
      h('h3', { text: 'Credits' }),
      credits,
      h('h3', { text: 'Reroll' }),
      reroll,
      h('h3', { text: 'Delete' }),
      remove,
    ),
  )
  await drawChart(chart, keyId)
}

/** @param {HTMLElement} slot @param {string} keyId */
async function drawChart(slot, keyId) {
  const days = lastDays(30)
  try {
    // The id goes into SQL text: only the id alphabet is let through. A bare number compared with a
    // time counts seconds (as in ClickHouse), hence fromUnixTimestamp64Milli.
    if (!/^[A-Za-z0-9_]+$/.test(keyId)) throw new Error(`Not a key id: ${keyId}`)
    const { data } = await call('analytics.getVerifications', {
      query: `SELECT time AS day, outcome, SUM(count) AS n FROM key_verifications_per_day_v1 WHERE key_id = '${keyId}' AND time >= fromUnixTimestamp64Milli(${days[0]}) GROUP BY day, outcome`,
    })
    replace(slot, barChart({ label: 'Verifications per day, by outcome', days, series: seriesOf(data, 'outcome', days) }))
  } catch (error) {
    replace(slot, h('h2', { text: 'Verifications per day' }), errorBox(error))
  }
}
