import './styles.css';
import { installTheme } from './theme.js';
import { ApiError } from './api.js';
import { h, mount } from './dom.js';
import { errorText } from './forms.js';
import { drawAccountArea } from './header.js';
import { accountsScreen } from './screens/accounts.js';
import { dashboardScreen } from './screens/dashboard.js';
import { runScreen, runsScreen } from './screens/runs.js';
import { settingsScreen } from './screens/settings.js';
import { setupScreen, signInScreen } from './screens/sign-in.js';
import { taskFormScreen } from './screens/task-form.js';
import { tasksScreen } from './screens/tasks.js';
import { versionsScreen } from './screens/versions.js';
import type { Screen, ScreenContext } from './screen.js';
import { currentSession, installSessionHooks, loadSession, onSessionChange } from './session.js';

/** Hash routes: `#/accounts`, `#/tasks`, `#/tasks/new`, `#/tasks/<id>/edit`, ... */
const ROUTES: { pattern: RegExp; nav: string; screen: Screen }[] = [
  { pattern: /^\/(dashboard)?$/, nav: 'dashboard', screen: dashboardScreen },
  { pattern: /^\/accounts$/, nav: 'accounts', screen: accountsScreen },
  { pattern: /^\/tasks$/, nav: 'tasks', screen: tasksScreen },
  { pattern: /^\/tasks\/new$/, nav: 'tasks', screen: taskFormScreen },
  { pattern: /^\/tasks\/([^/]+)\/edit$/, nav: 'tasks', screen: taskFormScreen },
  { pattern: /^\/tasks\/([^/]+)\/versions$/, nav: 'tasks', screen: versionsScreen },
  { pattern: /^\/runs$/, nav: 'runs', screen: runsScreen },
  { pattern: /^\/runs\/([^/]+)$/, nav: 'runs', screen: runScreen },
  { pattern: /^\/settings$/, nav: 'settings', screen: settingsScreen },
  { pattern: /^\/sign-in$/, nav: '', screen: signInScreen },
  { pattern: /^\/setup$/, nav: '', screen: setupScreen },
];

/** Routes that need no signed-in user. */
const PUBLIC = new Set(['/sign-in', '/setup']);

const main = document.getElementById('main')!;
let leave: (() => void)[] = [];
let generation = 0;

function parseHash(): { raw: string; path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/dashboard';
  const [path, search] = raw.split('?', 2);
  return { raw, path: path || '/dashboard', query: new URLSearchParams(search ?? '') };
}

/** `?next=<route>` to come back to the route the user is on, unless it is a sign-in screen. */
function nextQuery(): string {
  const { raw, path } = parseHash();
  return PUBLIC.has(path) || location.hash === '' ? '' : `?next=${encodeURIComponent(raw)}`;
}

/** Another route, without leaving the current one in the history (Back must not loop). */
function redirect(hash: string): void {
  location.replace(hash);
}

/** Which route the session allows instead of this one, if any. */
function gate(path: string, query: URLSearchParams): string | undefined {
  const s = currentSession()!;
  if (s.setupRequired) return path === '/setup' ? undefined : `#/setup${nextQuery()}`;
  if (!s.user) return path === '/sign-in' ? undefined : `#/sign-in${nextQuery()}`;
  if (PUBLIC.has(path)) {
    const next = query.get('next');
    return next?.startsWith('/') && !next.startsWith('//') ? `#${next}` : '#/dashboard';
  }
  return undefined;
}

async function render(): Promise<void> {
  for (const fn of leave.splice(0)) fn();
  const gen = ++generation;
  if (!currentSession()) {
    mount(main, h('p', { class: 'loading' }, 'Loading…'));
    try {
      await loadSession();
    } catch (e) {
      if (gen !== generation) return;
      mount(
        main,
        h('h1', null, 'Cannot reach the server'),
        h('p', { class: 'error', role: 'alert' }, errorText(e)),
        h('p', null, h('button', { type: 'button', onclick: () => void render() }, 'Try again')),
      );
      return;
    }
    if (gen !== generation) return;
  }
  const { path, query } = parseHash();
  const elsewhere = gate(path, query);
  if (elsewhere) {
    redirect(elsewhere);
    return;
  }
  const route = ROUTES.find((r) => r.pattern.test(path));
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === route?.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) {
    mount(
      main,
      h('h1', null, 'Not found'),
      h('p', null, h('a', { href: '#/dashboard' }, 'Go to the overview')),
    );
    return;
  }
  const params = route.pattern.exec(path)!.slice(1).map(decodeURIComponent);
  const ctx: ScreenContext = {
    params,
    query,
    onLeave: (fn) => leave.push(fn),
    isCurrent: () => gen === generation,
  };
  mount(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    await route.screen(main, ctx);
  } catch (e) {
    // A 401 already sent the user to the sign-in screen.
    if (gen !== generation || (e instanceof ApiError && e.status === 401)) return;
    if (e instanceof ApiError && e.status === 404) {
      // Another user's task or run answers 404 too: it is not there for this user.
      mount(
        main,
        h('h1', null, 'Not found'),
        h('p', { class: 'error', role: 'alert' }, errorText(e)),
        h('p', null, h('a', { href: '#/dashboard' }, 'Go to the overview')),
      );
      return;
    }
    mount(
      main,
      h('h1', null, 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, errorText(e)),
      h('p', null, h('button', { type: 'button', onclick: () => void render() }, 'Try again')),
    );
  }
}

installSessionHooks(
  () => {
    if (!PUBLIC.has(parseHash().path)) redirect(`#/sign-in${nextQuery()}`);
  },
  () => void render(),
);
onSessionChange(drawAccountArea);
installTheme();
// "Skip to content" moves the focus; following its `#main` would leave the app's hash routes.
document.querySelector('a.skip')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void render());
void render();
