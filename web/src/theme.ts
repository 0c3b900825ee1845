import { h, mount } from './dom.js';

/**
 * Light or dark: the system setting by default, or the user's choice kept in this browser. The
 * choice sets `data-theme` on <html>; the stylesheet follows `prefers-color-scheme` otherwise.
 */

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'cbe-theme';
const LABELS: Record<ThemeChoice, string> = {
  system: 'Auto',
  light: 'Light',
  dark: 'Dark',
};

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function apply(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.dataset.theme = choice;
}

/** Applies the stored choice and draws the switch in the header. */
export function installTheme(): void {
  const choice = stored();
  apply(choice);
  const box = document.getElementById('theme');
  if (!box) return;
  const sel = h(
    'select',
    {
      id: 'theme-choice',
      onchange: () => {
        const v = sel.value as ThemeChoice;
        apply(v);
        try {
          if (v === 'system') localStorage.removeItem(KEY);
          else localStorage.setItem(KEY, v);
        } catch {
          /* private mode: the choice lasts for this page */
        }
      },
    },
    (Object.keys(LABELS) as ThemeChoice[]).map((k) => h('option', { value: k }, LABELS[k])),
  );
  sel.value = choice;
  sel.title = 'Theme: Auto follows the system setting';
  mount(box, h('label', { for: 'theme-choice', class: 'sr-only' }, 'Theme'), sel);
}
