import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { type CaptureOutcome, captureResponse } from '../../../src/http/capture-response.js';
import { rawBytes } from './http-spec-helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Runs `handler` behind a capture on a raw Node server, and returns the capture and the response. */
async function capture(
  handler: Handler,
  options: { maxBodyBytes?: number; inherit?: (res: ServerResponse) => void; storable?: boolean } = {},
) {
  let outcome: Promise<CaptureOutcome> | undefined;
  const server = http.createServer((req, res) => {
    options.inherit?.(res);
    outcome = captureResponse(res, {
      maxBodyBytes: options.maxBodyBytes ?? 1024,
      decide: () => (options.storable === false ? 'status' : undefined),
      inherited: res.getHeaders(),
    });
    handler(req, res);
  });
  const response = await request(server).get('/').buffer(true).parse(rawBytes);
  return { response, outcome: await (outcome as Promise<CaptureOutcome>) };
}

describe('captureResponse', () => {
  it('settles, storing nothing, when a written chunk is detached before end (the handler transferred its memory)', async () => {
    let endThrew = false;
    const { response, outcome } = await capture((_req, res) => {
      const chunk = new Uint8Array(64).fill(97);
      res.write(chunk);
      setImmediate(() => {
        // Handed to a worker, say: the bytes the capture holds a view of are gone.
        structuredClone(chunk.buffer, { transfer: [chunk.buffer] });
        try {
          res.end();
        } catch {
          endThrew = true;
        }
      });
    });
    expect(response.status).to.equal(200);
    expect(outcome).to.deep.equal({ reason: 'aborted' });
    expect(endThrew).to.equal(false);
  });

  it('takes the status and headers given to writeHead(status, message, headers)', async () => {
    const { response, outcome } = await capture((_req, res) => {
      res.writeHead(201, 'Made', { 'Content-Type': 'text/plain', 'X-Two': ['a', 'b'] });
      res.end('done');
    });
    expect(response.status).to.equal(201);
    expect(outcome.captured?.status).to.equal(201);
    expect(outcome.captured?.headers).to.deep.equal([
      ['Content-Type', 'text/plain'],
      ['X-Two', ['a', 'b']],
    ]);
    expect(outcome.captured?.body.toString()).to.equal('done');
  });

  it('takes headers given as writeHead(status, undefined, headers), as Node does', async () => {
    const { response, outcome } = await capture((_req, res) => {
      (res.writeHead as (status: number, reason: undefined, headers: object) => ServerResponse)(
        200,
        undefined,
        {
          'Cache-Control': 'private',
        },
      );
      res.end('mine');
    });
    expect(response.headers['cache-control']).to.equal('private');
    expect(outcome.captured?.headers).to.deep.equal([['Cache-Control', 'private']]);
  });

  it('takes headers given to writeHead as a flat or nested list', async () => {
    const flat = await capture((_req, res) => {
      res.writeHead(200, ['X-A', '1', 'X-A', '2']);
      res.end();
    });
    expect(flat.response.headers['x-a']).to.equal('1, 2');
    expect(flat.outcome.captured?.headers).to.deep.equal([['X-A', ['1', '2']]]);
    const nested = await capture((_req, res) => {
      (res.writeHead as (status: number, headers: string[][]) => ServerResponse)(200, [['X-B', '3']]);
      res.end();
    });
    expect(nested.outcome.captured?.headers).to.deep.equal([['X-B', '3']]);
  });

  it('keeps the bytes of every chunk form: strings in their encodings, Buffers and Uint8Arrays', async () => {
    const { response, outcome } = await capture((_req, res) => {
      res.write('é');
      res.write('ff00', 'hex');
      res.write(Uint8Array.from([1, 2]));
      res.write(Buffer.from('|'), () => {});
      res.end('AQ==', 'base64');
    });
    const expected = Buffer.concat([
      Buffer.from('é'),
      Buffer.from([0xff, 0, 1, 2]),
      Buffer.from('|'),
      Buffer.from([1]),
    ]);
    expect((response.body as Buffer).equals(expected)).to.equal(true);
    expect(outcome.captured?.body.equals(expected)).to.equal(true);
  });

  it('keeps a small body in memory of its own size, not in a slice of a shared pool', async () => {
    // The in-process tier holds this body: a slice of Node's 8 KiB pool would keep the whole pool alive.
    const { outcome } = await capture((_req, res) => {
      res.write('{"a":');
      res.end('1}');
    });
    const body = outcome.captured?.body as Buffer;
    expect(body.toString()).to.equal('{"a":1}');
    expect(body.buffer.byteLength).to.equal(body.length);
  });

  it('passes write’s backpressure signal through', async () => {
    const signals: boolean[] = [];
    await capture(
      (_req, res) => {
        signals.push(res.write(Buffer.alloc(4 * 1024 * 1024)));
        res.once('drain', () => {
          signals.push(res.write('x'));
          res.end();
        });
      },
      { maxBodyBytes: 8 * 1024 * 1024 },
    );
    expect(signals).to.deep.equal([false, true]);
  });

  it('drops a body over the limit from memory but sends it whole', async () => {
    const { response, outcome } = await capture(
      (_req, res) => {
        for (let index = 0; index < 4; index++) res.write(Buffer.alloc(400, 0x61));
        res.end();
      },
      { maxBodyBytes: 1000 },
    );
    expect(response.body).to.have.length(1600);
    expect(outcome).to.deep.equal({ reason: 'too-large' });
  });

  it('stops at header time when the response may not be stored', async () => {
    const { outcome } = await capture((_req, res) => res.end('x'), { storable: false });
    expect(outcome).to.deep.equal({ reason: 'status' });
  });

  it('leaves out headers set before the handler unless it changed them, and hop-by-hop headers', async () => {
    const { outcome } = await capture(
      (_req, res) => {
        res.setHeader('X-Changed', 'by handler');
        res.setHeader('Connection', 'keep-alive, X-Hop');
        res.setHeader('X-Hop', '1');
        res.setHeader('Keep-Alive', 'timeout=5');
        res.setHeader('Content-Length', '2');
        res.end('ok');
      },
      {
        inherit: (res) => {
          res.setHeader('X-Request-Id', 'r1');
          res.setHeader('X-Changed', 'before');
        },
      },
    );
    expect(outcome.captured?.headers).to.deep.equal([['X-Changed', 'by handler']]);
  });

  it('records a header set before the handler that the handler removed, so a hit removes it too', async () => {
    const { outcome } = await capture(
      (_req, res) => {
        res.removeHeader('X-Powered-By');
        res.end('ok');
      },
      { inherit: (res) => res.setHeader('X-Powered-By', 'Express') },
    );
    expect(outcome.captured?.headers).to.deep.equal([['x-powered-by', []]]);
  });

  it('passes a second end to Node untouched and keeps the first response', async () => {
    const { response, outcome } = await capture((_req, res) => {
      res.end('first');
      res.end();
    });
    expect((response.body as Buffer).toString()).to.equal('first');
    expect(outcome.captured?.body.toString()).to.equal('first');
  });

  it('resolves as aborted when the response closes before it ends', async () => {
    let outcome: Promise<CaptureOutcome> | undefined;
    const server = http.createServer((_req, res) => {
      outcome = captureResponse(res, { maxBodyBytes: 10, decide: () => undefined, inherited: {} });
      res.write('partial');
      res.destroy();
    });
    server.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        http
          .get({ host: '127.0.0.1', port })
          .on('error', () => resolve())
          .on('response', (res) => {
            res
              .on('error', () => resolve())
              .on('close', () => resolve())
              .resume();
          });
      });
      expect(await outcome).to.deep.equal({ reason: 'aborted' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
