import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
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
    t = await startTestApp();
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
});
