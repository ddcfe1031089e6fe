// The audit log, newest first: filter by event, actor, resource and time.
import { call, loadCatalogue } from '../api.js'
import { formatTime, h, pageHeader, pagedTable, replace } from '../dom.js'
import { dateTime, field, form, input, select, value } from '../forms.js'

/** @param {HTMLElement} main */
export async function auditPage(main) {
  const { auditEvents } = await loadCatalogue()
  const list = h('section', { 'aria-label': 'Events' })
  /** @type {Record<string, any>} */
  let filters = {}
  const reload = () => {
    const table = pagedTable({
      caption: 'Audit events',
      empty: 'No events match.',
      load: (cursor) => call('audit.listLogs', { ...filters, limit: 50, ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Time', cell: (e) => h('time', { dateTime: new Date(e.time).toISOString(), text: formatTime(e.time) }) },
        { label: 'Event', cell: (e) => h('code', { class: 'nowrap', text: e.event }) },
        { label: 'Actor', cell: (e) => [e.actor.name ? `${e.actor.name} ` : '', h('code', { class: 'muted', text: `${e.actor.type}:${e.actor.id}` })] },
        {
          label: 'Resources',
          cell: (e) =>
            h(
              'ul',
              { class: 'grants' },
              e.resources.map((/** @type {any} */ r) => h('li', {}, `${r.type} `, h('code', { text: r.id }), r.name ? ` ${r.name}` : '')),
            ),
        },
        { label: 'Description', cell: (e) => e.description },
        { label: 'Request', cell: (e) => (e.context.requestId ? h('code', { class: 'muted', text: e.context.requestId }) : '—') },
      ],
    })
    replace(list, table.el)
    return table.ready
  }
  const filter = form({
    label: 'Filter events',
    submit: 'Filter',
    fields: h(
      'div',
      { class: 'grid' },
      field('Event', select('event', [['', 'Any event'], ...auditEvents.map((e) => /** @type {[string, string]} */ ([e, e]))]), { loc: 'events' }),
      field('Actor id', input('actorId'), { loc: 'actorId', hint: 'A root key id (rk_…) or an operator name.' }),
      field('Resource id', input('resourceId'), { loc: 'resourceId', hint: 'e.g. api_…, key_…, rk_…' }),
      field('From', input('since', { type: 'datetime-local' }), { loc: 'since' }),
      field('Until', input('until', { type: 'datetime-local' }), { loc: 'until' }),
    ),
    onSubmit: async (el) => {
      const text = (/** @type {string} */ name) => String(value(el, name))
      filters = {}
      if (text('event')) filters.events = [text('event')]
      if (text('actorId')) filters.actorId = text('actorId')
      if (text('resourceId')) filters.resourceId = text('resourceId')
      const since = dateTime(text('since'))
      if (since !== undefined) filters.since = since
      const until = dateTime(text('until'))
      // A minute input covers its whole minute.
      if (until !== undefined) filters.until = until + 59_999
      await reload()
    },
  })
  main.append(pageHeader('Audit log'), h('section', { class: 'card', 'aria-label': 'Filters' }, filter), list)
  await reload()
}
