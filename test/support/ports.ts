import { createServer } from 'node:net';
import { waitFor } from './wait.js';

/** The fixed ports of the shipped topology, as the nginx files are rendered with them. */
export {
  NODE_CLUSTER_PORT,
  SINGLE_PORT,
  UPSTREAM_PORTS,
} from '../../scripts/nginx/sites.js';
/** ecosystem.config.cjs's api-pm2-cluster: PM2's own cluster mode. */
export const PM2_CLUSTER_PORT = 8086;

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // No host: [::] dual-stack, as the servers bind, so any holder of the port conflicts.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * The scenarios use the fixed ports above. Other suites (or a developer's own
 * servers) may hold them for a while: wait, bounded.
 */
export async function waitForFreePorts(
  ports: number[],
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    async () => (await Promise.all(ports.map(portIsFree))).every(Boolean),
    {
      timeoutMs,
      intervalMs: 250,
      what: `ports ${ports.join(', ')} to be free`,
    },
  );
}
