import { Agent, request } from 'node:http';

/** What came back from one request. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// As a load balancer keeps connections to its upstreams open.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP request to an instance, with a fixed `Host` as a load balancer that preserves it would send:
 * the response cache keys on the host, so both instances then share one entry per URL. Rejects on a
 * connection error or after `timeoutMs`.
 */
export function httpCall(
  url: string,
  method: 'GET' | 'PUT',
  host: string,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
      res.once('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.once('error', fail);
    req.end();
  });
}

/** Closes the kept-alive connections, so the driver can exit. */
export function closeConnections(): void {
  agent.destroy();
}
