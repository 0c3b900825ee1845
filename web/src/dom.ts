/** A tiny view layer: `h()` builds real DOM nodes; screens rebuild their part when data changes. */

export type Child = Node | string | number | null | undefined | false | Child[];
export type Attrs = Record<string, unknown>;

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate', 'multiple']);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) {
      if (PROPS.has(key))
        (el as unknown as Record<string, unknown>)[key] = v === false ? false : '';
      continue;
    }
    if (key.startsWith('on') && typeof v === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), v as EventListener);
    } else if (PROPS.has(key)) {
      (el as unknown as Record<string, unknown>)[key] = v;
    } else if (key === 'class') {
      el.className = String(v);
    } else {
      el.setAttribute(key, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the content of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A live status line (role=status) whose text can be changed. */
export function statusLine(): HTMLParagraphElement {
  return h('p', { role: 'status', class: 'status', 'aria-live': 'polite' });
}

/** A button that asks "Sure?" inline before doing something destructive. */
export function confirmButton(
  label: string,
  question: string,
  onConfirm: () => void | Promise<void>,
  /** What the button acts on, for screen readers: `Remove “Photos”`. */
  accessibleName?: string,
): HTMLElement {
  const wrap = h('span', { class: 'confirm' });
  const ask = () => {
    const yes = h(
      'button',
      { type: 'button', class: 'danger', onclick: () => void onConfirm() },
      'Yes, ' + label.toLowerCase(),
    );
    const no = h('button', { type: 'button', onclick: () => mount(wrap, first) }, 'No');
    mount(wrap, h('span', { class: 'question' }, question), ' ', yes, ' ', no);
    yes.focus();
  };
  const first = h(
    'button',
    { type: 'button', class: 'danger-outline', onclick: ask, 'aria-label': accessibleName },
    label,
  );
  mount(wrap, first);
  return wrap;
}
