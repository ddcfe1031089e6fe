// Building blocks of every page: an element builder (text only, never markup:
// Trusted Types forbid it), tables that fold into cards on a phone, a "load
// more" pager over cursor pagination, a confirmation dialog that names what
// it destroys, and the once-shown secret with its copy button.

/**
 * @typedef {{ [name: string]: any, class?: string, text?: string, on?: Record<string, (event: any) => void> }} Props
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * h('button', { class: 'danger', on: { click } }, 'Delete')
 * @param {string} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {any}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'on') for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler)
    else if (name === 'text') el.textContent = String(value)
    else if (name in el && name !== 'list' && name !== 'form') /** @type {any} */ (el)[name] = value
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === 'number' ? String(child) : child)
  }
}

let ids = 0
/** A document-unique id for label/input pairs. */
export const uid = (/** @type {string} */ prefix) => `${prefix}-${++ids}`

/** @param {Element} el @param {...(Child | Child[])} children */
export function replace(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** @param {number | null | undefined} ms */
export function formatTime(ms) {
  if (ms === null || ms === undefined) return '—'
  return new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}

/** @param {number | null | undefined} n */
export const formatNumber = (n) => (n === null || n === undefined ? '—' : n.toLocaleString())

/**
 * @typedef {{ label: string, cell: (row: any) => Child | Child[], class?: string }} Column
 * A table whose rows become labelled cards below 640px (CSS reads data-label).
 * @param {string} caption what the table lists (read by screen readers)
 * @param {Column[]} columns
 * @param {any[]} rows
 */
export function table(caption, columns, rows) {
  const body = h('tbody')
  const t = h(
    'table',
    { class: 'list' },
    h('caption', { class: 'visually-hidden', text: caption }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col', text: c.label })),
      ),
    ),
    body,
  )
  const add = (/** @type {any[]} */ more) => {
    for (const row of more)
      body.append(
        h(
          'tr',
          {},
          columns.map((c) => h('td', { 'data-label': c.label, class: c.class }, h('div', {}, c.cell(row)))),
        ),
      )
  }
  add(rows)
  return { el: t, add, body }
}

/**
 * A list read page by page: shows the first page, then a "Load more" button while the server says there is more.
 * @param {{ caption: string, columns: Column[], empty: string, load: (cursor?: string) => Promise<{ data: any[], pagination?: { cursor?: string, hasMore: boolean } }> }} options
 */
export function pagedTable({ caption, columns, empty, load }) {
  const holder = h('div', { class: 'paged' })
  const status = h('p', { class: 'muted', 'aria-live': 'polite' })
  const t = table(caption, columns, [])
  let shown = 0
  /** @type {string | undefined} */
  let cursor
  const more = h('button', { type: 'button', class: 'secondary', text: 'Load more', hidden: true, on: { click: () => next() } })
  const error = h('div')
  t.el.hidden = true
  async function next() {
    more.disabled = true
    try {
      const page = await load(cursor)
      t.add(page.data)
      shown += page.data.length
      cursor = page.pagination?.hasMore ? page.pagination.cursor : undefined
      status.textContent = shown === 0 ? empty : `Showing ${shown}${cursor ? '' : ' (all)'}`
      more.hidden = !cursor
      t.el.hidden = shown === 0
      replace(error)
    } catch (e) {
      replace(error, errorBox(e))
    } finally {
      more.disabled = false
    }
  }
  let filter = ''
  const applyFilter = () => {
    for (const row of t.body.rows) row.hidden = filter !== '' && !row.textContent.toLowerCase().includes(filter)
  }
  new MutationObserver(applyFilter).observe(t.body, { childList: true })
  holder.append(h('div', { class: 'table-wrap' }, t.el), status, error, more)
  const ready = next()
  /** Hides the rows (shown and to come) whose text does not contain `text`. @param {string} text */
  const setFilter = (text) => {
    filter = text.trim().toLowerCase()
    applyFilter()
  }
  return { el: holder, ready, setFilter }
}

