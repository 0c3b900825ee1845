import { api, type Version, type VersionDiff, type VersionTree } from '../api.js';
import { h, mount, type Child } from '../dom.js';
import { errorText, input } from '../forms.js';
import { formatBytes, formatCount, formatDate, plural } from '../format.js';
import { heldButtons } from '../held.js';

/**
 * The version browser of the restore wizard: a task's versions by date (with what changed since
 * the one before), and the files of one version (folders, search, select all).
 */

/** Up to this many files are searched in one version (pages of 500). */
const SEARCH_LIMIT = 5_000;

/** The names a thumbnail is asked for (the server refuses others with 415). */
const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

/**
 * A small picture of an image file, loaded lazily as it scrolls into view; a file whose stored
 * bytes are not an image keeps its plain row (the image hides itself).
 */
function thumbnail(v: Version, path: string): HTMLElement | null {
  if (!IMAGE_NAME.test(path)) return null;
  const img = h('img', {
    class: 'thumb',
    src: api.versions.thumbnailUrl(v.id, path, 96),
    loading: 'lazy',
    decoding: 'async',
    alt: '',
    width: 48,
    height: 48,
  });
  img.addEventListener('error', () => img.remove());
  return img;
}

/**
 * The versions, newest first; the chosen one pressed, running ones not choosable; a held one
 * with its approve and discard buttons.
 */
export function versionList(
  sorted: Version[],
  current: Version | undefined,
  onPick: (v: Version) => void,
  held?: { task: { id: string; name: string }; onDecided: (message: string) => void },
): HTMLElement {
  return h(
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
                'aria-pressed': String(v.id === current?.id),
                disabled: v.status === 'running' || v.status === 'discarded',
                onclick: () => onPick(v),
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
                        : v.status === 'discarded'
                          ? 'Discarded'
                          : v.status,
                  )
                : null,
            ),
            v.status === 'held' && held ? heldButtons(held.task, v, held.onDecided) : null,
          ),
        ),
  );
}

/** What changed in `v` since the version before it, drawn into `box`. */
export async function showDiff(sorted: Version[], v: Version, box: HTMLElement): Promise<void> {
  const prev = sorted.find(
    (p) => p.seq < v.seq && p.status !== 'running' && p.status !== 'discarded',
  );
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
}

/**
 * The files of version `v`: folders to browse, a search by name, select all; ticks go into
 * `selected`. The parts of the wizard's files step, without its heading and buttons.
 */
export function fileBrowser(v: Version, selected: Set<string>): Child[] {
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
        h('button', { type: 'button', class: 'link', onclick: () => void browse('') }, 'All files'),
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
            thumbnail(v, f.path),
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
            thumbnail(v, f.path),
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
  ];
}
