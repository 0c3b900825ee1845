/* eslint-disable @typescript-eslint/no-require-imports -- this function runs as the source of an
   eval'd worker thread (CommonJS there), where `import` is not available. */
import type {
  CopyItemResult,
  CopyJob,
  CopyJobItem,
  FileWorkerData,
  FromFileWorker,
  ListPage,
  ToFileWorker,
  WorkerFailure,
} from './local.file-worker.protocol.js';

/**
 * The local file worker thread's code (started by LocalFileWorker, local.file-worker.ts). Its
 * SOURCE is what the thread runs (`(${localFileWorkerMain})()`, eval'd), so the same code runs
 * from dist/ and from the TypeScript sources under Jest: it must use nothing from outside its own
 * body but Node's built-in modules, which it requires. Types only are imported above.
 *
 * Every job is synchronous file-system calls on this thread: a stalled drive blocks this thread,
 * never the engine's event loop, and a job costs one message each way instead of a trip through
 * libuv's thread pool (a futex handshake and a wake-up of the main thread) per system call.
 * Memory: one read buffer for the thread's life (a batch copy holds one file at a time in it);
 * nothing per file but the digest's state and small result objects.
 */
export function localFileWorkerMain(): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const { join, dirname, basename, sep } = require('node:path') as typeof import('node:path');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const { parentPort, workerData } =
    require('node:worker_threads') as typeof import('node:worker_threads');
  const port = parentPort!;
  const data = workerData as FileWorkerData;
  const buf = Buffer.allocUnsafeSlow(data.bufferBytes);
  const C = fs.constants;
  /** O_NONBLOCK: a fifo put where a file was must not block the open (a regular file ignores it). */
  const READ_FLAGS = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;
  const WRITE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL;
  /** Open listings: handle -> what is left of the folder. */
  const listings = new Map<number, { dir: import('node:fs').Dir; abs: string; real: string }>();
  let nextHandle = 1;

  const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;
  const fsFailure = (e: unknown): WorkerFailure => ({
    kind: 'fs',
    code: codeOf(e),
    message: e instanceof Error ? e.message : String(e),
  });
  /** `rel` ('' or 'a/b') under `root`. */
  const under = (root: string, rel: string) => (rel === '' ? root : join(root, ...rel.split('/')));
  const parentOf = (rel: string) => {
    const i = rel.lastIndexOf('/');
    return i < 0 ? '' : rel.slice(0, i);
  };
  const nameOf = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);
  /** The root's real path; undefined when it is not there. */
  const realRoot = (root: string) => {
    try {
      return fs.realpathSync.native(root);
    } catch {
      return undefined;
    }
  };
  const gone = (what: string): WorkerFailure => ({
    kind: 'fs',
    code: 'ENOENT',
    message: `'${what}' does not exist`,
  });
  const isUnder = (real: string, rootReal: string) =>
    real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
  /** realpath, or for a missing path its nearest existing ancestor's joined with the rest. */
  const realPathOrAncestor = (abs: string): string => {
    const rest: string[] = [];
    for (let p = abs; ; p = dirname(p)) {
      try {
        return join(fs.realpathSync.native(p), ...rest.reverse());
      } catch (e) {
        const code = codeOf(e);
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw e;
        rest.push(basename(p));
      }
    }
  };
  const cancelled = (cancel: Int32Array) => Atomics.load(cancel, 0) !== 0;

  // ---- batch copy -------------------------------------------------------------------------

  type Folder = { real: string } | { failure: WorkerFailure };

  function copy(job: CopyJob, cancel: Int32Array): FromFileWorker & { t: 'copied' } {
    const srcReal = realRoot(job.srcRoot);
    const dstReal = realRoot(job.dstRoot);
    const known = new Set(job.knownFolders);
    const srcFolders = new Map<string, Folder>();
    const dstFolders = new Map<string, Folder>();
    const made = new Set<string>();

    /** The source folder's real path, checked to be inside the source root (once per job). */
    const srcFolder = (rel: string): Folder => {
      let f = srcFolders.get(rel);
      if (!f) {
        try {
          const real = realPathOrAncestor(under(job.srcRoot, rel));
          f =
            srcReal === undefined
              ? { failure: gone(rel) }
              : isUnder(real, srcReal)
                ? { real }
                : { failure: { kind: 'outside', message: `'${rel}' leads outside the root` } };
        } catch (e) {
          f = { failure: fsFailure(e) };
        }
        srcFolders.set(rel, f);
      }
      return f;
    };

    /** mkdir -p of target folder `rel` (never the root itself: a root gone is reported). */
    const makeFolder = (rel: string, real: string): WorkerFailure | undefined => {
      try {
        if (!fs.statSync(job.dstRoot, { throwIfNoEntry: false })?.isDirectory()) {
          return { kind: 'root-missing', message: `'${job.dstRoot}' is not there` };
        }
      } catch (e) {
        return { kind: 'root-missing', message: `'${job.dstRoot}': ${codeOf(e)}` };
      }
      try {
        fs.mkdirSync(real, { recursive: true });
      } catch (e) {
        const code = codeOf(e);
        if (code === 'EEXIST' || code === 'ENOTDIR') {
          return { kind: 'file-in-way', code, message: `a file is in the way of '${rel}'` };
        }
        return fsFailure(e);
      }
      made.add(rel);
      return undefined;
    };

    /** The target folder's real path, inside the target root, made unless known (once per job). */
    const dstFolder = (rel: string): Folder => {
      let f = dstFolders.get(rel);
      if (!f) {
        try {
          const real = realPathOrAncestor(under(job.dstRoot, rel));
          if (dstReal === undefined) {
            f = { failure: { kind: 'root-missing', message: `'${job.dstRoot}' is not there` } };
          } else if (!isUnder(real, dstReal)) {
            f = { failure: { kind: 'outside', message: `'${rel}' leads outside the root` } };
          } else {
            const failure = known.has(rel) ? undefined : makeFolder(rel, real);
            f = failure ? { failure } : { real };
          }
        } catch (e) {
          f = { failure: fsFailure(e) };
        }
        dstFolders.set(rel, f);
      }
      return f;
    };

    /** Opens the source of `item` as read() would: no link followed unless it stays inside. */
    const openSource = (item: CopyJobItem): number | WorkerFailure => {
      const folder = srcFolder(parentOf(item.src));
      if ('failure' in folder) return folder.failure;
      const abs = join(folder.real, nameOf(item.src));
      try {
        return fs.openSync(abs, READ_FLAGS);
      } catch (e) {
        if (codeOf(e) !== 'ELOOP') return fsFailure(e);
      }
      // A symbolic link: followed only when its real path is inside the source root.
      let real: string;
      try {
        real = fs.realpathSync.native(abs);
      } catch (e) {
        return fsFailure(e); // dangling: ENOENT, as read()'s stat says
      }
      if (srcReal === undefined || !isUnder(real, srcReal)) {
        return { kind: 'outside', message: `'${item.src}' leads outside the root` };
      }
      try {
        return fs.openSync(real, READ_FLAGS);
      } catch (e) {
        return fsFailure(e);
      }
    };

    /** Why the open source cannot be copied as listed (a folder, not a file, another size). */
    const checkSource = (item: CopyJobItem, fd: number): WorkerFailure | undefined => {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) return { kind: 'source-folder', message: `'${item.src}' is a folder` };
      if (!st.isFile()) {
        return { kind: 'not-file', message: `'${item.src}' is not a regular file` };
      }
      if (st.size !== item.size) {
        return {
          kind: 'size',
          message: `'${item.src}' is ${st.size} bytes, listed at ${item.size}`,
        };
      }
      return undefined;
    };

    /** Reads the whole source (smaller than `buf`) into `buf`; its length, or why not. */
    const readSource = (item: CopyJobItem, fd: number): number | WorkerFailure => {
      const bad = checkSource(item, fd);
      if (bad) return bad;
      // One byte more than listed is asked for: a regular file's read comes back short only at
      // its end, so one read both takes the bytes and shows the file did not grow.
      let n = 0;
      for (;;) {
        const got = fs.readSync(fd, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
        if (n === item.size || n > item.size) break;
      }
      if (n !== item.size) {
        return { kind: 'size', message: `'${item.src}' changed size while read (${n} bytes)` };
      }
      return n;
    };

    /** Writes all of `buf[0, n)` to `out`. */
    const writeAll = (out: number, n: number) => {
      for (let off = 0; off < n;) off += fs.writeSync(out, buf, off, n - off);
    };

    /**
     * Copies a source larger than `buf` to `out` a buffer at a time, hashing what it reads (the
     * bytes written are those hashed): a failure of the source (unreadable, another size than
     * listed by its end) is returned; one of `out` is thrown. A cancel stops it between chunks.
     */
    const streamSource = (
      item: CopyJobItem,
      fd: number,
      out: number,
      hash: import('node:crypto').Hash,
    ): WorkerFailure | 'aborted' | undefined => {
      let n = 0;
      for (;;) {
        if (cancelled(cancel)) return 'aborted';
        let got: number;
        try {
          got = fs.readSync(fd, buf, 0, buf.length, n);
        } catch (e) {
          return fsFailure(e);
        }
        if (got === 0) break;
        n += got;
        if (n > item.size) {
          return {
            kind: 'size',
            message: `'${item.src}' grew while read (past ${item.size} bytes)`,
          };
        }
        hash.update(buf.subarray(0, got));
        writeAll(out, got);
      }
      if (n !== item.size) {
        return { kind: 'size', message: `'${item.src}' changed size while read (${n} bytes)` };
      }
      return undefined;
    };

    /**
     * Writes the target's temporary name with `body` (which writes the bytes to the fd it gets
     * and returns a failure of the SOURCE, if any), sets its time, renames it to the final name.
     * Nothing stays under either name unless it all succeeded.
     */
    const writeTarget = (
      item: CopyJobItem,
      body: (out: number) => WorkerFailure | 'aborted' | undefined,
    ): WorkerFailure | 'aborted' | { source: WorkerFailure } | undefined => {
      const parent = parentOf(item.dst);
      let folder = dstFolder(parent);
      if ('failure' in folder) return folder.failure;
      let tmp = join(folder.real, item.tmp);
      let fd: number;
      try {
        fd = fs.openSync(tmp, WRITE_FLAGS, 0o644);
      } catch (e) {
        const code = codeOf(e);
        // A known folder removed behind the connector's back: make it again, once.
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || !known.has(parent)) return fsFailure(e);
        known.delete(parent);
        dstFolders.delete(parent);
        folder = dstFolder(parent);
        if ('failure' in folder) return folder.failure;
        tmp = join(folder.real, item.tmp);
        try {
          fd = fs.openSync(tmp, WRITE_FLAGS, 0o644);
        } catch (e2) {
          return fsFailure(e2);
        }
      }
      const target = join(folder.real, nameOf(item.dst));
      let stage = 'write';
      try {
        const bad = body(fd);
        if (bad !== undefined) {
          fs.closeSync(fd);
          fd = -1;
          fs.unlinkSync(tmp);
          return bad === 'aborted' ? bad : { source: bad };
        }
        if (!Number.isNaN(item.mtimeMs)) {
          fs.futimesSync(fd, item.mtimeMs / 1000, item.mtimeMs / 1000);
        }
        fs.closeSync(fd);
        fd = -1;
        if (cancelled(cancel)) {
          fs.unlinkSync(tmp);
          return 'aborted';
        }
        stage = 'rename';
        fs.renameSync(tmp, target);
        return undefined;
      } catch (e) {
        if (fd >= 0) fs.closeSync(fd);
        try {
          fs.unlinkSync(tmp);
        } catch {
          // gone already
        }
        if (stage === 'rename') {
          const isFolder =
            codeOf(e) === 'EISDIR' ||
            fs.statSync(target, { throwIfNoEntry: false })?.isDirectory() === true;
          if (isFolder) return { kind: 'target-folder', message: `'${item.dst}' is a folder` };
        }
        return fsFailure(e);
      }
    };

    /**
     * One item: a source smaller than the buffer is read whole before the target is touched
     * (one read, one write); a larger one is streamed through the buffer into the target.
     */
    const copyItem = (item: CopyJobItem): CopyItemResult => {
      const fd = openSource(item);
      if (typeof fd !== 'number') return { ok: false, side: 'source', ...fd };
      try {
        let sha256: string;
        let failed: ReturnType<typeof writeTarget>;
        if (item.size < buf.length) {
          let n: number | WorkerFailure;
          try {
            n = readSource(item, fd);
          } catch (e) {
            n = fsFailure(e);
          }
          if (typeof n !== 'number') return { ok: false, side: 'source', ...n };
          sha256 = createHash('sha256').update(buf.subarray(0, n)).digest('hex');
          const size = n;
          failed = writeTarget(item, (out) => {
            writeAll(out, size);
            return undefined;
          });
        } else {
          let bad: WorkerFailure | undefined;
          try {
            bad = checkSource(item, fd);
          } catch (e) {
            bad = fsFailure(e);
          }
          if (bad) return { ok: false, side: 'source', ...bad };
          const hash = createHash('sha256');
          failed = writeTarget(item, (out) => streamSource(item, fd, out, hash));
          sha256 = failed === undefined ? hash.digest('hex') : '';
        }
        if (failed === 'aborted')
          return { ok: false, side: 'target', kind: 'aborted', message: 'aborted' };
        if (failed && 'source' in failed) return { ok: false, side: 'source', ...failed.source };
        if (failed) return { ok: false, side: 'target', ...failed };
        return { ok: true, size: item.size, sha256 };
      } finally {
        fs.closeSync(fd);
      }
    };

    const results: CopyItemResult[] = [];
    for (const item of job.items) {
      results.push(
        cancelled(cancel)
          ? { ok: false, side: 'target', kind: 'aborted', message: 'aborted' }
          : copyItem(item),
      );
    }
    const folders = [...dstFolders].filter(([, f]) => 'real' in f).map(([rel]) => rel);
    return { t: 'copied', id: 0, results, folders };
  }

  // ---- listing ----------------------------------------------------------------------------

  /** The next page of a listing: names, kinds and stats as the connector's list() yields them. */
  function listPage(root: string, rel: string, handle: number): ListPage | WorkerFailure {
    let open = listings.get(handle);
    if (!open) {
      const abs = under(root, rel);
      const rootReal = realRoot(root);
      if (rootReal === undefined) return gone(rel);
      let real: string;
      let dir: import('node:fs').Dir;
      try {
        real = realPathOrAncestor(abs);
        if (!isUnder(real, rootReal)) {
          return { kind: 'outside', message: `'${rel}' leads outside the root` };
        }
        dir = fs.opendirSync(real, { bufferSize: 256 });
      } catch (e) {
        return fsFailure(e);
      }
      open = { dir, abs: real, real: rootReal };
      handle = nextHandle++;
      listings.set(handle, open);
    }
    const names: string[] = [];
    const dirents: import('node:fs').Dirent[] = [];
    try {
      for (let d = open.dir.readSync(); d !== null; d = open.dir.readSync()) {
        names.push(d.name);
        dirents.push(d);
        if (names.length >= data.listPage) break;
      }
    } catch (e) {
      closeListing(handle);
      return fsFailure(e);
    }
    const count = names.length;
    const page: ListPage = {
      names,
      kinds: new Uint8Array(count),
      sizes: new Float64Array(count),
      mtimes: new Float64Array(count),
      errors: [],
      handle: count < data.listPage ? 0 : handle,
    };
    if (page.handle === 0) closeListing(handle);
    for (let i = 0; i < count; i++) {
      const d = dirents[i]!;
      const abs = join(open.abs, d.name);
      try {
        // A link is followed (stat), and listed only when it stays inside the root; a plain
        // entry needs no more than lstat. Gone since readdir, or dangling: not listed.
        const link = d.isSymbolicLink();
        const st = link
          ? fs.statSync(abs, { throwIfNoEntry: false })
          : fs.lstatSync(abs, { throwIfNoEntry: false });
        if (!st || (!st.isFile() && !st.isDirectory())) continue; // ENTRY_SKIP (0)
        if (link && !isUnder(realPathOrAncestor(abs), open.real)) continue;
        page.kinds[i] = st.isDirectory() ? 2 : 1; // ENTRY_FOLDER, ENTRY_FILE
        page.sizes[i] = st.size;
        page.mtimes[i] = st.mtimeMs;
      } catch (e) {
        page.kinds[i] = 3; // ENTRY_ERROR
        page.errors.push(fsFailure(e));
      }
    }
    return page;
  }

  function closeListing(handle: number): void {
    const open = listings.get(handle);
    if (!open) return;
    listings.delete(handle);
    try {
      open.dir.closeSync();
    } catch {
      // closed already
    }
  }

  port.on('message', (m: ToFileWorker) => {
    switch (m.t) {
      case 'copy': {
        const reply = copy(m.job, m.cancel);
        reply.id = m.id;
        port.postMessage(reply);
        return;
      }
      case 'list': {
        const page = listPage(m.root, m.rel, m.handle);
        port.postMessage(
          'kind' in page
            ? { t: 'list-failed', id: m.id, failure: page }
            : { t: 'listed', id: m.id, page },
        );
        return;
      }
      case 'list-close':
        closeListing(m.handle);
        port.postMessage({ t: 'closed', id: m.id });
        return;
    }
  });
}
