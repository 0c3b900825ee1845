import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ADMIN, ensureWebBuild, openBrowser, signInThroughUi } from '../support/browser.js';
import { writeTree } from '../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../support/test-app.js';

/**
 * Thumbnails of stored images for the version browser (issue 23): a small JPEG made from the
 * stored copy, for the owner only; a clear 4xx for what is not an image.
 */
describe('version thumbnails', () => {
  let t: TestApp;
  let dir: string;
  let versionId: string;
  let taskId: string;

  const thumb = (path: string, extra = '') =>
    t.http.get(`/api/versions/${versionId}/thumbnail?path=${encodeURIComponent(path)}${extra}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-thumb-'));
    const photo = await sharp({
      create: { width: 1200, height: 800, channels: 3, background: { r: 200, g: 80, b: 40 } },
    })
      .jpeg()
      .toBuffer();
    const png = await sharp({
      create: { width: 300, height: 600, channels: 4, background: '#3366ff' },
    })
      .png()
      .toBuffer();
    await writeTree(join(dir, 'src'), {
      'trip/photo.jpg': photo,
      'trip/tall.png': png,
      'trip/notes.txt': Buffer.from('not a picture\n'),
      'trip/broken.jpg': Buffer.from('this is text dressed as a jpeg'),
    });
    await writeTree(join(dir, 'dst'), { '.keep': Buffer.from('') });
    t = await startTestApp({ listen: 0 });
    const account = async (name: string, root: string) =>
      (
        await t.http
          .post('/api/accounts')
          .send({ kind: 'local', name, options: { root } })
          .expect(201)
      ).body.id as string;
    const task = await t.http
      .post('/api/tasks')
      .send({
        name: 'Trip',
        sourceAccountId: await account('Laptop', join(dir, 'src')),
        targetAccountId: await account('Disk', join(dir, 'dst')),
        targetPath: 'Backups',
      })
      .expect(201);
    const started = await t.http.post(`/api/tasks/${task.body.id}/run`).expect(202);
    const run = await waitForRun(t.http, started.body.id);
    expect(run.status).toBe('completed');
    versionId = run.versionId!;
    taskId = task.body.id as string;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('should answer a small JPEG of a stored photo, no larger than asked', async () => {
    const res = await thumb('trip/photo.jpg').buffer(true).expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toMatch(/^private/);
    const meta = await sharp(res.body as Buffer).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 160, 107]);
    const tall = await thumb('trip/tall.png', '&size=64').buffer(true).expect(200);
    const m2 = await sharp(tall.body as Buffer).metadata();
    expect([m2.width, m2.height]).toEqual([32, 64]);
  });

  it('should refuse what is not an image with 415, naming the file', async () => {
    const txt = await thumb('trip/notes.txt').expect(415);
    expect(txt.body.message).toBe("'trip/notes.txt' is not an image: no thumbnail");
    const broken = await thumb('trip/broken.jpg').expect(415);
    expect(broken.body.message).toBe("'trip/broken.jpg' could not be read as an image");
  });

  it('should answer 400 for a missing path or a size out of range, and 404 for no such file', async () => {
    const noPath = await t.http.get(`/api/versions/${versionId}/thumbnail`).expect(400);
    expect(JSON.stringify(noPath.body)).toContain('path');
    const big = await thumb('trip/photo.jpg', '&size=5000').expect(400);
    expect(JSON.stringify(big.body)).toContain('size must not be greater than 512');
    await thumb('trip/nothing.jpg').expect(404);
  });

  it('should answer 404 to another user, as for any version of someone else', async () => {
    await t.http
      .post('/api/users')
      .send({ username: 'mallory', password: 'mallory-password-1', role: 'user' })
      .expect(201);
    const mallory = await t.signIn('mallory', 'mallory-password-1');
    const res = await mallory
      .get(`/api/versions/${versionId}/thumbnail?path=trip%2Fphoto.jpg`)
      .expect(404);
    expect(res.body.message).toBe(`version '${versionId}' was not found`);
    expect(res.headers['content-type']).toMatch(/json/);
  });

  it('should show the thumbnails in the version browser, lazily, with the files’ dates', async () => {
    ensureWebBuild();
    const b = await openBrowser(t.baseUrl!, { shotPrefix: 'thumbnails' });
    try {
      const { page } = b;
      // The stored 'broken.jpg' is no image: its thumbnail answers 415 and hides itself.
      b.allowConsoleErrors(/status of 415/);
      await signInThroughUi(b, t.baseUrl!, ADMIN, `/tasks/${taskId}/versions`);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'trip' }).click();
      const row = (name: string) => page.locator('li.entry.file', { hasText: name });
      await row('photo.jpg').locator('img.thumb').waitFor();
      type Img = { complete: boolean; naturalWidth: number };
      const loaded = async (name: string) => {
        const img = row(name).locator('img.thumb');
        for (let k = 0; k < 100; k++) {
          const w = await img.evaluate((i: Img) => (i.complete ? i.naturalWidth : -1));
          if (w >= 0) return [await img.getAttribute('loading'), w];
          await page.waitForTimeout(100);
        }
        throw new Error(`thumbnail of ${name} never loaded`);
      };
      expect(await loaded('photo.jpg')).toEqual(['lazy', 96]);
      expect(await loaded('tall.png')).toEqual(['lazy', 48]);
      expect(await row('notes.txt').locator('img').count()).toBe(0);
      await row('broken.jpg').locator('img').waitFor({ state: 'detached' });
      // Each file says when it was last changed.
      expect(await row('photo.jpg').locator('.meta').textContent()).toMatch(
        /^\w{3} \d{1,2}, \d{4}, .* · \d+(\.\d)? kB$/,
      );
      await b.shot('version-browser');
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: 'dark' });
      await b.shot('version-browser-390-dark');
      expect(b.unexpectedConsoleErrors()).toEqual([]);
    } finally {
      await b.close();
    }
  }, 60_000);
});
