/** The data source refused or could not be reached: the failure the soak injects on purpose. */
export class DataSourceError extends Error {
  override readonly name = 'DataSourceError';
}

/** A product as the data source stores it. */
export interface Product {
  id: number;
  version: number;
}

/** Reads and writes products in the driver's data source, as an app's repository would. */
export class DataSourceClient {
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  read(id: string): Promise<Product> {
    return this.#call('GET', id);
  }

  /** Writes a new version of the product; resolves with the version written. */
  write(id: string): Promise<Product> {
    return this.#call('PUT', id);
  }

  async #call(method: 'GET' | 'PUT', id: string): Promise<Product> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}/products/${encodeURIComponent(id)}`, {
        method,
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      throw new DataSourceError(`data source unreachable: ${String(error)}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DataSourceError(`data source answered ${response.status} to ${method}`);
    }
    return (await response.json()) as Product;
  }
}
