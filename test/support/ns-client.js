// A client that runs inside a network namespace of the lab (`ip netns exec NS node this.js`),
// so that nginx sees it at its own address: sends COUNT GETs to URL, CONCURRENCY at a time,
// each connection pausing PAUSE_MS between requests, and prints what came back as JSON.
//   node test/support/ns-client.js URL COUNT CONCURRENCY PAUSE_MS
// Before the first, one uncounted GET of nginx's own /nginx-health on the same host: a new
// process's first fetch loads undici and compiles its HTTP parser (tens of ms, hundreds on
// two busy cores), which the latencies are not about.
const [url, count, concurrency, pauseMs] = process.argv.slice(2);
const result = {
  statuses: {},
  retryAfter: [],
  latenciesMs: [],
  errors: 0,
  sample429: null,
};
let left = Number(count);

async function connection() {
  while (left-- > 0) {
    const started = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      result.latenciesMs.push(performance.now() - started);
      result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
      if (res.status === 429) {
        result.retryAfter.push(res.headers.get('retry-after'));
        result.sample429 ??= body;
      }
    } catch {
      result.errors++;
    }
    await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
  }
}

await (await fetch(new URL('/nginx-health', url))).text();
await Promise.all(Array.from({ length: Number(concurrency) }, connection));
process.stdout.write(JSON.stringify(result));
