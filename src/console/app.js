// The console's entry point: sign-in with a root key, the navigation, and the
// hash router that hands each page its element and parameters. A page is an
// async function that fills `main`; a newer navigation makes an older page's
// late results land in a detached element, where they do no harm.
import { ApiError, call, session, whenUnauthorized } from './api.js'
import { errorBox, h, replace } from './dom.js'
import { field, form, input } from './forms.js'
import { apisPage } from './pages/apis.js'
import { auditPage } from './pages/audit.js'
import { identitiesPage } from './pages/identities.js'
import { keyPage } from './pages/key.js'
import { keysPage } from './pages/keys.js'
import { overviewPage } from './pages/overview.js'
import { permissionsPage } from './pages/permissions.js'
import { namespacePage, ratelimitsPage } from './pages/ratelimits.js'
import { rootKeysPage } from './pages/root-keys.js'

/** @typedef {(main: HTMLElement, params: string[]) => Promise<void>} Page */

/** Route patterns, most specific first; `([^/]+)` parts become params. @type {[RegExp, Page, string][]} */
const ROUTES = [
  [/^\/apis\/([^/]+)\/keys\/([^/]+)$/, keyPage, 'apis'],
  [/^\/apis\/([^/]+)$/, keysPage, 'apis'],
  [/^\/apis$/, apisPage, 'apis'],
  [/^\/identities$/, identitiesPage, 'identities'],
  [/^\/permissions$/, permissionsPage, 'permissions'],
  [/^\/ratelimits\/([^/]+)$/, namespacePage, 'ratelimits'],
  [/^\/ratelimits$/, ratelimitsPage, 'ratelimits'],
  [/^\/root-keys$/, rootKeysPage, 'root-keys'],
  [/^\/audit$/, auditPage, 'audit'],
  [/^\/?$/, overviewPage, 'overview'],
]

const NAV = [
  ['overview', '/', 'Overview'],
  ['apis', '/apis', 'APIs'],
  ['identities', '/identities', 'Identities'],
  ['permissions', '/permissions', 'Permissions'],
  ['ratelimits', '/ratelimits', 'Ratelimits'],
  ['root-keys', '/root-keys', 'Root keys'],
  ['audit', '/audit', 'Audit log'],
]

const root = /** @type {HTMLElement} */ (document.getElementById('app'))
/** Set when the server refused the key, shown on the sign-in form. */
let signedOutBecause = ''

function signInPage() {
  document.title = 'Sign in · latch console'
  const key = input('rootKey', { type: 'password', autocomplete: 'off', spellcheck: false })
  const note = signedOutBecause ? errorBox(new ApiError(401, signedOutBecause, [])) : null
  signedOutBecause = ''
  replace(
    root,
    h(
      'main',
      { class: 'sign-in', id: 'main' },
      h('h1', { text: 'latch console' }),
      h('p', { text: 'Sign in with a root key. It is kept only in this browser tab until you sign out or close the tab.' }),
      note,
      form({
        label: 'Sign in',
        submit: 'Sign in',
        fields: [field('Root key', key, { loc: 'key', required: true, hint: 'A root key from latch seed, latch root-keys create, or the Root keys page.' })],
        onSubmit: async () => {
          const value = key.value.trim()
          if (!value) throw new ApiError(400, 'Enter a root key', [{ location: 'body.key', message: 'Enter a root key' }])
          try {
            await call('rootKeys.whoami', {}, value)
          } catch (error) {
            if (error instanceof ApiError && error.status === 401) {
              throw new ApiError(401, error.detail, [{ location: 'body.key', message: error.detail }])
            }
            throw error
          }
          session.signIn(value)
          key.value = ''
          render()
        },
      }),
    ),
  )
  key.focus()
}

/** The signed-in frame: who is signed in, navigation, and the page. */
function shell() {
  const main = h('main', { id: 'main', tabIndex: -1 })
  const who = h('span', { class: 'who muted' })
  const signOut = h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Sign out',
    on: {
      click: () => {
        session.signOut()
        location.hash = '#/'
        render()
      },
    },
  })
  const nav = h(
    'nav',
    { 'aria-label': 'Sections' },
    h(
      'ul',
      {},
      NAV.map(([id, route, label]) => h('li', {}, h('a', { href: `#${route}`, 'data-section': id, text: label }))),
    ),
  )
  replace(
    root,
    h('a', { class: 'skip', href: '#main', text: 'Skip to content', on: { click: (/** @type {Event} */ e) => (e.preventDefault(), main.focus()) } }),
    h('header', { class: 'top' }, h('a', { class: 'brand', href: '#/', text: 'latch' }), who, signOut),
    nav,
    main,
  )
  call('rootKeys.whoami')
    .then(({ data }) => {
      who.textContent = `${data.name} · ${data.workspace?.name ?? data.workspace?.id ?? ''}`
    })
    .catch(() => {})
  return { main, nav }
}

/** @type {{ main: HTMLElement, nav: HTMLElement } | null} */
let frame = null

async function route() {
  if (!session.key) return
  frame ??= shell()
  const path = decodeURI(location.hash.replace(/^#/, '') || '/')
  const match = ROUTES.map(([pattern, page, section]) => ({ m: pattern.exec(path), page, section })).find((r) => r.m)
  for (const a of frame.nav.querySelectorAll('a')) {
    if (a.dataset.section === match?.section) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  // A fresh element per navigation: a slow page that finishes late fills an element no longer shown.
  const main = h('div', { class: 'page' })
  replace(frame.main, main)
  if (!match?.m) {
    replace(main, h('h1', { text: 'Not found' }), h('p', {}, 'No page at this address. ', h('a', { href: '#/', text: 'Go to the overview' })))
    return
  }
  try {
    await match.page(main, match.m.slice(1).map(decodeURIComponent))
  } catch (error) {
    main.append(errorBox(error))
  }
  const heading = /** @type {HTMLElement | null} */ (main.querySelector('h1'))
  document.title = `${heading?.textContent ?? 'latch'} · latch console`
  if (document.activeElement === document.body || !main.contains(document.activeElement)) heading?.focus({ preventScroll: true })
}

function render() {
  frame = null
  if (session.key) route()
  else signInPage()
}

whenUnauthorized((error) => {
  session.signOut()
  signedOutBecause = `Signed out: ${error.detail}`
  render()
})
window.addEventListener('hashchange', () => route())
render()
