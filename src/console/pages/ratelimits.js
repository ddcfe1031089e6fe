// Ratelimit namespaces (created by the first ratelimit.limit naming them):
// the list, deleting one, and a namespace's overrides: set, list, delete.
import { call } from '../api.js'
import { destroyButton, formatNumber, formatTime, h, link, pageHeader, pagedTable, replace } from '../dom.js'
import { field, form, input, integer, value } from '../forms.js'

/** @param {HTMLElement} main */
export async function ratelimitsPage(main) {
  const list = h('section', { 'aria-label': 'Namespaces' })
  const notice = h('div', { role: 'status', class: 'notice' })
  const reload = () => {
    const table = pagedTable({
      caption: 'Ratelimit namespaces',
      empty: 'No namespaces yet: the first ratelimit.limit call naming one creates it.',
      load: (cursor) => call('ratelimit.listNamespaces', { limit: 25, ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Name', cell: (ns) => link(`/ratelimits/${encodeURIComponent(ns.name)}`, ns.name) },
        { label: 'Id', cell: (ns) => h('code', { text: ns.id }) },
        { label: 'Overrides', cell: (ns) => formatNumber(ns.overrideCount) },
        { label: 'Created', cell: (ns) => formatTime(ns.createdAt) },
        {
          label: 'Actions',
          class: 'row-actions',
          cell: (ns) =>
            destroyButton({
              what: `namespace ${ns.name}`,
              consequence: `Namespace ${ns.name} (${ns.id}) and its ${ns.overrideCount} override(s) are deleted; ratelimit.limit on it answers 410 and the name cannot be used again.`,
              action: async () => {
                await call('ratelimit.deleteNamespace', { namespace: ns.id })
                notice.textContent = `Deleted namespace ${ns.name}.`
                await reload()
              },
            }),
        },
      ],
    })
    replace(list, table.el)
    return table.ready
  }
  main.append(pageHeader('Ratelimit namespaces'), notice, list)
  await reload()
}

/** @param {HTMLElement} main @param {string[]} params */
export async function namespacePage(main, [namespace = '']) {
  const list = h('section', { 'aria-label': 'Overrides' })
  const notice = h('div', { role: 'status', class: 'notice' })
  const reload = () => {
    const table = pagedTable({
      caption: `Overrides of ${namespace}`,
      empty: 'No overrides: every identifier gets the limit its caller asks for.',
      load: (cursor) => call('ratelimit.listOverrides', { namespace, limit: 25, ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Identifier', cell: (o) => h('code', { text: o.identifier }) },
        { label: 'Limit', cell: (o) => formatNumber(o.limit) },
        { label: 'Window (ms)', cell: (o) => formatNumber(o.duration) },
        {
          label: 'Actions',
          class: 'row-actions',
          cell: (o) =>
            destroyButton({
              what: `the override for ${o.identifier}`,
              consequence: `${o.identifier} goes back to the limit its caller asks for in ${namespace}.`,
              action: async () => {
                await call('ratelimit.deleteOverride', { namespace, identifier: o.identifier })
                notice.textContent = `Deleted the override for ${o.identifier}.`
                await reload()
              },
            }),
        },
      ],
    })
    replace(list, table.el)
    return table.ready
  }
  const set = form({
    label: 'Set override',
    submit: 'Set override',
    fields: [
      h(
        'div',
        { class: 'grid' },
        field('Identifier', input('identifier', { maxLength: 512 }), { loc: 'identifier', required: true, hint: 'Who the override is for, e.g. a user id.' }),
        field('Limit', input('limit', { type: 'number', min: 0, inputMode: 'numeric' }), { loc: 'limit', required: true, hint: '0 blocks every request.' }),
        field('Window (ms)', input('duration', { type: 'number', min: 1000, step: 1000, value: '60000', inputMode: 'numeric' }), {
          loc: 'duration',
          required: true,
        }),
      ),
    ],
    onSubmit: async (el) => {
      const identifier = String(value(el, 'identifier'))
      await call('ratelimit.setOverride', {
        namespace,
        identifier,
        limit: integer(String(value(el, 'limit')), 'limit') ?? -1,
        duration: integer(String(value(el, 'duration')), 'duration') ?? 0,
      })
      notice.textContent = `Set the override for ${identifier}.`
      el.reset()
      await reload()
    },
  })
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/ratelimits', text: 'Ratelimits' }), ' / ', namespace),
    pageHeader(`Namespace ${namespace}`),
    h('section', { class: 'card', 'aria-label': 'Set an override' }, h('h2', { text: 'Set an override' }), set),
    notice,
    list,
  )
  await reload()
}
