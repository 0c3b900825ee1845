import { api, ApiError } from './api.js';
import { h, mount } from './dom.js';
import { errorText } from './forms.js';
import { go } from './screen.js';
import { currentUser, signedOut } from './session.js';

/** The header's right side: who is signed in and "Sign out"; the navigation only when signed in. */
export function drawAccountArea(): void {
  const area = document.getElementById('account');
  const nav = document.querySelector<HTMLElement>('header.top nav');
  if (!area || !nav) return;
  const user = currentUser();
  nav.hidden = !user;
  area.hidden = !user;
  if (!user) {
    area.replaceChildren();
    return;
  }
  const error = h('span', { class: 'error', role: 'alert', hidden: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'sign-out',
      onclick: async () => {
        button.disabled = true;
        try {
          await api.auth.logout();
        } catch (e) {
          // Already signed out (401) is what we wanted; anything else leaves the session alive.
          if (!(e instanceof ApiError && e.status === 401)) {
            button.disabled = false;
            error.hidden = false;
            error.textContent = `Not signed out: ${errorText(e)}`;
            return;
          }
        }
        signedOut();
        go('#/sign-in');
      },
    },
    'Sign out',
  );
  mount(
    area,
    h(
      'span',
      { class: 'who' },
      'Signed in as ',
      h('strong', { 'data-username': user.username }, user.username),
      user.role === 'admin' ? h('span', { class: 'badge role' }, 'admin') : null,
    ),
    button,
    error,
  );
}
