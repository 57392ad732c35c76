import { describe, expect, it } from '@jest/globals';
import { DrawQueue } from './draw-queue.js';

/** 2 threads of 1,000 draws/ms: the pool finishes 2,000 draws a millisecond. */
const queue = (maxQueueMs = 1000, maxHeld = 1000): DrawQueue =>
  new DrawQueue({ maxQueueMs, maxHeld, threads: 2, drawsPerMs: 1000 });

describe('DrawQueue', () => {
  it('takes any number of small requests while the queued work stays under the bound', () => {
    const q = queue();
    for (let i = 0; i < 999; i++) expect(q.admit(1000)).toBeUndefined();
    expect(q.heldRequests).toBe(999);
    expect(q.queuedMs).toBeCloseTo(499.5);
  });

  it('refuses only once the work already queued would take longer than the bound', () => {
    const q = queue(1000);
    expect(q.admit(1_999_000)).toBeUndefined(); // 999.5 ms queued: still within
    expect(q.admit(4_000_000)).toBeUndefined(); // admitted: the queue was within the bound
    expect(q.queuedMs).toBeCloseTo(2999.5);
    expect(q.admit(1, 0)).toEqual({ queuedMs: 2999.5, retryAfterMs: 1999.5 });
  });

  it('tells each refused request when its turn comes, after those refused before it', () => {
    const q = queue(1000);
    q.admit(6_000_000); // 3 s of work
    const now = 0;
    const first = q.admit(2_000_000, now)!; // 1 s of work each
    const second = q.admit(2_000_000, now)!;
    const third = q.admit(2_000_000, now)!;
    expect(first.retryAfterMs).toBe(2000);
    expect(second.retryAfterMs).toBe(3000);
    expect(third.retryAfterMs).toBe(4000);
  });

  it('forgets promises once their time has passed', () => {
    const q = queue(1000);
    q.admit(6_000_000);
    q.admit(2_000_000, 0);
    q.settle(6_000_000);
    q.admit(4_000_000); // 2 s queued
    expect(q.admit(1, 60_000)?.retryAfterMs).toBe(1000);
  });

  it('refuses when it holds its maximum of requests, however small', () => {
    const q = queue(1000, 2);
    q.admit(1);
    q.admit(1);
    expect(q.admit(1)).toMatchObject({ retryAfterMs: 0 });
    q.release();
    expect(q.admit(1)).toBeUndefined();
  });

  it('learns the draw rate the pool achieves from the parts it measures', () => {
    const q = queue(1e6);
    q.admit(2e8);
    q.admit(4e8);
    expect(q.queuedMs).toBeCloseTo(3e5);
    // The threads turn out twice as fast: 2,000 draws/ms each.
    for (let i = 0; i < 20; i++) q.settle(1e7, 5000);
    expect(q.queuedMs).toBeGreaterThan(1e5);
    expect(q.queuedMs).toBeLessThan(1.005e5);
  });

  it('ignores parts too short to measure', () => {
    const q = queue(1000);
    q.admit(2_000_000);
    q.settle(1000, 0.001);
    expect(q.queuedMs).toBeCloseTo(999.5);
    // Nor small parts slowed by waiting for a core.
    q.settle(1_000_000, 100);
    expect(q.queuedMs).toBeCloseTo(499.5);
  });
});
