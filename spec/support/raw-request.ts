import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';

/** A response as the client received it. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Sends `GET path` to `server` (or to that port on 127.0.0.1) exactly as given: the request target is
 * not normalised (a `#fragment`, encoded or repeated names reach the server as written) and `headers`
 * may name any `Host`, as a load balancer in front of several instances does.
 */
export function rawGet(
  server: Server | number,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<RawResponse> {
  const port = typeof server === 'number' ? server : portOf(server);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method: 'GET', path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
  return address.port;
}
