import { type RedisProcess as RestartableRedis, spawnRedis } from '../spec/support/redis-server.js';

/**
 * The soak's one `redis-server`, started by the specs' launcher (from PATH, loopback only, no
 * persistence; no server outlives the process), with the faults it injects: a crash (SIGKILL,
 * then a new server on the same port, empty) and a stall (SIGSTOP/SIGCONT).
 */
export class RedisProcess {
  readonly port: number;
  readonly url: string;
  #server: RestartableRedis;
  #pausedPid: number | undefined;

  private constructor(server: RestartableRedis) {
    this.port = server.port;
    this.url = server.url;
    this.#server = server;
  }

  /** Starts a server on a free port and waits until it accepts connections. */
  static async start(): Promise<RedisProcess> {
    return new RedisProcess(await spawnRedis());
  }

  /** A crash: SIGKILL, so nothing is flushed or announced; resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.#server.stop();
    this.#pausedPid = undefined;
  }

  /** A new, empty server on the same port, as a supervisor would restart it. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#server.start();
  }

  /** A stall: the process stops, its connections stay open and nothing answers. */
  pause(): void {
    const pid = this.#server.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    this.#pausedPid = pid;
  }

  resume(): void {
    if (this.#pausedPid !== undefined) process.kill(this.#pausedPid, 'SIGCONT');
    this.#pausedPid = undefined;
  }

  async stop(): Promise<void> {
    this.resume();
    await this.#server.dispose();
  }
}
