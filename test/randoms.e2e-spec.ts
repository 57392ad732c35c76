import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { RandomsService } from '../src/randoms/randoms.service.js';
import { createTestApp } from './support/app.js';
import { get, sumCounts } from './support/http.js';
import { waitFor } from './support/wait.js';
const badRequest = (message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message,
});

describe('/api/randoms', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080']));
  });

  afterAll(async () => {
    await app.close();
  });

  it('/api/randoms (GET) counts cant draws keyed by value 1..1000', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/randoms?cant=20000')
      .expect(200);
    expect(sumCounts(res.body as Record<string, number>)).toBe(20_000);
    for (const [key, count] of Object.entries(
      res.body as Record<string, number>,
    )) {
      expect(Number(key)).toBeGreaterThanOrEqual(1);
      expect(Number(key)).toBeLessThanOrEqual(1000);
      expect(String(Number(key))).toBe(key);
      expect(count).toBeGreaterThan(0);
    }
    expect(Object.keys(res.body).length).toBeGreaterThan(990);
  });

  it('/api/randoms (GET) draws 100,000,000 numbers by default, split across the pool', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/randoms')
      .expect(200);
    expect(sumCounts(res.body as Record<string, number>)).toBe(100_000_000);
    expect(Object.keys(res.body)).toHaveLength(1000);
  });

  it('/api/randoms (GET) answers a large odd cant exactly', async () => {
    const res = await request(app.getHttpServer())
      .get('/api/randoms?cant=3000001')
      .expect(200);
    expect(sumCounts(res.body as Record<string, number>)).toBe(3_000_001);
  });

  it.each([
    ['cant=-5', 'cant must be an integer from 1 to 1000000000'],
    ['cant=0', 'cant must be an integer from 1 to 1000000000'],
    ['cant=1000000001', 'cant must be an integer from 1 to 1000000000'],
    ['cant=abc', 'cant must be an integer from 1 to 1000000000'],
    ['cant=1.5', 'cant must be an integer from 1 to 1000000000'],
    ['cant=', 'cant must be an integer from 1 to 1000000000'],
    ['cant=1&cant=2', 'cant must be given once'],
    ['cant[]=1', 'only the query parameter cant is accepted'],
    ['count=5', 'only the query parameter cant is accepted'],
  ])('/api/randoms (GET) rejects %s with 400', async (query, message) => {
    await request(app.getHttpServer())
      .get(`/api/randoms?${query}`)
      .expect(400, badRequest(message));
  });
});

describe('/api/randoms off the event loop', () => {
  let app: NestExpressApplication;
  let port: number;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080'], {
      RANDOMS_MAX_PENDING: '1',
    }));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
  });

  /** Sends a long request and waits until the pool holds it; `cancel()` disconnects it. */
  async function startHeavy(
    cant: number,
  ): Promise<{ cancel(): Promise<void> }> {
    const abort = new AbortController();
    const heavy = get(port, `/api/randoms?cant=${cant}`, {
      signal: abort.signal,
      timeoutMs: 60_000,
    }).catch((error: Error) => error);
    await waitFor(() => app.get(RandomsService).pending === 1, {
      timeoutMs: 5_000,
      what: 'the heavy job to start',
    });
    return {
      async cancel() {
        abort.abort();
        await heavy;
      },
    };
  }

  it('/api/info answers in milliseconds while cant=500000000 is computed', async () => {
    const heavy = await startHeavy(500_000_000);
    const pool = app.get(RandomsService);

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await get(port, '/api/info');
      expect(res.status).toBe(200);
      latencies.push(res.ms);
    }
    // The heavy request is still running: the answers above did not wait for it.
    expect(pool.pending).toBe(1);
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(50);
    expect(latencies[latencies.length - 1]).toBeLessThan(250);

    await heavy.cancel();
  });

  it('/api/randoms (GET) answers 503 with Retry-After when the queue is full, and recovers', async () => {
    const heavy = await startHeavy(1_000_000_000);
    const pool = app.get(RandomsService);

    const res = await request(app.getHttpServer())
      .get('/api/randoms?cant=10')
      .expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
    });

    await heavy.cancel();
    await waitFor(() => pool.pending === 0, {
      timeoutMs: 5_000,
      what: 'the cancelled job to be released',
    });
    await request(app.getHttpServer()).get('/api/randoms?cant=10').expect(200);
  });

  it('a client that disconnects cancels its computation', async () => {
    const started = performance.now();
    const heavy = await startHeavy(1_000_000_000);
    await heavy.cancel();
    const pool = app.get(RandomsService);
    // A billion draws take seconds; a cancelled job is released at once.
    await waitFor(() => pool.pending === 0, {
      timeoutMs: 1_000,
      what: 'the job to be cancelled',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
