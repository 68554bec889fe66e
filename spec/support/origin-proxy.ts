import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';

// RFC 9110 §7.6.1: connection-specific fields are not forwarded (nor any field `Connection` names).
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A plain reverse proxy (node:http request forwarding, no dependency) to the origin at
 * `127.0.0.1:<port>`: it forwards the method, target and end-to-end request fields, and answers with
 * the origin's status, end-to-end response fields (field lines kept as sent, `Date`, `Age`, `Expires`
 * and `Cache-Control` included) and body bytes. Usable as a node:http request listener and as Express
 * middleware; an unreachable origin is answered 502.
 */
export function proxyTo(port: number): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const headers = endToEnd(req.rawHeaders);
    headers.host = `127.0.0.1:${port}`;
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: false },
      (response) => {
        res.statusCode = response.statusCode ?? 502;
        if (response.statusMessage !== undefined) res.statusMessage = response.statusMessage;
        for (const [name, value] of Object.entries(endToEnd(response.rawHeaders))) {
          if (value !== undefined) res.setHeader(name, value);
        }
        response.pipe(res);
        response.once('error', () => res.destroy());
      },
    );
    upstream.once('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 502;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('bad gateway');
    });
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    if (hasBody) req.pipe(upstream);
    else upstream.end();
  };
}

/** The end-to-end fields of raw header lines, by lower-case name, one value per field line. */
function endToEnd(rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const lines = new Map<string, string[]>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] as string).toLowerCase();
    const value = rawHeaders[index + 1] as string;
    const values = lines.get(name);
    if (values === undefined) lines.set(name, [value]);
    else values.push(value);
  }
  const named = new Set(
    (lines.get('connection') ?? []).flatMap((value) =>
      value.split(',').map((token) => token.trim().toLowerCase()),
    ),
  );
  const headers: OutgoingHttpHeaders = {};
  for (const [name, values] of lines) {
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    headers[name] = values.length === 1 ? values[0] : values;
  }
  return headers;
}
