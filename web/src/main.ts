import './styles.css';
import { h, mount } from './dom.js';
import { errorText } from './forms.js';
import { accountsScreen } from './screens/accounts.js';
import { runScreen, runsScreen } from './screens/runs.js';
import { settingsScreen } from './screens/settings.js';
import { taskFormScreen } from './screens/task-form.js';
import { tasksScreen } from './screens/tasks.js';
import { versionsScreen } from './screens/versions.js';
import type { Screen, ScreenContext } from './screen.js';

/** Hash routes: `#/accounts`, `#/tasks`, `#/tasks/new`, `#/tasks/<id>/edit`, ... */
const ROUTES: { pattern: RegExp; nav: string; screen: Screen }[] = [
  { pattern: /^\/accounts$/, nav: 'accounts', screen: accountsScreen },
  { pattern: /^\/tasks$/, nav: 'tasks', screen: tasksScreen },
  { pattern: /^\/tasks\/new$/, nav: 'tasks', screen: taskFormScreen },
  { pattern: /^\/tasks\/([^/]+)\/edit$/, nav: 'tasks', screen: taskFormScreen },
  { pattern: /^\/tasks\/([^/]+)\/versions$/, nav: 'tasks', screen: versionsScreen },
  { pattern: /^\/runs$/, nav: 'runs', screen: runsScreen },
  { pattern: /^\/runs\/([^/]+)$/, nav: 'runs', screen: runScreen },
  { pattern: /^\/settings$/, nav: 'settings', screen: settingsScreen },
];

const main = document.getElementById('main')!;
let leave: (() => void)[] = [];
let generation = 0;

function parseHash(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/accounts';
  const [path, search] = raw.split('?', 2);
  return { path: path || '/accounts', query: new URLSearchParams(search ?? '') };
}

async function render(): Promise<void> {
  for (const fn of leave.splice(0)) fn();
  const gen = ++generation;
  const { path, query } = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === route?.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) {
    mount(
      main,
      h('h1', null, 'Not found'),
      h('p', null, h('a', { href: '#/accounts' }, 'Go to your clouds')),
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
    if (gen !== generation) return;
    mount(
      main,
      h('h1', null, 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, errorText(e)),
      h('p', null, h('button', { type: 'button', onclick: () => void render() }, 'Try again')),
    );
  }
}

window.addEventListener('hashchange', () => void render());
void render();
