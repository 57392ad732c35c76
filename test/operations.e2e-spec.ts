import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { Readiness } from '../src/health/readiness.service.js';
import { createTestApp } from './support/app.js';

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('operations routes', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080']));
  });

  afterAll(async () => {
    await app.close();
  });

  it('/livez (GET) answers 200 while the process runs', async () => {
    await request(app.getHttpServer())
      .get('/livez')
      .expect(200, { status: 'ok' });
  });

  it('/readyz (GET) answers 200 until a drain starts, then 503 with Retry-After', async () => {
    await request(app.getHttpServer())
      .get('/readyz')
      .expect(200, { status: 'ok' });
    app.get(Readiness).startDraining();
    const res = await request(app.getHttpServer()).get('/readyz').expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'draining: finishing the requests in flight before it exits',
    });
    // Liveness is another question: the process still runs.
    await request(app.getHttpServer()).get('/livez').expect(200);
  });

  it.each([
    'abc',
    'A.b_c-1',
    'x'.repeat(128),
    'f3a0b9c4e2d14c5f8a6b7c8d9e0f1a2b',
  ])('X-Request-Id %s, a sane token, is echoed as it came', async (id) => {
    const res = await request(app.getHttpServer())
      .get('/api/info')
      .set('X-Request-Id', id)
      .expect(200);
    expect(res.headers['x-request-id']).toBe(id);
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(129), 'too long'],
    ['a b', 'a space'],
    ['<script>', 'markup'],
    ['"}{"level":60', 'forged JSON'],
    ['ü', 'beyond ASCII'],
  ])('X-Request-Id %j (%s) is replaced by a fresh UUID', async (id) => {
    const res = await request(app.getHttpServer())
      .get('/api/info')
      .set('X-Request-Id', id);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('every answer carries an X-Request-Id, errors included', async () => {
    const res = await request(app.getHttpServer()).get('/nope').expect(404);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('/metrics (GET) counts requests by method, route pattern and status; unmatched paths share one label', async () => {
    const server = app.getHttpServer();
    await request(server).get('/api/info').expect(200);
    await request(server).get('/api/randoms?cant=10').expect(200);
    await request(server).get('/api/randoms?cant=x').expect(400);
    await request(server).get('/some/hostile/path/1').expect(404);
    await request(server).get('/some/hostile/path/2').expect(404);
    const res = await request(server).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(
      /^text\/plain; version=0\.0\.4/,
    );
    const text = res.text;
    expect(text).toMatch(
      /^http_requests_total\{method="GET",route="\/api\/info",status="200"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^http_requests_total\{method="GET",route="\/api\/randoms",status="400"\} 1$/m,
    );
    const unmatched =
      /^http_requests_total\{method="GET",route="\(unmatched\)",status="404"\} (\d+)$/m.exec(
        text,
      );
    expect(Number(unmatched?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain('hostile');
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/info",status="200"\} \d+$/m,
    );
    expect(text).toMatch(/^randoms_draws_total \d+$/m);
    expect(text).toMatch(/^randoms_jobs_in_flight 0$/m);
    expect(text).toMatch(/^randoms_jobs_rejected_total 0$/m);
    expect(text).toMatch(/^randoms_jobs_cancelled_total 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    // One process: no cluster to sum.
    expect(text).not.toContain('cluster_workers');
  });
});

describe('operations routes with METRICS=off', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080'], { METRICS: 'off' }));
  });

  afterAll(async () => {
    await app.close();
  });

  it('/metrics (GET) is 404 in Nest’s error shape', async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
