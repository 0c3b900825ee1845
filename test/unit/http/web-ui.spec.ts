import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import request from 'supertest';
import { serveWebUi } from '../../../src/http/web-ui.js';

/** An Express app standing in for Nest's: the one call serveWebUi makes. */
function appServing(distDir: string): express.Express {
  const server = express();
  const app = {
    use: (fn: express.RequestHandler) => server.use(fn),
  } as unknown as NestExpressApplication;
  serveWebUi(app, distDir);
  server.use((_req, res) => res.status(404).json({ statusCode: 404 }));
  return server;
}

describe('serveWebUi', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-webui-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc.js'), 'export {};');
    await mkdir(join(dir, 'dist', 'api'));
    await writeFile(join(dir, 'dist', 'api', 'health'), 'a file, not the API');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('should answer a page saying how to build the app when web/dist is missing', async () => {
    const server = appServing(join(dir, 'missing'));
    const res = await request(server).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('npm run build:web');
    await request(server).get('/api/accounts').expect(404);
  });

  it('should serve the built app, its hashed assets, and index.html for other paths', async () => {
    const server = appServing(join(dir, 'dist'));
    const index = await request(server).get('/').expect(200);
    expect(index.text).toBe('<!doctype html><title>app</title>');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await request(server).get('/assets/index-abc.js').expect(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await request(server).get('/runs/some-id').expect(200)).text).toContain('<title>app');
    // The API's own answers stay its own, GET or not, whatever files lie in web/dist.
    await request(server).get('/api/nothing').expect(404);
    await request(server).get('/api/health').expect(404);
    await request(server).post('/somewhere').expect(404);
  });
});
