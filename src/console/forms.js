// Forms: labelled fields, and errors put next to what caused them. Each
// control carries `data-loc`, the body path the server names in
// `error.errors[].location` (`body.credits.remaining` → `credits.remaining`);
// a message that matches no control, and every non-400 error (a 403 names
// its permission), is shown at the top of the form.
import { ApiError } from './api.js'
import { errorBox, h, replace, uid } from './dom.js'

/**
 * A labelled control with its hint and its error slot.
 * @param {string} label
 * @param {HTMLElement} control an input, select or textarea (gets an id and data-loc)
 * @param {{ loc?: string, hint?: string, required?: boolean }} [options]
 */
export function field(label, control, { loc, hint, required } = {}) {
  control.id ||= uid('f')
  if (loc) control.dataset.loc = loc
  if (required) control.setAttribute('aria-required', 'true')
  const hintEl = hint ? h('p', { class: 'hint', id: uid('hint'), text: hint }) : null
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id)
  const isCheck = control instanceof HTMLInputElement && control.type === 'checkbox'
  // "(required)" stays outside the label, so the control's name is the label alone; aria-required says it to assistive technology.
  const labelEl = required
    ? h('span', {}, h('label', { for: control.id, text: label }), h('span', { class: 'muted', text: ' (required)' }))
    : h('label', { for: control.id, text: label })
  return h('div', { class: isCheck ? 'field check' : 'field' }, isCheck ? [control, labelEl] : [labelEl, control], hintEl)
}

/** @param {string} name @param {Record<string, any>} [props] */
export const input = (name, props = {}) => h('input', { name, type: 'text', autocomplete: 'off', ...props })

/** @param {string} name @param {[string, string][]} options value, label @param {string} [value] */
export const select = (name, options, value) =>
  h(
    'select',
    { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value, text: label })),
  )

/**
 * A form that runs `onSubmit` and shows its errors; the submit button is disabled while it runs.
 * @param {{ label: string, submit: string, fields: any[], onSubmit: (form: HTMLFormElement) => Promise<void>, class?: string }} options
 */
export function form({ label, submit, fields, onSubmit, class: className }) {
  const general = h('div', { class: 'form-error' })
  const button = h('button', { type: 'submit', text: submit })
  /** @type {HTMLFormElement} */
  const el = h('form', { 'aria-label': label, class: className ?? 'stack', novalidate: true }, general, fields, h('div', { class: 'actions' }, button))
  el.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearErrors(el)
    button.disabled = true
    try {
      await onSubmit(el)
    } catch (error) {
      showErrors(el, error)
    } finally {
      button.disabled = false
    }
  })
  return el
}

/** @param {HTMLFormElement} el */
export function clearErrors(el) {
  for (const old of el.querySelectorAll('.field-error')) old.remove()
  for (const control of el.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid')
    const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => !id.startsWith('err-'))
    if (described.length) control.setAttribute('aria-describedby', described.join(' '))
    else control.removeAttribute('aria-describedby')
  }
  const general = el.querySelector('.form-error')
  if (general) replace(general)
}

/**
 * The control a server location points at: the one whose data-loc is the location or its longest parent
 * (`permissions[2]` → `permissions`), else the first control under it (`credits` → `credits.remaining`).
 * @param {HTMLFormElement} el @param {string} location
 * @returns {HTMLElement | null}
 */
function controlFor(el, location) {
  const loc = location.replace(/^body\.?/, '')
  /** @type {HTMLElement[]} */
  const controls = [...el.querySelectorAll('[data-loc]')].filter((c) => c instanceof HTMLElement)
  let best = null
  let bestLength = -1
  for (const c of controls) {
    const own = c.dataset.loc ?? ''
    const covers = loc === own || loc.startsWith(`${own}.`) || loc.startsWith(`${own}[`)
    if (covers && own.length > bestLength) {
      best = c
      bestLength = own.length
    }
  }
  return best ?? (loc ? (controls.find((c) => (c.dataset.loc ?? '').startsWith(`${loc}.`)) ?? null) : null)
}

