import type { CallOptions, Connector, Entry } from '../../../src/connectors/connector.js';
import { walkFiles, type WalkedFile } from '../../../src/backup/plan/walk.js';

/**
 * A source whose folders are listed from a map, a file per `await` (like a paged listing), and
 * which records which listings are open at once and whether each was closed.
 */
class TreeSource {
  readonly opened: string[] = [];
  readonly closed: string[] = [];
  open = 0;
  mostOpen = 0;
  /** Folder -> error its listing throws after `after` entries. */
  readonly failing = new Map<string, { after: number; error: Error }>();

  constructor(private readonly tree: Record<string, string[]>) {}

  async *list(dir: string, opts: CallOptions = {}): AsyncIterable<Entry> {
    this.opened.push(dir);
    this.mostOpen = Math.max(this.mostOpen, ++this.open);
    try {
      const names = this.tree[dir];
      if (!names) throw new Error(`no folder ${dir}`);
      let i = 0;
      for (const name of names) {
        const fail = this.failing.get(dir);
        if (fail && i++ === fail.after) throw fail.error;
        await new Promise((r) => setImmediate(r));
        opts.signal?.throwIfAborted();
        const path = dir === '' ? name : `${dir}/${name}`;
        const isFolder = this.tree[path] !== undefined;
        yield {
          path,
          name,
          kind: isFolder ? 'folder' : 'file',
          hashes: {},
          ...(isFolder ? {} : { size: 1 }),
        };
      }
    } finally {
      this.open--;
      this.closed.push(dir);
    }
  }

  asConnector(): Connector {
    return this as unknown as Connector;
  }
}

/** a/ (3 files, b/ with 2), c/ (1), and 2 files at the top. */
const TREE: Record<string, string[]> = {
  '': ['a', 'c', 'top1', 'top2'],
  a: ['a1', 'a2', 'b', 'a3'],
  'a/b': ['b1', 'b2'],
  c: ['c1'],
};
/** Files of a folder first, then its sub-folders, the last listed first. */
const ORDER = ['top1', 'top2', 'c/c1', 'a/a1', 'a/a2', 'a/a3', 'a/b/b1', 'a/b/b2'];

function wide(folders: number, files: number): Record<string, string[]> {
  const tree: Record<string, string[]> = { '': [] };
  for (let d = 0; d < folders; d++) {
    tree['']!.push(`d${d}`);
    tree[`d${d}`] = Array.from({ length: files }, (_, i) => `f${i}`);
  }
  return tree;
}

async function collect(it: AsyncIterable<WalkedFile>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of it) out.push(f.rel);
  return out;
}

describe('walkFiles', () => {
  it('should give every file once, depth-first in the source order, however many folders are listed ahead', async () => {
    for (const ahead of [0, 1, 2, 4, 16]) {
      const source = new TreeSource(TREE);
      expect(await collect(walkFiles(source.asConnector(), '', {}, undefined, ahead))).toEqual(
        ORDER,
      );
      expect([...source.closed].sort()).toEqual([...source.opened].sort());
    }
  });

  it('should have the next folders listing while the consumer works on one, never more than asked', async () => {
    const source = new TreeSource(wide(20, 10));
    let files = 0;
    let openWhileConsuming = 0;
    for await (const _ of walkFiles(source.asConnector(), '', {}, undefined, 4)) {
      files++;
      openWhileConsuming = Math.max(openWhileConsuming, source.open);
      // The consumer's work (the ledger check): promises only, no turn of the event loop.
      for (let i = 0; i < 50; i++) await Promise.resolve();
    }
    expect(files).toBe(200);
    // The folder being read and the ones listed ahead of it; one at a time before the change.
    expect(openWhileConsuming).toBeGreaterThan(1);
    expect(source.mostOpen).toBeLessThanOrEqual(1 + 4);
    expect(source.open).toBe(0);
  });

  it('should close every listing, the ones ahead included, when the consumer stops early', async () => {
    const source = new TreeSource(wide(10, 10));
    for await (const f of walkFiles(source.asConnector(), '', {}, undefined, 4)) {
      expect(f.rel).toBe('d9/f0');
      break;
    }
    expect(source.opened.length).toBeGreaterThan(2);
    expect(source.open).toBe(0);
    expect([...source.closed].sort()).toEqual([...source.opened].sort());
  });

  it('should hand out the files listed before an error, then throw it', async () => {
    const source = new TreeSource(TREE);
    source.failing.set('', { after: 3, error: new Error('the listing broke') });
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const f of walkFiles(source.asConnector(), '', {})) got.push(f.rel);
      })(),
    ).rejects.toThrow('the listing broke');
    expect(got).toEqual(['top1']);
  });

  it('should report a sub-folder that cannot be listed at its turn and go on with the rest', async () => {
    const source = new TreeSource(TREE);
    source.failing.set('a/b', { after: 1, error: new Error('a/b: permission denied') });
    source.failing.set('c', { after: 0, error: new Error('c: permission denied') });
    const unreadable: string[] = [];
    const files = await collect(
      walkFiles(source.asConnector(), '', {}, (dir) => unreadable.push(dir)),
    );
    expect(unreadable).toEqual(['c', 'a/b']);
    // What a/b listed before it failed still counts; the walk went on after each.
    expect(files).toEqual(['top1', 'top2', 'a/a1', 'a/a2', 'a/a3', 'a/b/b1']);
    expect(source.open).toBe(0);
  });

  it('should throw an abort, not hand out what was listed ahead, once the run is cancelled', async () => {
    const source = new TreeSource(wide(10, 10));
    const ac = new AbortController();
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const f of walkFiles(
          source.asConnector(),
          '',
          { signal: ac.signal },
          () => {},
        )) {
          got.push(f.rel);
          // A reason of this realm: Jest's module context does not take Node's DOMException for
          // an Error, and the walk would report the folder unreadable instead.
          ac.abort(Object.assign(new Error('the run was cancelled'), { name: 'AbortError' }));
        }
      })(),
    ).rejects.toThrow('the run was cancelled');
    expect(got).toEqual(['d9/f0']);
    expect(source.open).toBe(0);
  });
});
