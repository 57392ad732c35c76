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

describe('/api/randoms off the event loop, admitted by queued work', () => {
  let app: NestExpressApplication;
  let port: number;
  // A job long enough to watch on any machine: seconds of both threads' time.
  const HEAVY = 4_000_000_000;

  beforeAll(async () => {
    ({ app } = await createTestApp(['--port', '8080'], {
      RANDOMS_MAX_CANT: String(HEAVY),
      RANDOMS_MAX_QUEUE_MS: '1',
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

  it('/api/info answers in milliseconds while a long computation runs', async () => {
    const heavy = await startHeavy(HEAVY);
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

  it('/api/randoms (GET) answers 503 with Retry-After once the queued work exceeds RANDOMS_MAX_QUEUE_MS, and recovers', async () => {
    const heavy = await startHeavy(HEAVY);
    const pool = app.get(RandomsService);

    const res = await request(app.getHttpServer())
      .get('/api/randoms?cant=1000000')
      .expect(503);
    // Seconds of work are queued over a 1 ms bound: the wait is whole seconds.
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(
        /^the compute queue holds \d+\.\d s of work; try again in \d+ s$/,
      ),
    });
    // Small requests are drawn on the event loop: never refused for the queue.
    await request(app.getHttpServer()).get('/api/randoms?cant=10').expect(200);

    await heavy.cancel();
    await waitFor(() => pool.pending === 0, {
      timeoutMs: 5_000,
      what: 'the cancelled job to be released',
    });
    await request(app.getHttpServer())
      .get('/api/randoms?cant=1000000')
      .expect(200);
  });

  it('a client that disconnects cancels its computation', async () => {
    const started = performance.now();
    const heavy = await startHeavy(HEAVY);
    await heavy.cancel();
    const pool = app.get(RandomsService);
    // The job takes seconds; a cancelled one is released at once.
    await waitFor(() => pool.pending === 0, {
      timeoutMs: 1_000,
      what: 'the job to be cancelled',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
