import { ApiError, type OptionSpec } from './api.js';
import { h, mount, uid, type Child } from './dom.js';

/**
 * Form fields that know their API field path (`data-field`), so the `problems` of a 400 answer,
 * each starting with the field path it names, land next to the field they are about.
 */

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export function field(
  label: string,
  control: Control,
  opts: { name: string; help?: Child; required?: boolean },
): HTMLDivElement {
  const id = control.id || uid('f');
  control.id = id;
  control.name ||= opts.name;
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const described = [opts.help ? helpId : '', errId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  if (opts.required) control.required = true;
  const isCheck = control instanceof HTMLInputElement && control.type === 'checkbox';
  const lab = h(
    'label',
    { for: id },
    label,
    opts.required ? h('span', { class: 'req' }, ' *') : null,
  );
  const wrap = h(
    'div',
    { class: `field${isCheck ? ' check' : ''}`, 'data-field': opts.name },
    isCheck ? [control, lab] : [lab, control],
    opts.help ? h('p', { class: 'help', id: helpId }, opts.help) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }),
  );
  clearOnFix(wrap);
  return wrap;
}

/** A field's problem goes away as soon as the user changes the field. */
export function clearOnFix(wrap: HTMLElement): void {
  const clear = () => {
    const err = wrap.querySelector<HTMLElement>(':scope > .field-error');
    if (!err || err.hidden) return;
    err.hidden = true;
    err.textContent = '';
    for (const el of wrap.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  };
  wrap.addEventListener('input', clear);
  wrap.addEventListener('change', clear);
}

/** The words a user knows a field by: its label (without the required mark) or legend. */
function labelOf(f: HTMLElement): string | undefined {
  const el = f.querySelector(':scope > label, :scope > legend');
  const text = el?.firstChild?.textContent?.trim();
  return text || undefined;
}

const RAW_ID = /\s*'?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'?/gi;

/**
 * A problem as the user reads it: the field's label instead of its API path, no raw ids.
 * `options.root is required (Folder)` -> `Folder is required`.
 */
export function humanize(
  problem: string,
  name: string | undefined,
  label: string | undefined,
): string {
  let rest = name ? problem.slice(name.length) : problem;
  rest = rest.replace(RAW_ID, '').replace(/^[\s:]+/, '');
  if (label)
    rest = rest.replace(
      new RegExp(`\\s*\\(${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`),
      '',
    );
  // A long label (a confirmation's sentence) would bury the message: the message alone.
  if (!name || !label || label.length > 40) return rest.charAt(0).toUpperCase() + rest.slice(1);
  if (/^does not name an account$/.test(rest)) return `${label}: choose one of your accounts`;
  if (rest.startsWith('[')) rest = rest.replace(/^\[\d+\][\s:]*/, '');
  return /^(is|must|should|cannot|can|may|does|has|needs|not|only)\b/.test(rest)
    ? `${label} ${rest}`
    : `${label}: ${rest}`;
}

/** A group of controls (radios, checkboxes) under one legend and one field path. */
export function fieldset(
  legend: string,
  name: string,
  children: Child[],
  help?: Child,
): HTMLFieldSetElement {
  const errId = uid('err');
  const set = h(
    'fieldset',
    { class: 'field group', 'data-field': name, 'aria-describedby': errId },
    h('legend', null, legend),
    children,
    help ? h('p', { class: 'help' }, help) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }),
  );
  clearOnFix(set);
  return set;
}

export function input(attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', ...attrs });
}

export function select(
  choices: readonly (string | [value: string, label: string])[],
  attrs: Record<string, unknown> = {},
): HTMLSelectElement {
  const s = h('select', attrs);
  for (const c of choices) {
    const [value, label] = typeof c === 'string' ? [c, c] : c;
    s.append(h('option', { value }, label));
  }
  if (attrs.value !== undefined) s.value = String(attrs.value);
  return s;
}

/** A summary box at the top of a form for problems that name no field of it. */
export function formErrors(): HTMLDivElement {
  return h('div', { class: 'form-errors', role: 'alert', hidden: true });
}

export function clearProblems(form: HTMLElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll<HTMLElement>('.form-errors')) {
    el.hidden = true;
    el.replaceChildren();
  }
}

/** The field a problem names: the longest `data-field` the text starts with. */
function fieldOf(problem: string, names: string[]): string | undefined {
  let best: string | undefined;
  for (const n of names) {
    const next = problem.charAt(n.length);
    if (problem.startsWith(n) && (next === '' || ' :.['.includes(next))) {
      if (!best || n.length > best.length) best = n;
    }
  }
  return best;
}

