import {
  api,
  type Account,
  type ConflictPolicy,
  type ConnectorInfo,
  type Version,
} from '../api.js';
import { h, mount } from '../dom.js';
import {
  clearOnFix,
  clearProblems,
  errorText,
  field,
  fieldset,
  formErrors,
  input,
  select,
  showProblems,
} from '../forms.js';
import { formatBytes, formatDate, plural } from '../format.js';
import { folderPicker } from '../picker.js';
import { go, type ScreenContext } from '../screen.js';
import { fileBrowser, showDiff, versionList } from './version-browser.js';
import { place } from './tasks.js';

const CONFLICTS: [ConflictPolicy, string, string][] = [
  [
    'skip-identical',
    'Skip identical files',
    'A file already there with the same content is left alone; a different one is replaced.',
  ],
  [
    'keep-both',
    'Keep both',
    'A different file already there stays; the restored copy gets a new name, e.g. “IMG_0001 (restored 2026-11-22).HEIC”. Identical files are left alone.',
  ],
  ['overwrite', 'Overwrite', 'Every file already there is replaced by the restored copy.'],
];

const STEPS = ['Version', 'Files', 'Destination', 'Review'] as const;
type Step = 0 | 1 | 2 | 3;

interface Destination {
  kind: 'original' | 'else' | '';
  accountId: string;
  path: string;
}

/** Why an account cannot be written to, or undefined when it can. */
function readOnlyReason(
  a: Account | undefined,
  kinds: Map<string, ConnectorInfo>,
): string | undefined {
  if (!a) return 'the account was removed';
  const c = kinds.get(a.kind);
  if (c && c.capabilities.writable === false)
    return (
      (c.capabilities.readOnlyReason as string | undefined) ??
      `${c.displayName} cannot be written to`
    );
  return undefined;
}

/**
 * A task's versions and the restore wizard: choose a version (by date, with what changed since
 * the one before), pick files and folders (search, select all), choose where to (never the
 * original place of a read-only source), what to do with files already there, then confirm.
 */