/** @param {HTMLFormElement} el @param {unknown} error */
export function showErrors(el, error) {
  const general = /** @type {HTMLElement} */ (el.querySelector('.form-error'))
  if (!(error instanceof ApiError) || error.errors.length === 0) {
    replace(general, errorBox(error))
    general.querySelector('[role=alert]')?.setAttribute('tabindex', '-1')
    return
  }
  /** @type {string[]} */
  const unplaced = []
  let first = null
  for (const { location, message } of error.errors) {
    const control = controlFor(el, location)
    if (!control) {
      unplaced.push(location === 'body' ? message : `${location.replace(/^body\./, '')}: ${message}`)
      continue
    }
    const id = `err-${uid('e')}`
    control.setAttribute('aria-invalid', 'true')
    control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} ${id}`.trim())
    const where = control.closest('.field') ?? control
    where.append(h('p', { class: 'field-error', id, text: message }))
    first ??= control
  }
  if (unplaced.length)
    replace(
      general,
      h(
        'div',
        { class: 'error', role: 'alert' },
        unplaced.map((m) => h('p', { text: m })),
      ),
    )
  first?.focus()
}

/** A client-side check that failed, reported like the server's. @param {string} location @param {string} message */
export const invalid = (location, message) => new ApiError(400, message, [{ location: `body.${location}`, message }])

/** The value of a named control in a form. @param {HTMLFormElement} el @param {string} name */
export function value(el, name) {
  const control = /** @type {HTMLInputElement | null} */ (el.elements.namedItem(name))
  return control?.type === 'checkbox' ? control.checked : (control?.value ?? '').trim()
}

/** Lines or commas → a list without blanks. @param {string} text */
export const list = (text) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)

/** An integer field's value, undefined when blank; a non-integer is reported at `loc`. @param {string} text @param {string} loc */
export function integer(text, loc) {
  if (text === '') return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw invalid(loc, 'Expected a whole number')
  return n
}

/** A JSON object field, undefined when blank. @param {string} text @param {string} loc */
export function jsonObject(text, loc) {
  if (text === '') return undefined
  try {
    const parsed = JSON.parse(text)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed
  } catch {
    // reported below
  }
  throw invalid(loc, 'Expected a JSON object, e.g. {"plan": "pro"}')
}

/** A datetime-local field as unix ms, undefined when blank. @param {string} text */
export const dateTime = (text) => (text === '' ? undefined : new Date(text).getTime())

/**
 * Rows of ratelimits (name, limit, duration, auto-apply), added and removed by the user.
 * @param {string} legend
 * @returns {{ el: HTMLElement, value: () => { name: string, limit: number, duration: number, autoApply: boolean }[] }}
 */
export function ratelimitRows(legend) {
  const rows = h('div', { class: 'rows' })
  const renumber = () => {
    for (const [i, row] of [...rows.children].entries()) {
      for (const c of row.querySelectorAll('[data-part]')) c.setAttribute('data-loc', `ratelimits[${i}].${c.getAttribute('data-part')}`)
      row.querySelector('button')?.setAttribute('aria-label', `Remove ratelimit ${i + 1}`)
    }
  }
  const add = () => {
    const part = (/** @type {string} */ name, /** @type {Record<string, any>} */ props) => h('input', { 'data-part': name, ...props })
    const row = h(
      'div',
      { class: 'ratelimit-row' },
      field('Name', part('name', { type: 'text', placeholder: 'requests' })),
      field('Limit', part('limit', { type: 'number', min: 1, inputMode: 'numeric' })),
      field('Window (ms)', part('duration', { type: 'number', min: 1000, step: 1000, value: '60000', inputMode: 'numeric' })),
      field('Auto-apply', part('autoApply', { type: 'checkbox' })),
      h('button', { type: 'button', class: 'secondary', text: 'Remove', on: { click: () => (row.remove(), renumber()) } }),
    )
    rows.append(row)
    renumber()
    const first = /** @type {HTMLInputElement} */ (row.querySelector('input'))
    first.focus()
  }
  const el = h(
    'fieldset',
    { class: 'ratelimits' },
    h('legend', { text: legend }),
    rows,
    h('button', { type: 'button', class: 'secondary', text: 'Add ratelimit', on: { click: add } }),
  )
  const value = () =>
    [...rows.children].map((row, i) => {
      const get = (/** @type {string} */ part) => /** @type {HTMLInputElement} */ (row.querySelector(`[data-part=${part}]`))
      return {
        name: get('name').value.trim(),
        limit: integer(get('limit').value.trim(), `ratelimits[${i}].limit`) ?? 0,
        duration: integer(get('duration').value.trim(), `ratelimits[${i}].duration`) ?? 0,
        autoApply: get('autoApply').checked,
      }
    })
  return { el, value }
}
