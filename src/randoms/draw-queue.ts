export interface DrawQueueOptions {
  /** Longest the work already queued may take to finish before requests are refused. */
  maxQueueMs: number;
  /** Most requests held at once, whatever their size: the bound on memory. */
  maxHeld: number;
  /** Threads that draw in parallel. */
  threads: number;
  /** Draws per millisecond of one thread, until the pool has measured its own. */
  drawsPerMs: number;
}

export interface Refusal {
  /** What the work already queued will take to finish, in ms. */
  queuedMs: number;
  /** When the queue is expected to have room for this request, in ms from now. */
  retryAfterMs: number;
}

/** How much a new measurement moves the draw rate: a few jobs, not one, decide it. */
const RATE_WEIGHT = 0.25;
/**
 * Parts smaller than this say more about scheduling than about drawing: under a
 * flood of small requests their time is mostly waiting for a core, and the rate
 * they suggest is far below what the pool draws, which would refuse requests
 * the cores could take.
 */
const MIN_MEASURED_DRAWS = 10_000_000;

/**
 * Admission by work, not by request count: a request is refused only when the
 * draws already admitted would take the pool longer than `maxQueueMs` to
 * finish, at the rate the pool measures itself achieving on this machine; so
 * any number of small requests are taken while the cores keep up.
 *
 * A refused request is told when the queue will have room for it: when the
 * queued work has drained to the bound, and after the requests refused before
 * it have come back and taken their share of that room. Told in turn, clients
 * that follow Retry-After come back spread out rather than all at once.
 */
export class DrawQueue {
  private queuedDraws = 0;
  private held = 0;
  private drawsPerMs: number;
  /** The time up to which the room that opens has been promised to refused requests. */
  private promisedUntil = 0;

  constructor(private readonly options: DrawQueueOptions) {
    this.drawsPerMs = options.drawsPerMs;
  }

  /** Expected ms until the pool has finished every draw admitted so far. */
  get queuedMs(): number {
    return this.queuedDraws / this.poolDrawsPerMs;
  }

  get heldRequests(): number {
    return this.held;
  }

  private get poolDrawsPerMs(): number {
    return this.drawsPerMs * this.options.threads;
  }

  /** Takes a request of `n` draws in (undefined), or says why not and when to come back. */
  admit(n: number, now = performance.now()): Refusal | undefined {
    const queuedMs = this.queuedMs;
    if (
      queuedMs <= this.options.maxQueueMs &&
      this.held < this.options.maxHeld
    ) {
      this.queuedDraws += n;
      this.held++;
      return undefined;
    }
    const roomAt = Math.max(
      now + Math.max(0, queuedMs - this.options.maxQueueMs),
      this.promisedUntil,
    );
    this.promisedUntil = roomAt + n / this.poolDrawsPerMs;
    return { queuedMs, retryAfterMs: roomAt - now };
  }

  /** `draws` of an admitted request are done (or will never be drawn); `ms` is what drawing them took, when measured. */
  settle(draws: number, ms?: number): void {
    this.queuedDraws = Math.max(0, this.queuedDraws - draws);
    if (ms !== undefined && ms > 0 && draws >= MIN_MEASURED_DRAWS) {
      this.drawsPerMs += RATE_WEIGHT * (draws / ms - this.drawsPerMs);
    }
  }

  /** An admitted request has ended, its draws all settled. */
  release(): void {
    this.held = Math.max(0, this.held - 1);
  }
}
