import {
  ApiError,
  api,
  type DeletionGuard,
  type Retention,
  type Schedule,
  type Task,
  type TaskInput,
} from '../api.js';
import { h, mount } from '../dom.js';
import { field, fieldset, formErrors, input, select, showProblems, submit } from '../forms.js';
import { folderPicker } from '../picker.js';
import { go, type ScreenContext } from '../screen.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const RETENTION_KEYS: [keyof Retention, string][] = [
  ['keepLast', 'Keep the last … versions'],
  ['keepDaily', 'One a day for … days'],
  ['keepWeekly', 'One a week for … weeks'],
  ['keepMonthly', 'One a month for … months'],
];

/** Create (`#/tasks/new`) or edit (`#/tasks/<id>/edit`) a backup task. */
export async function taskFormScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const taskId = ctx.params[0];
  const [accounts, connectors, task] = await Promise.all([
    api.accounts.list(),
    api.connectors(),
    taskId ? api.tasks.get(taskId) : Promise.resolve(undefined),
  ]);
  if (!ctx.isCurrent()) return;
  const writable = new Set(connectors.filter((c) => c.capabilities.writable).map((c) => c.kind));
  const accountChoices = (only?: (kind: string) => boolean): [string, string][] => [
    ['', 'Choose an account…'],
    ...accounts.filter((a) => !only || only(a.kind)).map((a): [string, string] => [a.id, a.name]),
  ];

  const errors = formErrors();
  const name = input({ value: task?.name ?? '', maxlength: 200 });
  const source = select(accountChoices(), { value: task?.sourceAccountId ?? '' });
  const sourcePath = folderPicker({
    label: 'Source folder',
    name: 'sourcePath',
    accountId: () => source.value,
    value: task?.sourcePath ?? '',
    help: 'Only this folder and what is under it is backed up.',
  });
  const target = select(
    accountChoices((k) => writable.has(k)),
    { value: task?.targetAccountId ?? '' },
  );
  const targetPath = folderPicker({
    label: 'Target folder',
    name: 'targetPath',
    accountId: () => target.value,
    value: task?.targetPath ?? '',
    help: 'Versions are stored here; type a new name to create it.',
  });

  // Extension filter
  const mode = task?.filter.mode ?? 'all';
  const modeRadios = (['all', 'include', 'exclude'] as const).map((m) =>
    input({ type: 'radio', name: 'filter.mode', value: m, checked: m === mode, id: `filter-${m}` }),
  );
  const modeLabels = {
    all: 'All files',
    include: 'Only these extensions',
    exclude: 'All except these extensions',
  };
  const extensions = input({
    value: task?.filter.extensions.join(', ') ?? '',
    placeholder: 'jpg, heic, mov',
    disabled: mode === 'all',
  });
  const modeValue = () => modeRadios.find((r) => r.checked)?.value ?? 'all';
  for (const r of modeRadios)
    r.addEventListener('change', () => (extensions.disabled = modeValue() === 'all'));

  const concurrency = input({
    type: 'number',
    min: 1,
    max: 32,
    value: task ? String(task.concurrency) : '',
    placeholder: 'server default',
  });

  // Schedule (the task API has it)
  const sched: Schedule = task?.schedule ?? { kind: 'none' };
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const kind = select(
    [
      ['none', 'Manual only'],
      ['daily', 'Every day'],
      ['weekly', 'Every week'],
      ['monthly', 'Every month'],
      ['cron', 'Custom (cron)'],
    ],
    { value: sched.kind },
  );
  const time = input({ type: 'time', value: sched.time ?? '02:30' });
  const days = WEEKDAYS.map((d) =>
    input({
      type: 'checkbox',
      value: d,
      checked: sched.weekdays?.includes(d) ?? d === 'mon',
      id: `day-${d}`,
    }),
  );
  const dayOfMonth = input({
    type: 'number',
    min: 1,
    max: 31,
    value: String(sched.dayOfMonth ?? 1),
  });
  const cron = input({ value: sched.cron ?? '', placeholder: '30 2 * * 1-5' });
  const timezone = zonePicker(sched.timezone ?? zone);
  const catchUp = input({ type: 'checkbox', checked: task?.catchUp ?? true });
  const preview = h('p', { class: 'help', 'aria-live': 'polite' });
  const timeField = field('Time', time, { name: 'schedule.time' });
  const daysField = fieldset(
    'Days',
    'schedule.weekdays',
    days.map((d) => h('span', { class: 'inline-check' }, d, h('label', { for: d.id }, d.value))),
  );
  const domField = field('Day of the month', dayOfMonth, {
    name: 'schedule.dayOfMonth',
    help: 'A day a month does not have runs on its last day.',
  });
  const cronField = field('Cron line', cron, {
    name: 'schedule.cron',
    help: 'minute hour day month weekday',
  });
  const zoneField = field('Time zone', timezone, { name: 'schedule.timezone' });
  const catchUpField = field('Catch up after downtime', catchUp, {
    name: 'catchUp',
    help: 'Run a missed slot once when the server starts again.',
  });
  const readSchedule = (): Schedule => {
    const k = kind.value as Schedule['kind'];
    if (k === 'none') return { kind: 'none' };
    const s: Schedule = { kind: k, timezone: timezone.value.trim() };
    if (k !== 'cron') s.time = time.value;
    if (k === 'weekly') s.weekdays = days.filter((d) => d.checked).map((d) => d.value);
    if (k === 'monthly') s.dayOfMonth = Number(dayOfMonth.value);
    if (k === 'cron') s.cron = cron.value.trim();
    return s;
  };
  const scheduleProblems = (): string[] => {
    const s = readSchedule();
    const p: string[] = [];
    if (s.kind === 'none') return p;
    if (s.kind !== 'cron' && !/^\d{2}:\d{2}$/.test(s.time ?? ''))
      p.push('schedule.time: choose a time');
    if (s.kind === 'weekly' && s.weekdays!.length === 0)
      p.push('schedule.weekdays: choose at least one day');
    if (s.kind === 'monthly' && !(s.dayOfMonth! >= 1 && s.dayOfMonth! <= 31))
      p.push('schedule.dayOfMonth must be between 1 and 31');
    if (s.kind === 'cron' && s.cron!.split(/\s+/).length !== 5)
      p.push('schedule.cron: five fields are needed');
    if (!s.timezone) p.push('schedule.timezone must not be empty');
    return p;
  };
  let previewSeq = 0;
  const updateSchedule = () => {
    const k = kind.value;
    timeField.hidden = k === 'none' || k === 'cron';
    daysField.hidden = k !== 'weekly';
    domField.hidden = k !== 'monthly';
    cronField.hidden = k !== 'cron';
    zoneField.hidden = k === 'none';
    catchUpField.hidden = k === 'none';
    const seq = ++previewSeq;
    if (k === 'none' || scheduleProblems().length > 0) {
      preview.textContent = k === 'none' ? 'Runs only when you press “Run now”.' : '';
      return;
    }
    api.schedules.preview(readSchedule()).then(
      (r) => {
        if (seq !== previewSeq) return;
        preview.textContent = `Next runs: ${r.nextRuns.map((d) => new Date(d).toLocaleString()).join(' · ')}`;
      },
      (e: unknown) => {
        if (seq === previewSeq) preview.textContent = (e as Error).message;
      },
    );
  };
  for (const el of [kind, time, dayOfMonth, cron, timezone, ...days])
    el.addEventListener('change', updateSchedule);
  updateSchedule();

  // Notifications
  const emails = input({
    type: 'text',
    value: task?.notifications?.emails.join(', ') ?? '',
    placeholder: 'me@example.com',
    autocomplete: 'email',
  });
  const notifyOn = select(
    [
      ['failure', 'When a run fails'],
      ['completion', 'When a run completes'],
      ['always', 'After every run'],
    ],
    { value: task?.notifications?.on ?? 'failure' },
  );
  const webhook = input({
    type: 'url',
    value: task?.notifications?.webhookUrl ?? '',
    placeholder: 'https://…',
  });

  // Safety: the deletion guard and verify runs (task fields; the guard is on unless turned off)
  const guard: DeletionGuard = task?.deletionGuard ?? {
    enabled: true,
    percent: 50,
    minFiles: 20,
    countChanged: true,
    holdWhenEmptied: true,
  };
  const guardOn = input({ type: 'checkbox', checked: guard.enabled });
  const guardPercent = input({ type: 'number', min: 0, max: 100, value: String(guard.percent) });
  const guardMin = input({ type: 'number', min: 0, value: String(guard.minFiles) });
  const guardChanged = input({ type: 'checkbox', checked: guard.countChanged });
  const guardEmptied = input({ type: 'checkbox', checked: guard.holdWhenEmptied });
  const guardDetails = [guardPercent, guardMin, guardChanged, guardEmptied];
  const updateGuard = () => guardDetails.forEach((el) => (el.disabled = !guardOn.checked));
  guardOn.addEventListener('change', updateGuard);
  updateGuard();
  const vs: Schedule = task?.verify?.schedule ?? { kind: 'none' };
  const readPercent = input({
    type: 'number',
    min: 0,
    max: 100,
    value: String(task?.verify?.readPercent ?? 0),
  });
  const readBack = input({ type: 'checkbox', checked: task?.verify?.readBackAfterWrite ?? false });
  const verifyKind = select(
    [
      ['none', 'Only when I ask'],
      ['weekly', 'Every week'],
      ['monthly', 'Every month'],
    ],
    { value: vs.kind === 'weekly' || vs.kind === 'monthly' ? vs.kind : 'none' },
  );
  const verifyDay = select(
    WEEKDAYS.map((d, i): [string, string] => [
      d,
      ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][i]!,
    ]),
    { value: vs.weekdays?.[0] ?? 'sun' },
  );
  const verifyDom = input({ type: 'number', min: 1, max: 31, value: String(vs.dayOfMonth ?? 1) });
  const verifyTime = input({ type: 'time', value: vs.time ?? '04:00' });
  const verifyZone = zonePicker(vs.timezone ?? zone);
  // Labels differ from the backup schedule's: one label names one control on the page.
  const verifyDayField = field('Verify on', verifyDay, { name: 'verify.schedule.weekdays' });
  const verifyDomField = field('Verify on day of the month', verifyDom, {
    name: 'verify.schedule.dayOfMonth',
  });
  const verifyTimeField = field('Verify at', verifyTime, { name: 'verify.schedule.time' });
  const verifyZoneField = field('Verify time zone', verifyZone, {
    name: 'verify.schedule.timezone',
  });
  const updateVerify = () => {
    const k = verifyKind.value;
    verifyDayField.hidden = k !== 'weekly';
    verifyDomField.hidden = k !== 'monthly';
    verifyTimeField.hidden = k === 'none';
    verifyZoneField.hidden = k === 'none';
  };
  verifyKind.addEventListener('change', updateVerify);
  updateVerify();
  const readVerifySchedule = (): Schedule => {
    const k = verifyKind.value as Schedule['kind'];
    if (k === 'none') return { kind: 'none' };
    return {
      kind: k,
      time: verifyTime.value,
      timezone: verifyZone.value,
      ...(k === 'weekly'
        ? { weekdays: [verifyDay.value] }
        : { dayOfMonth: Number(verifyDom.value) }),
    };
  };
  const whole = (v: string, min: number, max: number) =>
    v.trim() !== '' && Number.isInteger(Number(v)) && Number(v) >= min && Number(v) <= max;

  // Retention (its own endpoint)
  const retention = new Map(
    RETENTION_KEYS.map(([k]) => [
      k,
      input({
        type: 'number',
        min: 0,
        max: 10000,
        value: task?.retention?.[k] ?? '',
        placeholder: '–',
      }),
    ]),
  );

  const button = h('button', { type: 'submit', class: 'primary' }, task ? 'Save' : 'Create task');

  const check = (): string[] => {
    const p: string[] = [];
    if (name.value.trim() === '') p.push('name must not be empty');
    if (!source.value) p.push('sourceAccountId: choose the account to back up');
    if (!target.value) p.push('targetAccountId: choose the account to store the backup in');
    if (modeValue() !== 'all' && extensions.value.trim() === '')
      p.push('filter.extensions: list at least one extension, or choose “All files”');
    const c = concurrency.value.trim();
    if (c !== '' && !(Number.isInteger(Number(c)) && Number(c) >= 1 && Number(c) <= 32))
      p.push('concurrency must be a whole number from 1 to 32');
    p.push(...scheduleProblems());
    if (guardOn.checked) {
      const pc = Number(guardPercent.value);
      if (guardPercent.value.trim() === '' || !(pc >= 0 && pc <= 100))
        p.push('deletionGuard.percent must be a number from 0 to 100');
      if (!whole(guardMin.value, 0, 1e9))
        p.push('deletionGuard.minFiles must be a whole number of 0 or more');
    }
    if (!whole(readPercent.value, 0, 100))
      p.push('verify.readPercent must be a whole number from 0 to 100');
    if (verifyKind.value !== 'none' && !/^\d{2}:\d{2}$/.test(verifyTime.value))
      p.push('verify.schedule.time: choose a time');
    if (verifyKind.value === 'monthly' && !whole(verifyDom.value, 1, 31))
      p.push('verify.schedule.dayOfMonth must be between 1 and 31');
    for (const [k, el] of retention) {
      const v = el.value.trim();
      if (v !== '' && !(Number.isInteger(Number(v)) && Number(v) >= 0 && Number(v) <= 10000))
        p.push(`retention.${k} must be a whole number from 0 to 10000`);
    }
    return p;
  };

  const body = (): TaskInput => ({
    name: name.value.trim(),
    sourceAccountId: source.value,
    sourcePath: sourcePath.input.value.trim(),
    targetAccountId: target.value,
    targetPath: targetPath.input.value.trim(),
    filter: { mode: modeValue(), extensions: modeValue() === 'all' ? '' : extensions.value },
    ...(concurrency.value.trim() !== '' ? { concurrency: Number(concurrency.value) } : {}),
    schedule: readSchedule(),
    catchUp: catchUp.checked,
    notifications: {
      emails: emails.value
        .split(/[,;\s]+/)
        .map((e) => e.trim())
        .filter(Boolean),
      on: notifyOn.value,
      webhookUrl: webhook.value.trim() === '' ? null : webhook.value.trim(),
    },
    // Turned off, the thresholds are kept as they were (they come back when turned on again).
    deletionGuard: guardOn.checked
      ? {
          enabled: true,
          percent: Number(guardPercent.value),
          minFiles: Number(guardMin.value),
          countChanged: guardChanged.checked,
          holdWhenEmptied: guardEmptied.checked,
        }
      : { enabled: false },
    verify: {
      readPercent: Number(readPercent.value),
      readBackAfterWrite: readBack.checked,
      schedule: readVerifySchedule(),
    },
  });

  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      class: 'task-form',
      'aria-label': task ? `Edit ${task.name}` : 'New backup task',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        let saved: Task | undefined = task;
        const ok = await submit(form, button, check, async () => {
          saved = task ? await api.tasks.update(task.id, body()) : await api.tasks.create(body());
        });
        if (!ok || !saved) return;
        const policy: Retention = {};
        for (const [k, el] of retention) if (el.value.trim() !== '') policy[k] = Number(el.value);
        const hadPolicy = !!task?.retention && Object.keys(task.retention).length > 0;
        if (Object.keys(policy).length > 0 || hadPolicy) {
          try {
            await api.tasks.retention(saved.id, policy);
          } catch (e) {
            // The API names the bare key (`keepLast ...`): show it next to its field.
            const problems = e instanceof ApiError ? e.problems : [(e as Error).message];
            if (!task) go(`#/tasks/${saved.id}/edit`);
            else
              showProblems(
                form,
                problems.map((x) => `retention.${x}`),
              );
            return;
          }
        }
        go('#/tasks');
      },
    },
    errors,
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'What'),
      field('Name', name, { name: 'name', required: true }),
      field('Back up from', source, { name: 'sourceAccountId', required: true }),
      sourcePath.el,
      fieldset(
        'Which files',
        'filter.mode',
        modeRadios.map((r) =>
          h(
            'span',
            { class: 'inline-check' },
            r,
            h('label', { for: r.id }, modeLabels[r.value as keyof typeof modeLabels]),
          ),
        ),
      ),
      field('Extensions', extensions, {
        name: 'filter.extensions',
        help: 'Comma-separated, without dots; case does not matter.',
      }),
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Where to'),
      field('Store the backup in', target, { name: 'targetAccountId', required: true }),
      targetPath.el,
      field('Files at the same time', concurrency, { name: 'concurrency', help: '1 to 32.' }),
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'When'),
      field('Schedule', kind, { name: 'schedule.kind' }),
      timeField,
      daysField,
      domField,
      cronField,
      zoneField,
      catchUpField,
      preview,
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Tell me'),
      field('E-mail addresses', emails, {
        name: 'notifications.emails',
        help: 'Comma-separated. Mail needs the SMTP settings.',
      }),
      field('Send mail', notifyOn, { name: 'notifications.on' }),
      field('Webhook URL', webhook, {
        name: 'notifications.webhookUrl',
        help: 'Receives a JSON POST when a run ends.',
      }),
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Safety'),
      field('Hold suspicious versions', guardOn, {
        name: 'deletionGuard.enabled',
        help: 'A version that deletes or changes much more than usual (an emptied or unplugged source, ransomware) is kept but held: nothing older is pruned until you approve it.',
      }),
      field('When more than … % of the files go', guardPercent, {
        name: 'deletionGuard.percent',
        help: 'Lower is stricter. 0 to 100.',
      }),
      field('…and more than … files', guardMin, {
        name: 'deletionGuard.minFiles',
        help: 'Small folders may change wholesale: below this nothing is held.',
      }),
      field('Count changed files too', guardChanged, { name: 'deletionGuard.countChanged' }),
      field('Hold when the source is empty', guardEmptied, {
        name: 'deletionGuard.holdWhenEmptied',
        help: 'The source lists nothing where it held files before.',
      }),
      field('Read each copy back', readBack, {
        name: 'verify.readBackAfterWrite',
        help: 'For a drive, WebDAV or SFTP, which report no checksum of what they stored: each copy is read again and compared by SHA-256. Doubles the reading on the target.',
      }),
      field('Verify: read back … % of the stored files', readPercent, {
        name: 'verify.readPercent',
        help: 'Every check lists each stored copy (exists, right size); this share is also read and compared by SHA-256. 0 to 100.',
      }),
      field('Verify the backup', verifyKind, { name: 'verify.schedule.kind' }),
      verifyDayField,
      verifyDomField,
      verifyTimeField,
      verifyZoneField,
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Old versions'),
      h('p', { class: 'help' }, 'Leave all empty to keep every version.'),
      RETENTION_KEYS.map(([k, label]) =>
        field(label, retention.get(k)!, { name: `retention.${k}` }),
      ),
    ),
    h('div', { class: 'actions' }, button, h('a', { class: 'button', href: '#/tasks' }, 'Cancel')),
  );

  mount(root, h('h1', null, task ? `Edit “${task.name}”` : 'New backup task'), form);
}

/** Every zone the browser knows (IANA names), the current one kept even if it is not listed. */
function zonePicker(current: string): HTMLSelectElement {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const zones = new Set(intl.supportedValuesOf?.('timeZone') ?? []);
  zones.add('UTC');
  zones.add(current);
  return select(
    [...zones].sort().map((z): [string, string] => [z, z.replace(/_/g, ' ')]),
    { value: current },
  );
}