/** @param {unknown} e An error shown in a box, a 403 with the permission it names. */
export function errorBox(e) {
  const error = /** @type {any} */ (e)
  const permission = error?.permission
  return h(
    'div',
    { class: 'error', role: 'alert' },
    permission ? h('p', {}, h('strong', { text: 'Permission needed: ' }), h('code', { class: 'permission', text: permission })) : null,
    h('p', { text: error?.detail ?? error?.message ?? String(e) }),
  )
}

/**
 * Asks before a destructive action; the dialog and its button name what is destroyed.
 * @param {{ title: string, body: string, action: string }} what
 * @returns {Promise<boolean>}
 */
export function confirmDestroy({ title, body, action }) {
  return new Promise((resolve) => {
    const titleId = uid('confirm')
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId },
      h('h2', { id: titleId, text: title }),
      h('p', { text: body }),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: 'Cancel', autofocus: true, on: { click: () => dialog.close('cancel') } }),
        h('button', { type: 'button', class: 'danger', text: action, on: { click: () => dialog.close('confirm') } }),
      ),
    )
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(dialog.returnValue === 'confirm')
    })
    document.body.append(dialog)
    dialog.showModal()
  })
}

/**
 * A button that asks first, naming what it destroys, then runs `action`; an error shows beside it.
 * @param {{ what: string, consequence: string, action: () => Promise<void>, text?: string }} options
 */
export function destroyButton({ what, consequence, action, text = 'Delete' }) {
  const error = h('div')
  const button = h('button', {
    type: 'button',
    class: 'danger',
    text,
    'aria-label': `${text} ${what}`,
    on: {
      click: async () => {
        const sure = await confirmDestroy({ title: `${text} ${what}?`, body: `${consequence} This cannot be undone.`, action: `${text} ${what}` })
        if (!sure) return
        replace(error)
        try {
          await action()
        } catch (e) {
          replace(error, errorBox(e))
        }
      },
    },
  })
  return h('span', { class: 'destroy' }, button, error)
}

/**
 * A new secret, shown once, with a copy button. The caller removes it when the user is done.
 * @param {string} label e.g. 'New key'
 * @param {string} secret
 * @param {string} warning
 */
export function secretPanel(label, secret, warning) {
  const inputId = uid('secret')
  const input = h('input', { id: inputId, class: 'secret', readOnly: true, value: secret, spellcheck: false, autocomplete: 'off' })
  const copied = h('span', { class: 'muted', role: 'status' })
  const copy = h('button', {
    type: 'button',
    text: 'Copy',
    on: {
      click: async () => {
        try {
          await navigator.clipboard.writeText(secret)
        } catch {
          // No clipboard API (a plain-HTTP origin other than localhost): select the text for Ctrl+C instead.
          input.select()
          copied.textContent = 'Selected: press Ctrl+C to copy'
          return
        }
        copied.textContent = 'Copied'
      },
    },
  })
  const panel = h(
    'section',
    { class: 'secret-panel', 'aria-label': label },
    h('label', { for: inputId, text: label }),
    h('div', { class: 'row' }, input, copy, copied),
    h('p', { class: 'warning', text: warning }),
    h('button', { type: 'button', class: 'secondary', text: 'I have stored it', on: { click: () => panel.remove() } }),
  )
  queueMicrotask(() => input.focus())
  return panel
}

/**
 * A modal dialog around content built by `build`, which gets a `close` function. Escape closes it too.
 * @param {string} title
 * @param {(close: () => void) => Node} build
 */
export function openDialog(title, build) {
  const titleId = uid('dialog')
  const dialog = h('dialog', { class: 'form-dialog', 'aria-labelledby': titleId })
  const close = () => dialog.close()
  dialog.append(h('h2', { id: titleId, text: title }), build(close), h('button', { type: 'button', class: 'secondary', text: 'Cancel', on: { click: close } }))
  dialog.addEventListener('close', () => dialog.remove())
  document.body.append(dialog)
  dialog.showModal()
  return dialog
}

/** A heading row: the page title and optional actions. @param {string} title @param {...Child} actions */
export function pageHeader(title, ...actions) {
  return h('header', { class: 'page-header' }, h('h1', { tabIndex: -1, text: title }), h('div', { class: 'actions' }, actions))
}

/** A link inside the console (hash routing). @param {string} route @param {string} text */
export const link = (route, text) => h('a', { href: `#${route}`, text })
