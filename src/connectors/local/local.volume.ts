import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootCheck } from '../connector.js';
import { RootMissingError } from '../connector.errors.js';

/** The marker file at the root of a local account: one line, the volume id. Hidden from listings. */
export const VOLUME_MARKER = '.cbe-volume';

export function isVolumeMarkerName(name: string): boolean {
  return name === VOLUME_MARKER;
}

export interface VolumeMemory {
  /** The marker id this account saw before; undefined on first use. */
  knownId?: string;
  /** Persists the id seen on first use (into the account), so later checks can compare. */
  remember?(id: string): Promise<void>;
}

/**
 * The root folder of a local account and its volume marker. A drive that is unplugged leaves
 * either nothing at the root path or an empty mount point; writing there (with `mkdir -p`) put
 * backups on the system disk and marked them complete. The root is therefore never created by
 * the connector, and on first use an id file is written at the root and remembered by the
 * account: an empty folder or another drive at the same path lacks it, or carries another id.
 */
export class LocalVolume {
  private knownId: string | undefined;

  constructor(
    private readonly root: string,
    private readonly memory: VolumeMemory = {},
  ) {
    this.knownId = memory.knownId;
  }

  /** Throws RootMissingError unless the root folder exists; the write path calls it before any mkdir. */
  async assertPresent(): Promise<void> {
    const problem = await this.rootProblem();
    if (problem) throw new RootMissingError(problem);
  }

  /** Creates `abs` and its parents below the root, never the root itself. */
  async mkdirBelowRoot(abs: string): Promise<void> {
    await this.assertPresent();
    await mkdir(abs, { recursive: true });
  }

  async check(): Promise<RootCheck> {
    const problem = await this.rootProblem();
    if (problem) return { state: 'missing', detail: problem };
    const found = await this.readMarker();
    if (this.knownId !== undefined) {
      if (found === this.knownId) return { state: 'present', detail: `'${this.root}' is there` };
      return {
        state: 'not-this-volume',
        detail:
          found === undefined
            ? `'${this.root}' exists but has no ${VOLUME_MARKER} marker: is the backup drive mounted there? (expected volume ${this.knownId})`
            : `'${this.root}' holds another volume (${found}, expected ${this.knownId}): is the right drive mounted?`,
      };
    }
    // First use: adopt the marker already there (another account on the same drive wrote it),
    // else write one. A read-only source cannot take a marker; its presence is the root alone.
    let id = found;
    if (id === undefined) {
      id = randomUUID();
      try {
        await writeFile(join(this.root, VOLUME_MARKER), `${id}\n`, { flag: 'wx', mode: 0o644 });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') id = await this.readMarker();
        else return { state: 'present', detail: `'${this.root}' is there (no marker: ${code})` };
      }
    }
    if (id !== undefined) {
      await this.memory.remember?.(id);
      this.knownId = id;
    }
    return { state: 'present', detail: `'${this.root}' is there` };
  }

  private async rootProblem(): Promise<string | undefined> {
    try {
      const st = await stat(this.root);
      return st.isDirectory() ? undefined : `'${this.root}' is not a folder`;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        return `the folder '${this.root}' does not exist (is the drive connected and mounted?)`;
      return `the folder '${this.root}' cannot be reached (${code ?? String(e)})`;
    }
  }

  private async readMarker(): Promise<string | undefined> {
    try {
      const text = (await readFile(join(this.root, VOLUME_MARKER), 'utf8')).trim();
      return text === '' ? undefined : text.slice(0, 100);
    } catch {
      return undefined;
    }
  }
}
