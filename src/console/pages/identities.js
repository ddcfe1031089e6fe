// Identities: search, create (external id, meta, ratelimits), delete after a
// confirmation naming the identity.
import { call } from '../api.js'
import { destroyButton, h, pageHeader, pagedTable, replace } from '../dom.js'
import { field, form, input, jsonObject, ratelimitRows, value } from '../forms.js'

/** @param {HTMLElement} main */
export async function identitiesPage(main) {
  const list = h('section', { 'aria-label': 'Identities' })
  const notice = h('div', { role: 'status', class: 'notice' })
  /** @type {string | undefined} */
  let search
  const reload = () => {
    const table = pagedTable({
      caption: 'Identities',
      empty: search ? `No identity matches ${search}.` : 'No identities yet.',
      load: (cursor) => call('identities.listIdentities', { limit: 25, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'External id', cell: (i) => i.externalId },
        { label: 'Id', cell: (i) => h('code', { text: i.id }) },
        { label: 'Ratelimits', cell: (i) => i.ratelimits?.map((/** @type {any} */ r) => `${r.name}: ${r.limit}/${r.duration} ms`).join('; ') || '—' },
        { label: 'Meta', cell: (i) => (i.meta ? h('code', { text: JSON.stringify(i.meta) }) : '—') },
        {
          label: 'Actions',
          class: 'row-actions',
          cell: (i) =>
            destroyButton({
              what: `identity ${i.externalId}`,
              consequence: `Identity ${i.externalId} (${i.id}) and its ratelimits are deleted; its keys stay, without an identity.`,
              action: async () => {
                await call('identities.deleteIdentity', { identity: i.id })
                notice.textContent = `Deleted identity ${i.externalId}.`
                await reload()
              },
            }),
        },
      ],
    })
    replace(list, table.el)
    return table.ready
  }
  const limits = ratelimitRows('Ratelimits')
  const create = form({
    label: 'Create identity',
    submit: 'Create identity',
    fields: [
      field('External id', input('externalId', { maxLength: 255 }), { loc: 'externalId', required: true, hint: 'Your id for the user or organisation.' }),
      field('Meta (JSON object)', h('textarea', { name: 'meta', rows: 2 }), { loc: 'meta' }),
      limits.el,
    ],
    onSubmit: async (el) => {
      /** @type {Record<string, any>} */
      const body = { externalId: value(el, 'externalId') }
      const meta = jsonObject(String(value(el, 'meta')), 'meta')
      if (meta) body.meta = meta
      const ratelimits = limits.value()
      if (ratelimits.length) body.ratelimits = ratelimits
      await call('identities.createIdentity', body)
      el.reset()
      notice.textContent = `Created identity ${body.externalId}.`
      await reload()
    },
  })
  const searchForm = form({
    label: 'Search identities',
    submit: 'Search',
    class: 'inline',
    fields: [field('External id contains', input('search', { type: 'search' }), { loc: 'search' })],
    onSubmit: async (el) => {
      search = String(value(el, 'search')) || undefined
      await reload()
    },
  })
  main.append(
    pageHeader('Identities'),
    h('details', { class: 'card' }, h('summary', { text: 'Create an identity' }), create),
    h('section', { class: 'card', 'aria-label': 'Search' }, searchForm),
    notice,
    list,
  )
  await reload()
}