/** Shows problems next to the fields they name; the rest in the form's summary box. */
export function showProblems(form: HTMLElement, problems: string[]): void {
  clearProblems(form);
  const fields = [...form.querySelectorAll<HTMLElement>('[data-field]')];
  const names = fields.map((f) => f.dataset.field!);
  const rest: string[] = [];
  let first: HTMLElement | undefined;
  for (const p of problems) {
    const name = fieldOf(p, names);
    const f = name ? fields.find((x) => x.dataset.field === name) : undefined;
    const err = f?.querySelector<HTMLElement>(':scope > .field-error');
    if (!f || !err) {
      rest.push(humanize(p, undefined, undefined));
      continue;
    }
    const text = humanize(p, name, labelOf(f));
    err.hidden = false;
    err.textContent = err.textContent ? `${err.textContent}; ${text}` : text;
    const control = f.querySelector<HTMLElement>('input, select, textarea');
    control?.setAttribute('aria-invalid', 'true');
    first ??= control ?? undefined;
  }
  const box = form.querySelector<HTMLElement>('.form-errors');
  if (rest.length > 0 && box) {
    box.hidden = false;
    mount(
      box,
      rest.length === 1
        ? rest[0]
        : h(
            'ul',
            null,
            rest.map((r) => h('li', null, r)),
          ),
    );
    first ??= box;
  }
  if (first) {
    if (first === box) box.setAttribute('tabindex', '-1');
    first.focus();
  }
}

/**
 * Runs a form action: client-side checks first (`problems` in the API's format), then the call;
 * a 4xx answer's problems are shown next to their fields. Returns whether the action succeeded.
 */
export async function submit(
  form: HTMLElement,
  button: HTMLButtonElement | null,
  check: () => string[],
  action: () => Promise<void>,
): Promise<boolean> {
  clearProblems(form);
  const problems = check();
  if (problems.length > 0) {
    showProblems(form, problems);
    return false;
  }
  if (button) button.disabled = true;
  try {
    await action();
    return true;
  } catch (e) {
    showProblems(form, e instanceof ApiError ? e.problems : [(e as Error).message]);
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.problems.join('; ') : (e as Error).message;
}

// ---- connector options (rendered from GET /api/connectors) ------------------------------------

export interface OptionsForm {
  basic: HTMLElement[];
  advanced: HTMLElement[];
  /** The values the user set (empty fields left out). */
  read(): Record<string, unknown>;
  check(): string[];
}

export function optionsForm(
  specs: readonly OptionSpec[],
  opts: { optional?: readonly string[]; notes?: Record<string, string> } = {},
): OptionsForm {
  const controls = new Map<OptionSpec, Control>();
  const basic: HTMLElement[] = [];
  const advanced: HTMLElement[] = [];
  for (const spec of specs) {
    let control: Control;
    if (spec.choices) {
      control = select(spec.required ? spec.choices : ['', ...spec.choices], {
        value: spec.default ?? '',
      });
    } else if (spec.type === 'boolean') {
      control = input({ type: 'checkbox', checked: spec.default === true });
    } else {
      control = input({
        type: spec.secret ? 'password' : spec.type === 'number' ? 'number' : 'text',
        placeholder: spec.default !== undefined ? String(spec.default) : undefined,
        autocomplete: spec.secret ? 'new-password' : 'off',
      });
    }
    controls.set(spec, control);
    const required = spec.required === true && !opts.optional?.includes(spec.key);
    const help = opts.notes?.[spec.key] ? `${spec.help} ${opts.notes[spec.key]}` : spec.help;
    const f = field(spec.label, control, { name: `options.${spec.key}`, help, required });
    (spec.advanced ? advanced : basic).push(f);
  }
  return {
    basic,
    advanced,
    read() {
      const out: Record<string, unknown> = {};
      for (const [spec, c] of controls) {
        if (c instanceof HTMLInputElement && c.type === 'checkbox') {
          if (c.checked !== (spec.default === true)) out[spec.key] = c.checked;
        } else if (c.value.trim() !== '') {
          out[spec.key] = spec.type === 'number' ? Number(c.value) : c.value.trim();
        }
      }
      return out;
    },
    check() {
      const problems: string[] = [];
      for (const [spec, c] of controls) {
        const v = c.value.trim();
        const required = spec.required === true && !opts.optional?.includes(spec.key);
        if (required && spec.type !== 'boolean' && v === '')
          problems.push(`options.${spec.key} is required (${spec.label})`);
        if (spec.type === 'number' && v !== '' && !Number.isFinite(Number(v)))
          problems.push(`options.${spec.key} must be a number`);
      }
      return problems;
    },
  };
}

/** Advanced options behind a disclosure, or nothing when there are none. */
export function advancedBlock(fields: HTMLElement[]): HTMLElement | null {
  return fields.length === 0
    ? null
    : h('details', { class: 'advanced' }, h('summary', null, 'Advanced options'), fields);
}
