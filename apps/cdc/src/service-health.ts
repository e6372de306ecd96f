import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How `cdc start` knows a service is ready: it gives each service its ops port (a free one when
 * the setting is 0, so the port is known without reading the service's logs, whatever their
 * level) and polls that port's /healthz until it answers 200.
 */

/** `port`, or a free port of this host when it is 0. */
export async function resolvePort(port: number): Promise<number> {
  if (port !== 0) return port;
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as net.AddressInfo;
      server.close(() => resolve(free));
    });
  });
}

/** Polls `url` until it answers 200: true, or false once `signal` aborts. */
export async function untilHealthy(url: string, signal: AbortSignal, intervalMs = 250): Promise<boolean> {
  while (!signal.aborted) {
    try {
      // Each poll ends by itself within 2 s; the loop checks `signal` between polls.
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch {
      // not listening yet, or not answering: the next poll tells
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
