import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the data source did during the run. */
export interface DataSourceCounters {
  reads: number;
  writes: number;
  /** Requests answered 503 while failing. */
  refused: number;
}

/**
 * The "database" both app instances share: products with a version number that each write bumps,
 * served over HTTP on loopback with a random latency. It lives in the driver's process because
 * the two instances must see one truth, and the oracle must know every version it handed out.
 */
export class DataSource {
  readonly #versions: number[];
  readonly #latencyMs: { min: number; max: number };
  readonly #server: Server;
  readonly counters: DataSourceCounters = { reads: 0, writes: 0, refused: 0 };
  #failing = false;
  #url = '';

  constructor(products: number, latencyMs: { min: number; max: number }) {
    this.#versions = new Array<number>(products + 1).fill(1);
    this.#latencyMs = latencyMs;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    return this.#url;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** While failing, every read and write is answered 503 after the usual latency. */
  setFailing(failing: boolean): void {
    this.#failing = failing;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = Number(/^\/products\/(\d+)$/.exec(req.url ?? '')?.[1]);
    if (!Number.isInteger(id) || id < 1 || id >= this.#versions.length) {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    if (req.method === 'GET') {
      // The row is read when the query arrives and travels back afterwards: a reader can hold an
      // old version while a write commits, as with a real database.
      const version = this.#versions[id] as number;
      const refused = this.#failing;
      await this.#latency();
      this.#answer(res, refused, 'reads', { id, version });
    } else if (req.method === 'PUT') {
      const refused = this.#failing;
      await this.#latency();
      if (!refused) this.#versions[id] = (this.#versions[id] as number) + 1;
      this.#answer(res, refused, 'writes', { id, version: this.#versions[id] as number });
    } else {
      res.writeHead(405).end();
    }
  }

  #answer(res: ServerResponse, refused: boolean, counter: 'reads' | 'writes', product: object): void {
    if (refused) {
      this.counters.refused += 1;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"data source unavailable"}');
      return;
    }
    this.counters[counter] += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(product));
  }

  #latency(): Promise<void> {
    const { min, max } = this.#latencyMs;
    return new Promise((resolve) => setTimeout(resolve, min + Math.random() * (max - min)));
  }
}
