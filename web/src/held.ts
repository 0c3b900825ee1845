import { api, type ApprovalPreview, type Retention, type Version } from './api.js';
import { h, mount, uid } from './dom.js';
import { errorText } from './forms.js';
import { formatBytes, plural } from './format.js';

/**
 * Approving or discarding a held version (issue 18's deletion guard), with a confirmation that
 * says what will happen before anything is asked of the server: for an approval, what the
 * task's retention then prunes (from the server's preview); for a discard, which version the
 * next backup compares with and what stays.
 */

export type HeldAction = 'approve' | 'discard';

export interface HeldDecision {
  action: HeldAction;
  task: { id: string; name: string };
  version: { id: string; seq: number };
  /** Called with a sentence for the page's status line once the server agreed. */
  onDone: (message: string) => void;
}

/** "the last 3 versions, one a day for 7 days" */
export function describePolicy(p: Retention): string {
  const parts: string[] = [];
  if (p.keepLast) parts.push(`the last ${plural(p.keepLast, 'version')}`);
  if (p.keepDaily) parts.push(`one version a day for ${plural(p.keepDaily, 'day')}`);
  if (p.keepWeekly) parts.push(`one a week for ${plural(p.keepWeekly, 'week')}`);
  if (p.keepMonthly) parts.push(`one a month for ${plural(p.keepMonthly, 'month')}`);
  return parts.join(', ');
}

function seqList(seqs: number[]): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const shown = sorted.slice(0, 5);
  const more = sorted.length > 5 ? ` and ${plural(sorted.length - 5, 'other')}` : '';
  if (shown.length === 1) return `version ${shown[0]}${more}`;
  return `versions ${shown.slice(0, -1).join(', ')}${more ? `, ${shown.at(-1)}` : ` and ${shown.at(-1)}`}${more}`;
}

export function approvalText(p: ApprovalPreview): string {
  if (!p.policy) return 'The task keeps every version: nothing is removed.';
  const keeps = `The task keeps ${describePolicy(p.policy)}`;
  if (p.versions.length === 0) return `${keeps}: nothing is removed now.`;
  return (
    `${keeps}: the clean-up that follows removes ${plural(p.versions.length, 'version')} ` +
    `(${seqList(p.versions.map((v) => v.seq))}) and ${plural(p.files, 'file')} (${formatBytes(p.bytes)}).`
  );
}

export function discardText(held: Version, versions: Version[]): string {
  const prev = versions
    .filter((v) => v.seq < held.seq && v.status === 'complete')
    .sort((a, b) => b.seq - a.seq)[0];
  const first = `Version ${held.seq} (${plural(held.fileCount, 'file')}) is set aside`;
  return prev
    ? `${first} and the next backup compares with version ${prev.seq}. Version ${prev.seq} and its ${plural(prev.fileCount, 'file')} stay.`
    : `${first}; the next backup stores everything again.`;
}

/** Opens the confirmation dialog; the server is asked only when the user confirms. */
export function confirmHeldDecision(d: HeldDecision): void {
  const { action, task, version } = d;
  const verb = action === 'approve' ? 'Approve' : 'Discard';
  const titleId = uid('held-title');
  const preview = h(
    'p',
    { 'data-preview': 'loading', class: 'meta' },
    action === 'approve' ? 'Working out what the clean-up would remove…' : 'Loading the versions…',
  );
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const confirm = h(
    'button',
    { type: 'button', class: action === 'approve' ? 'primary' : 'danger' },
    `${verb} version ${version.seq}`,
  );
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const dialog = h(
    'dialog',
    { class: 'confirm-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, `${verb} version ${version.seq} of “${task.name}”?`),
    h(
      'p',
      null,
      action === 'approve'
        ? `Approving says the change in version ${version.seq} is intended: it becomes the last good version, and the retention it held back applies again.`
        : `Discarding says version ${version.seq} is a mistake (a wiped or unplugged source): it is never restored from and never counted.`,
    ),
    preview,
    error,
    h('div', { class: 'actions' }, cancel, confirm),
  );
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  cancel.addEventListener('click', close);
  dialog.addEventListener('cancel', () => dialog.remove());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    error.hidden = true;
    try {
      if (action === 'approve') await api.versions.approve(version.id);
      else await api.versions.discard(version.id);
      close();
      d.onDone(
        `Version ${version.seq} of “${task.name}” ${action === 'approve' ? 'approved' : 'discarded'}.`,
      );
    } catch (e) {
      error.hidden = false;
      error.textContent = errorText(e);
      confirm.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const load = async () => {
    try {
      const text =
        action === 'approve'
          ? approvalText(await api.versions.approvePreview(version.id))
          : await api.tasks.versions(task.id).then((all) => {
              const held = all.find((v) => v.id === version.id);
              return held ? discardText(held, all) : `Version ${version.seq} is set aside.`;
            });
      mount(preview, text);
      preview.dataset.preview = 'ready';
    } catch (e) {
      mount(preview, `Could not work out what this removes: ${errorText(e)}`);
      preview.dataset.preview = 'failed';
    }
  };
  void load();
}

/** The two buttons of a held version, each naming the version and its task. */
export function heldButtons(
  task: { id: string; name: string },
  version: { id: string; seq: number },
  onDone: (message: string) => void,
): HTMLElement {
  const button = (action: HeldAction, label: string, cls?: string) =>
    h(
      'button',
      {
        type: 'button',
        class: cls,
        'aria-label': `${label} version ${version.seq} of “${task.name}”`,
        onclick: () => confirmHeldDecision({ action, task, version, onDone }),
      },
      label,
    );
  return h(
    'span',
    { class: 'actions held-actions' },
    button('approve', 'Approve'),
    button('discard', 'Discard', 'danger-outline'),
  );
}
