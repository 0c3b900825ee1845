import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../emulators/dropbox/dropbox-emulator.js';
import { dropboxPhotosToUsbTask } from '../support/connectors/dropbox.js';
import { patternBytes } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

/** The samples of one metric family by a label, e.g. {'200': 14, '429': 1} for status. */
function series(text: string, metric: string, cloud: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${metric}\\{(.*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m || !m[1].includes(`cloud="${cloud}"`)) continue;
    const key = new RegExp(`${label}="([^"]*)"`).exec(m[1])?.[1];
    if (key !== undefined) out.set(key, Number(m[2]));
  }
  return out;
}

function minus(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

/**
 * Issue 22, metrics: "requests by cloud and status, retries by connector and class". The
 * emulator's request log says what the engine sent; the metrics must say the same, by status,
 * and an injected 429 shows as a 429 and a retry.
 */
describe('requests to each cloud by kind and status in /api/metrics', () => {
  let t: TestApp;
  let emulator: DropboxEmulator;
  let dir: string;
  let taskId: string;

  beforeAll(async () => {
    emulator = await startDropboxEmulator({ maxLongpollMs: 200 });
    t = await startTestApp();
    dir = await mkdtemp(join(tmpdir(), 'cbe-cloud-metrics-'));
    await mkdir(join(dir, 'usb'));
    for (let i = 0; i < 6; i++)
      await emulator.seedFile(`/Photos/IMG_${i}.jpg`, patternBytes(3000 + i, i + 1));
    taskId = await dropboxPhotosToUsbTask(t, emulator, join(dir, 'usb'));
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const scrape = async () => (await t.http.get('/api/metrics').expect(200)).text;

  it('should count every request the emulator received, by status, and the 429 as a retry', async () => {
    const before = await scrape();
    emulator.api.clearRequests();
    emulator.api.inject({ kind: 'rateLimit', retryAfterSeconds: 1, times: 1 });

    const started = await t.http.post(`/api/tasks/${taskId}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id);
    expect(run).toMatchObject({ status: 'completed', filesCopied: 6 });

    const sent: Record<string, number> = {};
    for (const r of emulator.api.requests()) {
      const status = String(r.status ?? 'in flight');
      sent[status] = (sent[status] ?? 0) + 1;
    }
    expect(sent['429']).toBe(1);
    expect(sent['200']).toBeGreaterThanOrEqual(7); // a listing and six downloads at least

    const after = await scrape();
    expect(
      minus(
        series(after, 'cbe_cloud_requests_total', 'dropbox', 'status'),
        series(before, 'cbe_cloud_requests_total', 'dropbox', 'status'),
      ),
    ).toEqual(sent);
    expect(
      minus(
        series(after, 'cbe_cloud_retries_total', 'dropbox', 'reason'),
        series(before, 'cbe_cloud_retries_total', 'dropbox', 'reason'),
      ),
    ).toEqual({ RATE_LIMITED: 1 });
    // The local target speaks no HTTP: no series for it.
    expect(series(after, 'cbe_cloud_requests_total', 'local', 'status').size).toBe(0);
  });
});
