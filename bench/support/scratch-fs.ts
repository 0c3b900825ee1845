/**
 * A fresh ext4 file system for a benchmark's folder: a sparse image beside it, made with mkfs's
 * defaults (so with a journal) and loop-mounted on the folder (`--fs ext4` of the peer bench).
 *
 * Why: this machine's root file system is an ext4 without a journal. There a new file's inode is
 * searched past every inode freed in the last ~30 s (`recently_deleted`, each read from the inode
 * table): in `perf record cp -r` of the peer bench's 10,000 small files, 56 % of cp's time was
 * in `recently_deleted` and `find_get_block_common`, and the same `cp -r` took 0.47-3.68 s
 * depending on what had been deleted in the minutes before. On a fresh ext4 with a journal it took
 * 0.53-0.57 s, deletions or not. The rounds of a run on the root file system then measured the
 * last minutes' deletions more than either tool (docs/benchmarks.md, "Stop 25").
 *
 * Needs root (mkfs, mount). The image is sparse: it takes on the disk what is written into it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';

export interface ScratchFs {
  /** What the folder is on, for the results (the file system and its image's size). */
  readonly description: string;
  /** Unmounts the file system and removes its image (keepImage: leaves the image). */
  release(opts?: { keepImage?: boolean }): Promise<void>;
}

const GiB = 1024 ** 3;

/**
 * Makes `folder` (created, must not be a mount point yet) the mount point of a new ext4 of
 * `bytes` (rounded up to whole GiB), imaged in `${folder}.img`. Throws with the command's error
 * when mkfs or mount cannot run here (not root, no loop devices).
 */
export async function mountScratchExt4(folder: string, bytes: number): Promise<ScratchFs> {
  const image = `${folder}.img`;
  const size = Math.max(1, Math.ceil(bytes / GiB));
  await rm(image, { force: true });
  await mkdir(folder, { recursive: true });
  execFileSync('truncate', ['-s', `${size}G`, image]);
  // Inode tables and journal written now: ext4lazyinit would otherwise zero them in the
  // background, on the same disk, during the first rounds.
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
  try {
    execFileSync('mount', ['-o', 'loop', image, folder], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    await rm(image, { force: true });
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
    throw new Error(`--fs ext4: could not mount a loop file system on ${folder}: ${why}`, {
      cause: e,
    });
  }
  return {
    description: `ext4 with a journal (mkfs defaults, inode tables written at mkfs), ${size} GiB sparse image, loop-mounted`,
    async release(opts = {}) {
      execFileSync('umount', [folder]);
      if (!opts.keepImage) await rm(image, { force: true });
    },
  };
}
