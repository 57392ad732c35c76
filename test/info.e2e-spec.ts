import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpus } from 'node:os';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createTestApp } from './support/app.js';
import { ROOT } from './support/processes.js';

describe('info routes', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080', '--mode', 'fork']));
  });

  afterAll(async () => {
    await app.close();
  });

  it('/api/info (GET) describes the process with the fields of the contract', async () => {
    const res = await request(app.getHttpServer()).get('/api/info').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      arguments: ['--port', '8080', '--mode', 'fork'],
      platform: process.platform,
      nodeVersion: process.version,
      memoryRss: expect.any(Number),
      execPath: process.execPath,
      pid: process.pid,
      projectFolder: ROOT,
      processors: cpus().length,
      mode: 'FORK',
      port: 8080,
      role: 'single',
    });
    expect(res.body.memoryRss).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('/info (GET) renders the same facts as HTML, the number of processors included', async () => {
    const res = await request(app.getHttpServer()).get('/info').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/^<!doctype html>/);
    expect(res.text).toContain(
      `<span class="badge" id="processors">${cpus().length}</span>`,
    );
    expect(res.text).toContain(
      '<code id="arguments">--port 8080 --mode fork</code>',
    );
    expect(res.text).toContain(`<td id="pid">${process.pid}</td>`);
    expect(res.text).toContain(`<td id="port">8080</td>`);
    expect(res.text).toContain(`<td id="mode">FORK</td>`);
    expect(res.text).toContain(`<td id="role">single</td>`);
    expect(res.text).toContain(process.version);
    expect(res.text).toContain(process.execPath);
    expect(res.text).toContain(ROOT);
    expect(res.text).toMatch(/<td id="memory-rss">\d+\.\d (MiB|GiB)<\/td>/);
  });

  it('/health (GET) answers ok', async () => {
    await request(app.getHttpServer())
      .get('/health')
      .expect(200, { status: 'ok' });
  });

  it.each([
    '/api/info',
    '/info',
    '/health',
    '/api/randoms?cant=5',
    '/no-such-route',
  ])(
    '%s carries X-Served-By and the security headers, and no X-Powered-By',
    async (path) => {
      const res = await request(app.getHttpServer()).get(path);
      expect(res.headers['x-served-by']).toBe(`8080:${process.pid}`);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain(
        "frame-ancestors 'none'",
      );
      expect(res.headers['x-powered-by']).toBeUndefined();
    },
  );

  it('an unknown route is a 404 in Nest’s error shape', async () => {
    const res = await request(app.getHttpServer()).get('/nope').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