export async function versionsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const taskId = ctx.params[0]!;
  const [task, versions, accounts, connectors] = await Promise.all([
    api.tasks.get(taskId),
    api.tasks.versions(taskId),
    api.accounts.list(),
    api.connectors(),
  ]);
  if (!ctx.isCurrent()) return;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const kinds = new Map(connectors.map((c) => [c.kind, c]));
  let sorted = [...versions].sort((a, b) => b.seq - a.seq);
  const restorable = sorted.filter((v) => v.status !== 'running' && v.status !== 'discarded');
  const wanted = ctx.query.get('version');
  let version: Version | undefined = restorable.find((v) => v.id === wanted) ?? restorable[0];
  let step: Step = 0;
  const selected = new Set<string>();
  const dest: Destination = { kind: '', accountId: '', path: '' };
  let conflict: ConflictPolicy = 'skip-identical';

  const stepList = h('ol', { class: 'wizard-steps', 'aria-label': 'Restore steps' });
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const body = h('section', { class: 'wizard', 'aria-live': 'polite' });
  const errors = formErrors();
  const form: HTMLFormElement = h(
    'form',
    {
      class: 'wizard-form',
      novalidate: true,
      'aria-label': 'Restore',
      onsubmit: (ev: Event) => ev.preventDefault(),
    },
    errors,
    body,
  );

  const goTo = (s: Step) => {
    step = s;
    clearProblems(form);
    draw();
    body.querySelector<HTMLElement>('h2')?.focus();
  };
  const nav = (next: () => string[] | void, label = 'Next') =>
    h(
      'div',
      { class: 'actions' },
      step > 0
        ? h('button', { type: 'button', onclick: () => goTo((step - 1) as Step) }, 'Back')
        : null,
      h(
        'button',
        {
          type: 'submit',
          class: 'primary',
          onclick: () => {
            const problems = next() ?? [];
            if (problems.length > 0) showProblems(form, problems);
            else goTo((step + 1) as Step);
          },
        },
        label,
      ),
    );

  // ---- step 1: the version, by date, with the diff against the one before -----------------
  const versionStep = () => {
    const diffBox = h('div', { class: 'diff-box' });
    const list = versionList(
      sorted,
      version,
      (v) => {
        version = v;
        selected.clear();
        draw();
      },
      {
        task,
        onDecided: (message) => {
          status.hidden = false;
          status.textContent = message;
          void api.tasks.versions(taskId).then((fresh) => {
            if (!ctx.isCurrent()) return;
            sorted = [...fresh].sort((a, b) => b.seq - a.seq);
            // A discarded version is never restored from: the newest one left is chosen.
            const ok = (v: Version) => v.status !== 'running' && v.status !== 'discarded';
            version = sorted.find((v) => v.id === version?.id && ok(v)) ?? sorted.find(ok);
            draw();
          });
        },
      },
    );
    if (version) void showDiff(sorted, version, diffBox);
    return [
      h('h2', { tabindex: -1 }, 'Choose a version'),
      h(
        'div',
        { class: 'versions-layout' },
        list,
        h(
          'div',
          null,
          version
            ? [
                h(
                  'h3',
                  null,
                  `Version ${version.seq}, ${formatDate(version.completedAt ?? version.createdAt)}`,
                ),
                diffBox,
              ]
            : null,
        ),
      ),
      version ? nav(() => undefined) : null,
    ];
  };

  // ---- step 2: files and folders, with search and select all ------------------------------
  const filesStep = () => [
    h('h2', { tabindex: -1 }, `What to restore from version ${version!.seq}`),
    ...fileBrowser(version!, selected),
    nav(() => undefined),
  ];

  // ---- step 3: where to, and what to do with files already there --------------------------
  const destinationStep = () => {
    const source = byId.get(task.sourceAccountId);
    const origReason = readOnlyReason(source, kinds);
    const orig = input({
      type: 'radio',
      name: 'where',
      value: 'original',
      id: 'where-orig',
      checked: dest.kind === 'original',
      disabled: origReason !== undefined,
    });
    const other = input({
      type: 'radio',
      name: 'where',
      value: 'else',
      id: 'where-else',
      checked: dest.kind === 'else',
    });
    const account = select([
      ['', 'Choose an account…'],
      ...accounts.map((a): [string, string] => {
        const why = readOnlyReason(a, kinds);
        return [a.id, why ? `${a.name} (read-only)` : a.name];
      }),
    ]);
    for (const o of account.options)
      if (o.value && readOnlyReason(byId.get(o.value), kinds)) o.disabled = true;
    account.value = dest.accountId;
    const folder = folderPicker({
      label: 'Folder',
      name: 'destination.path',
      accountId: () => account.value,
    });
    folder.input.value = dest.path;
    const elsewhere = h(
      'div',
      { class: 'indent', hidden: dest.kind !== 'else' },
      field('Account', account, { name: 'destination.accountId' }),
      folder.el,
    );
    for (const r of [orig, other])
      r.addEventListener('change', () => {
        elsewhere.hidden = !other.checked;
        clearProblems(form);
      });
    const radios = CONFLICTS.map(([value]) =>
      input({
        type: 'radio',
        name: 'conflict',
        value,
        id: `conflict-${value}`,
        checked: value === conflict,
      }),
    );
    return [
      h('h2', { tabindex: -1 }, 'Where to restore'),
      fieldset('Restore to', 'destination', [
        h(
          'span',
          { class: 'inline-check' },
          orig,
          h(
            'label',
            { for: orig.id },
            `Where it came from (${place(byId, task.sourceAccountId, task.sourcePath)})`,
            origReason
              ? h('span', { class: 'why', 'data-why': 'read-only' }, `Not possible: ${origReason}.`)
              : null,
          ),
        ),
        h(
          'span',
          { class: 'inline-check' },
          other,
          h('label', { for: other.id }, 'Somewhere else'),
        ),
        elsewhere,
      ]),
      fieldset(
        'When a file is already there',
        'conflict',
        radios.map((r, i) =>
          h(
            'span',
            { class: 'inline-check' },
            r,
            h(
              'label',
              { for: r.id },
              CONFLICTS[i]![1],
              h('span', { class: 'why' }, CONFLICTS[i]![2]),
            ),
          ),
        ),
      ),
      nav(() => {
        dest.kind = orig.checked ? 'original' : other.checked ? 'else' : '';
        dest.accountId = account.value;
        dest.path = folder.input.value.trim();
        conflict = (radios.find((r) => r.checked)?.value ?? 'skip-identical') as ConflictPolicy;
        const problems: string[] = [];
        if (dest.kind === '') problems.push('destination: choose where the files go');
        if (dest.kind === 'else' && !dest.accountId)
          problems.push('destination.accountId: choose an account');
        return problems;
      }),
    ];
  };

  // ---- step 4: summary and an explicit confirmation ---------------------------------------
  const reviewStep = () => {
    const v = version!;
    const toAccount = dest.kind === 'original' ? task.sourceAccountId : dest.accountId;
    const toPath = dest.kind === 'original' ? task.sourcePath : dest.path;
    const target = byId.get(toAccount);
    const isCloud = target?.kind !== 'local';
    const live = dest.kind === 'original' || isCloud;
    const confirm = input({ type: 'checkbox', id: 'confirm-restore' });
    const what =
      selected.size === 0
        ? `the whole version (${plural(v.fileCount, 'file')}, ${formatBytes(v.totalBytes)})`
        : plural(selected.size, 'file or folder', 'files and folders');
    const button = h('button', { type: 'submit', class: 'primary' }, 'Restore now');
    button.addEventListener('click', async () => {
      clearProblems(form);
      if (live && !confirm.checked) {
        showProblems(form, [
          `confirm: tick the box to confirm writing into “${target?.name ?? 'the account'}”`,
        ]);
        return;
      }
      button.disabled = true;
      try {
        const run = await api.versions.restore(v.id, {
          ...(selected.size > 0 ? { paths: [...selected] } : {}),
          ...(dest.kind === 'else'
            ? { destination: { accountId: dest.accountId, path: dest.path } }
            : {}),
          conflict,
        });
        go(`#/runs/${run.id}`);
      } catch (e) {
        showProblems(form, [errorText(e)]);
        button.disabled = false;
      }
    });
    return [
      h('h2', { tabindex: -1 }, 'Review and confirm'),
      h(
        'dl',
        { class: 'facts summary-box', 'data-summary': '' },
        h('dt', null, 'Version'),
        h('dd', null, `${v.seq}, ${formatDate(v.completedAt ?? v.createdAt)}`),
        h('dt', null, 'What'),
        h(
          'dd',
          null,
          what,
          selected.size > 0 && selected.size <= 5
            ? h(
                'ul',
                null,
                [...selected].map((p) => h('li', null, h('code', null, p))),
              )
            : null,
        ),
        h('dt', null, 'To'),
        h(
          'dd',
          { 'data-summary': 'to' },
          place(byId, toAccount, toPath),
          dest.kind === 'original' ? ' (where it came from)' : null,
        ),
        h('dt', null, 'Files already there'),
        h('dd', null, CONFLICTS.find(([c]) => c === conflict)![1]),
      ),
      live
        ? confirmField(
            'div',
            { class: 'field check', 'data-field': 'confirm' },
            confirm,
            h(
              'label',
              { for: confirm.id },
              dest.kind === 'original'
                ? `I understand this writes into the live folder “${place(byId, toAccount, toPath)}”.`
                : `I understand this writes into “${target?.name ?? 'the account'}”, a live cloud.`,
            ),
            h('p', { class: 'field-error', hidden: true }),
          )
        : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => goTo(2) }, 'Back'),
        button,
      ),
    ];
  };

  const draw = () => {
    mount(
      stepList,
      STEPS.map((s, i) => h('li', { 'aria-current': i === step ? 'step' : undefined }, s)),
    );
    mount(
      body,
      step === 0
        ? versionStep()
        : step === 1
          ? filesStep()
          : step === 2
            ? destinationStep()
            : reviewStep(),
    );
  };
  draw();

  mount(
    root,
    h('h1', null, `Restore from “${task.name}”`),
    h(
      'p',
      { class: 'meta' },
      `${place(byId, task.sourceAccountId, task.sourcePath)} → ${place(byId, task.targetAccountId, task.targetPath)}`,
    ),
    status,
    stepList,
    form,
  );
}

/** The confirmation box: like any field, its error goes once it is ticked. */
function confirmField(...args: Parameters<typeof h<'div'>>): HTMLDivElement {
  const el = h(...args);
  clearOnFix(el);
  return el;
}
