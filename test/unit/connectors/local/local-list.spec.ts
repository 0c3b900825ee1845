/**
 * Issue #21 (the no-change run): listing a local folder takes its entries' stats in parallel
 * batches, not one thread-pool round trip after the other. `stat` is wrapped on the
 * `fs.promises` object before the connector's module is loaded (as local-confinement.spec does).
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
const fsp = fs.promises;
let inFlight = 0;
let maxInFlight = 0;
const originalStat = fsp.stat;
(fsp as { stat: unknown }).stat = async (...args: Parameters<typeof originalStat>) => {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  try {
    return await originalStat(...args);
  } finally {
    inFlight--;
  }
};

const { LocalConnector } = await import('../../../../src/connectors/local/local.connector.js');

describe('local connector listing', () => {
  let root: string;

  beforeEach(async () => {
    root = await fsp.mkdtemp(join(tmpdir(), 'cbe-list-'));
    for (let i = 0; i < 100; i++) await fsp.writeFile(join(root, `f${i}`), String(i));
    await fsp.mkdir(join(root, 'sub'));
    await fsp.writeFile(join(root, '.cbe-partial-x-1'), 'half');
    maxInFlight = 0;
  });

  afterEach(() => fsp.rm(root, { recursive: true, force: true }));

  it('should stat the entries of a folder in parallel and list each once', async () => {
    const c = new LocalConnector({ root, fsync: false });
    const names: string[] = [];
    for await (const e of c.list('')) names.push(e.name);

    expect(names.sort()).toEqual([...Array.from({ length: 100 }, (_, i) => `f${i}`), 'sub'].sort());
    // Before: one stat at a time (max 1).
    expect(maxInFlight).toBeGreaterThan(1);
  });
});
