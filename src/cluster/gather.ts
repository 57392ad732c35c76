import cluster, { type Worker } from 'node:cluster';

/**
 * Gathering over the cluster's IPC channel: whichever worker serves GET
 * /metrics or /info asks the primary, the primary asks every live worker for
 * its report, and answers the asker with all of them and its own figures.
 *
 *   worker --gather{kind}--> primary --report{kind}--> each worker
 *   worker --reported--> primary --gathered{primary, workers}--> asking worker
 *
 * Only under our own primary: a worker of PM2's `-i` has no one to ask.
 */
export type ReportKind = 'metrics' | 'info';

export interface Gathered<R = unknown> {
  primary: { pid: number; restarts: number };
  workers: { id: number; pid: number; report: R }[];
}

/** Set by our primary in its workers' environment: whom to ask. */
const PRIMARY_ENV = 'LBS_PRIMARY_PID';
/** A worker slower than this to report is left out of the answer, not waited for. */
const REPORT_TIMEOUT_MS = 1_000;

const GATHER = 'lbs:gather';
const REPORT = 'lbs:report';
const REPORTED = 'lbs:reported';
const GATHERED = 'lbs:gathered';

interface Message {
  type: string;
  id: number;
  kind?: ReportKind;
  report?: unknown;
  error?: string;
  gathered?: Gathered;
}

/** Other traffic on the channel (PM2's, prom-client's, `'ready'`) is not ours. */
function isMessage(message: unknown, type: string): message is Message {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Message).type === type
  );
}

/** The environment our primary gives its workers. */
export const primaryEnv = (): Record<string, string> => ({
  [PRIMARY_ENV]: String(process.pid),
});

/** Whether this process is a worker of our own primary, which answers gathers. */
export const underOurPrimary = (): boolean =>
  cluster.isWorker && process.env[PRIMARY_ENV] === String(process.ppid);

/** In the primary: answers every worker's gather. */
export function serveGathers(
  liveWorkers: () => Worker[],
  restarts: () => number,
): void {
  let lastId = 0;
  const waiting = new Map<number, (reply: Message) => void>();
  cluster.on('message', (worker, message: unknown) => {
    if (isMessage(message, REPORTED)) {
      waiting.get(message.id)?.(message);
      return;
    }
    if (!isMessage(message, GATHER) || !message.kind) return;
    const { id: askId, kind } = message;
    const workers = liveWorkers().filter((one) => one.isConnected());
    void Promise.all(
      workers.map(async (one) => {
        const id = ++lastId;
        const reply = await new Promise<Message | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), REPORT_TIMEOUT_MS);
          waiting.set(id, (answer) => {
            clearTimeout(timer);
            resolve(answer);
          });
          one.send({ type: REPORT, id, kind } satisfies Message, (error) => {
            if (error) resolve(undefined);
          });
        });
        waiting.delete(id);
        return reply?.error === undefined && reply?.report !== undefined
          ? { id: one.id, pid: one.process.pid ?? 0, report: reply.report }
          : undefined;
      }),
    ).then((reports) => {
      const gathered: Gathered = {
        primary: { pid: process.pid, restarts: restarts() },
        workers: reports.filter((report) => report !== undefined),
      };
      if (worker.isConnected())
        worker.send({ type: GATHERED, id: askId, gathered } satisfies Message);
    });
  });
}

/** In a worker: how to answer the primary's report requests. */
export function answerReports(
  reporters: Record<ReportKind, () => unknown>,
): void {
  process.on('message', (message: unknown) => {
    if (!isMessage(message, REPORT) || !message.kind) return;
    const { id, kind } = message;
    Promise.resolve()
      .then(() => reporters[kind]())
      .then(
        (report) => process.send?.({ type: REPORTED, id, report }),
        (error: Error) =>
          process.send?.({ type: REPORTED, id, error: error.message }),
      );
  });
}

let lastAsk = 0;

/** In a worker of ours: every live worker's report of `kind`, through the primary. */
export function gather<R>(
  kind: ReportKind,
  timeoutMs = 3_000,
): Promise<Gathered<R>> {
  const id = ++lastAsk;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isMessage(message, GATHERED) || message.id !== id) return;
      done();
      resolve(message.gathered as Gathered<R>);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the primary did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send?.({ type: GATHER, id, kind } satisfies Message);
  });
}
