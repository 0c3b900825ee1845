import {
  api,
  type Account,
  type ConflictPolicy,
  type ConnectorInfo,
  type Version,
  type VersionDiff,
  type VersionTree,
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
import { formatBytes, formatCount, formatDate, plural } from '../format.js';
import { folderPicker } from '../picker.js';
import { go, type ScreenContext } from '../screen.js';
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

/** Up to this many files are searched in one version (pages of 500). */
const SEARCH_LIMIT = 5_000;

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
  const sorted = [...versions].sort((a, b) => b.seq - a.seq);
  const restorable = sorted.filter((v) => v.status !== 'running');
  const wanted = ctx.query.get('version');
  let version: Version | undefined = restorable.find((v) => v.id === wanted) ?? restorable[0];
  let step: Step = 0;
  const selected = new Set<string>();
  const dest: Destination = { kind: '', accountId: '', path: '' };
  let conflict: ConflictPolicy = 'skip-identical';

  const stepList = h('ol', { class: 'wizard-steps', 'aria-label': 'Restore steps' });
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
  const diffOf = async (v: Version, box: HTMLElement) => {
    const prev = sorted.find((p) => p.seq < v.seq && p.status !== 'running');
    if (!prev) {
      mount(box, h('p', { class: 'help' }, 'The first version: everything in it was new.'));
      return;
    }
    let d: VersionDiff;
    try {
      d = await api.versions.diff(v.id, prev.id);
    } catch (e) {
      mount(box, h('p', { class: 'error' }, errorText(e)));
      return;
    }
    const part = (label: string, cls: string, paths: string[]) =>
      paths.length === 0
        ? null
        : h(
            'details',
            { class: `diff ${cls}` },
            h('summary', null, `${formatCount(paths.length)} ${label}`),
            h(
              'ul',
              null,
              paths.slice(0, 200).map((p) => h('li', null, h('code', null, p))),
              paths.length > 200
                ? h('li', null, `… and ${formatCount(paths.length - 200)} more`)
                : null,
            ),
          );
    mount(
      box,
      h(
        'p',
        { class: 'meta' },
        `Compared with version ${prev.seq} (${formatDate(prev.completedAt ?? prev.createdAt)}):`,
      ),
      d.added.length + d.changed.length + d.deleted.length === 0
        ? h('p', { class: 'help', 'data-diff': 'none' }, 'Nothing changed.')
        : h(
            'div',
            { 'data-diff': 'some' },
            part('added', 'diff-added', d.added),
            part('changed', 'diff-changed', d.changed),
            part('deleted', 'diff-deleted', d.deleted),
          ),
    );
  };

  const versionStep = () => {
    const diffBox = h('div', { class: 'diff-box' });
    const list = h(
      'ol',
      { class: 'timeline', 'aria-label': 'Versions' },
      sorted.length === 0
        ? h('li', { class: 'empty' }, 'No versions yet: run the task once.')
        : sorted.map((v) =>
            h(
              'li',
              { class: `version-${v.status}` },
              h(
                'button',
                {
                  type: 'button',
                  class: 'version',
                  'data-version': v.id,
                  'aria-pressed': String(v.id === version?.id),
                  disabled: v.status === 'running',
                  onclick: () => {
                    version = v;
                    selected.clear();
                    draw();
                  },
                },
                h('strong', null, formatDate(v.completedAt ?? v.createdAt)),
                h(
                  'span',
                  null,
                  `Version ${v.seq} · ${plural(v.fileCount, 'file')} · ${formatBytes(v.totalBytes)}`,
                ),
                v.status !== 'complete'
                  ? h(
                      'span',
                      { class: `badge version-badge-${v.status}` },
                      v.status === 'held'
                        ? 'Held: waiting for your decision'
                        : v.status === 'partial'
                          ? 'Partial: some files missing'
                          : v.status,
                    )
                  : null,
              ),
            ),
          ),
    );
    if (version) void diffOf(version, diffBox);
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
  const filesStep = () => {
    const v = version!;
    const listing = h('div', { class: 'tree' });
    const count = h('p', { class: 'meta', role: 'status' });
    const updateCount = () =>
      (count.textContent =
        selected.size === 0
          ? 'Nothing ticked: the whole version will be restored.'
          : `${plural(selected.size, 'file or folder', 'files and folders')} ticked.`);
    const box = (p: string, label: string) => {
      const c = input({
        type: 'checkbox',
        checked: selected.has(p),
        'aria-label': `Select ${label}`,
        'data-path': p,
      });
      c.addEventListener('change', () => {
        if (c.checked) selected.add(p);
        else selected.delete(p);
        updateCount();
      });
      return c;
    };
    const allBox = input({ type: 'checkbox', id: 'select-all' });
    const search = input({
      type: 'search',
      placeholder: 'Search by name',
      'aria-label': 'Search this version',
    });
    const entries = (paths: { path: string; label: string; folder: boolean; meta?: string }[]) => {
      allBox.checked = paths.length > 0 && paths.every((p) => selected.has(p.path));
      allBox.onchange = () => {
        for (const p of paths) {
          if (allBox.checked) selected.add(p.path);
          else selected.delete(p.path);
        }
        for (const c of listing.querySelectorAll<HTMLInputElement>('input[data-path]'))
          c.checked = selected.has(c.dataset.path!);
        updateCount();
      };
      return paths;
    };

    const browse = async (path: string) => {
      mount(listing, h('p', { class: 'loading' }, 'Loading…'));
      let tree: VersionTree;
      try {
        tree = await api.versions.tree(v.id, path);
      } catch (e) {
        mount(listing, h('p', { class: 'error', role: 'alert' }, errorText(e)));
        return;
      }
      const parts = path === '' ? [] : path.split('/');
      const items = entries([
        ...tree.folders.map((name) => ({
          path: path === '' ? name : `${path}/${name}`,
          label: `folder ${name}`,
          folder: true,
        })),
        ...tree.files.map((f) => ({ path: f.path, label: f.name, folder: false })),
      ]);
      mount(
        listing,
        h(
          'nav',
          { class: 'crumbs', 'aria-label': 'Folder' },
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => void browse('') },
            'All files',
          ),
          parts.map((name, i) => [
            ' / ',
            h(
              'button',
              {
                type: 'button',
                class: 'link',
                onclick: () => void browse(parts.slice(0, i + 1).join('/')),
              },
              name,
            ),
          ]),
        ),
        h(
          'ul',
          { class: 'entries' },
          items.length === 0 ? h('li', { class: 'empty' }, 'Empty folder.') : null,
          tree.folders.map((name) => {
            const p = path === '' ? name : `${path}/${name}`;
            return h(
              'li',
              { class: 'entry folder' },
              box(p, `folder ${name}`),
              h(
                'button',
                { type: 'button', class: 'link folder', onclick: () => void browse(p) },
                name,
              ),
            );
          }),
          tree.files.map((f) =>
            h(
              'li',
              { class: 'entry file' },
              box(f.path, f.name),
              h('span', { class: 'name' }, f.name),
              h(
                'span',
                { class: 'meta' },
                `${f.modifiedAt ? `${formatDate(f.modifiedAt)} · ` : ''}${formatBytes(f.size)}`,
              ),
            ),
          ),
        ),
        tree.truncated
          ? h('p', { class: 'help' }, 'Only the first entries are shown: search to find others.')
          : null,
      );
    };

    const runSearch = async () => {
      const term = search.value.trim().toLowerCase();
      if (term === '') return void browse('');
      mount(listing, h('p', { class: 'loading' }, 'Searching…'));
      const found: { path: string; size: number; modifiedAt: string | null }[] = [];
      let afterId: number | null = null;
      let scanned = 0;
      try {
        do {
          const page: {
            files: { path: string; size: number; modifiedAt: string | null }[];
            nextAfterId: number | null;
          } = await api.versions.files(v.id, afterId ?? undefined);
          scanned += page.files.length;
          for (const f of page.files) if (f.path.toLowerCase().includes(term)) found.push(f);
          afterId = page.nextAfterId;
        } while (afterId !== null && scanned < SEARCH_LIMIT);
      } catch (e) {
        mount(listing, h('p', { class: 'error', role: 'alert' }, errorText(e)));
        return;
      }
      const items = entries(found.map((f) => ({ path: f.path, label: f.path, folder: false })));
      mount(
        listing,
        h(
          'p',
          { class: 'meta' },
          `${plural(found.length, 'file')} match “${search.value.trim()}”${afterId !== null ? ` in the first ${formatCount(scanned)} files` : ''}.`,
        ),
        h(
          'ul',
          { class: 'entries', 'aria-label': 'Search results' },
          items.length === 0 ? h('li', { class: 'empty' }, 'No file matches.') : null,
          found.map((f) =>
            h(
              'li',
              { class: 'entry file' },
              box(f.path, f.path),
              h('span', { class: 'name' }, h('code', null, f.path)),
              h(
                'span',
                { class: 'meta' },
                `${f.modifiedAt ? `${formatDate(f.modifiedAt)} · ` : ''}${formatBytes(f.size)}`,
              ),
            ),
          ),
        ),
        h(
          'p',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                search.value = '';
                void browse('');
              },
            },
            'Back to the folders',
          ),
        ),
      );
    };
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        void runSearch();
      }
    });
    updateCount();
    void browse('');
    return [
      h('h2', { tabindex: -1 }, `What to restore from version ${v.seq}`),
      h(
        'div',
        { class: 'toolbar' },
        search,
        h('button', { type: 'button', onclick: () => void runSearch() }, 'Search'),
      ),
      h(
        'div',
        { class: 'toolbar' },
        h(
          'span',
          { class: 'inline-check' },
          allBox,
          h('label', { for: 'select-all' }, 'Select all shown'),
        ),
      ),
      h(
        'div',
        { class: 'field', 'data-field': 'paths' },
        listing,
        h('p', { class: 'field-error', hidden: true }),
      ),
      count,
      nav(() => undefined),
    ];
  };

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
