// An API's keys: search (by identity on the server, by any shown text in the
// page), the create form with the new key shown once, and the paginated list
// linking to each key's page.
import { call } from '../api.js'
import { formatNumber, formatTime, h, link, pageHeader, pagedTable, replace, secretPanel } from '../dom.js'
import { field, form, input, value } from '../forms.js'
import { createKeyForm } from './key-form.js'

/** @param {HTMLElement} main @param {string[]} params */
export async function keysPage(main, [apiId = '']) {
  const { data: api } = await call('apis.getApi', { apiId })
  const secret = h('div')
  const list = h('section', { 'aria-label': 'Keys' })
  const filter = input('filter', { type: 'search' })
  /** @type {string | undefined} */
  let externalId
  /** @type {ReturnType<typeof pagedTable> | null} */
  let current = null
  const reload = () => {
    current = pagedTable({
      caption: `Keys of ${api.name}`,
      empty: externalId ? `No key of ${api.name} belongs to ${externalId}.` : 'No keys yet.',
      load: (cursor) => call('apis.listKeys', { apiId, limit: 25, ...(externalId ? { externalId } : {}), ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Name', cell: (k) => link(`/apis/${apiId}/keys/${k.keyId}`, k.name ?? k.keyId) },
        { label: 'Key', cell: (k) => [h('code', { text: `${k.start}…` }), h('br'), h('code', { class: 'muted', text: k.keyId })] },
        { label: 'Identity', cell: (k) => k.identity?.externalId ?? '—' },
        { label: 'Credits', cell: (k) => creditsText(k.credits) },
        { label: 'Status', cell: (k) => statusText(k) },
        { label: 'Last used', cell: (k) => formatTime(k.lastUsedAt) },
        { label: 'Created', cell: (k) => formatTime(k.createdAt) },
      ],
    })
    current.setFilter(filter.value)
    replace(list, current.el)
    return current.ready
  }
  filter.addEventListener('input', () => current?.setFilter(filter.value))
  const search = form({
    label: 'Search keys by identity',
    submit: 'Search',
    class: 'inline',
    fields: [
      field('Identity (external id)', input('externalId', { type: 'search' }), {
        loc: 'externalId',
        hint: 'Exact match over all keys; blank lists every key.',
      }),
    ],
    onSubmit: async (el) => {
      externalId = String(value(el, 'externalId')) || undefined
      await reload()
    },
  })
  const create = h(
    'details',
    { class: 'card' },
    h('summary', { text: 'Create a key' }),
    createKeyForm(apiId, async (created) => {
      replace(secret, secretPanel('New key', created.key, `This is the only time key ${created.keyId} is shown. Store it now.`))
      create.open = false
      await reload()
    }),
  )
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/apis', text: 'APIs' }), ' / ', api.name),
    pageHeader(`Keys of ${api.name}`),
    h('p', { class: 'muted' }, 'API id ', h('code', { text: api.id })),
    secret,
    create,
    h('section', { class: 'card', 'aria-label': 'Search' }, search, field('Filter the keys shown', filter, { hint: 'Name, key start, id or identity.' })),
    list,
  )
  await reload()
}

/** @param {any} credits */
export function creditsText(credits) {
  if (!credits || credits.remaining === null) return 'Unlimited'
  const refill = credits.refill ? ` (refills ${formatNumber(credits.refill.amount)} ${credits.refill.interval})` : ''
  return `${formatNumber(credits.remaining)}${refill}`
}

/** @param {any} key */
export function statusText(key) {
  if (!key.enabled) return 'Disabled'
  if (key.expires && key.expires <= Date.now()) return 'Expired'
  return key.expires ? `Enabled, expires ${formatTime(key.expires)}` : 'Enabled'
}
