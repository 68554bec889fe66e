import { Writable } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import winston, { type Logger } from 'winston';
import { createCache } from '../../../src/create-cache.js';
import { LevelGate } from '../../../src/observability/level-gate.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { RecordingLogger } from '../../support/recording-logger.js';

describe('LevelGate (what the cache asks winston before logging)', () => {
  afterEach(() => sinon.restore());

  it('asks winston once per level while nothing that decides the answer changes', () => {
    const asked = sinon.spy(winston.Logger.prototype, 'isLevelEnabled');
    const { logger } = new RecordingLogger('info');
    const gate = new LevelGate(logger);
    const answers = Array.from({ length: 5 }, () => [gate.enabled('debug'), gate.enabled('warn')]);

    expect(answers).to.deep.equal(Array.from({ length: 5 }, () => [false, true]));
    expect(asked.callCount).to.equal(2);
  });

  it("sees the logger's level changed at run time", () => {
    const { logger } = new RecordingLogger('info');
    const gate = new LevelGate(logger);
    expect(gate.enabled('debug')).to.equal(false);
    logger.level = 'debug';
    expect(gate.enabled('debug')).to.equal(true);
    logger.level = 'warn';
    expect(gate.enabled('info')).to.equal(false);
  });

  it("sees a transport's level changed, a transport added or removed, and configure()", () => {
    const logger = winston.createLogger({ level: 'silly', transports: [quietTransport('warn')] });
    const gate = new LevelGate(logger);
    expect(gate.enabled('debug')).to.equal(false);

    const [only] = logger.transports;
    if (only === undefined) throw new Error('the logger has its transport');
    only.level = 'debug';
    expect(gate.enabled('debug')).to.equal(true);

    only.level = 'warn';
    const verbose = quietTransport('silly');
    logger.add(verbose);
    expect(gate.enabled('debug')).to.equal(true);
    logger.remove(verbose);
    expect(gate.enabled('debug')).to.equal(false);

    logger.configure({ level: 'silly', transports: [quietTransport('silly')] });
    expect(gate.enabled('debug')).to.equal(true);
  });

  it('asks every time a logger whose isLevelEnabled is its own (deciding per request, say)', () => {
    const { logger } = new RecordingLogger('info');
    let debugThisRequest = false;
    const winstonAnswer = logger.isLevelEnabled.bind(logger);
    logger.isLevelEnabled = (level: string) =>
      (debugThisRequest && level === 'debug') || winstonAnswer(level);
    const gate = new LevelGate(logger);
    expect(gate.enabled('debug')).to.equal(false);
    debugThisRequest = true;
    expect(gate.enabled('debug')).to.equal(true);
  });

  it('sees a custom levels object changed in place', () => {
    const levels: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3 };
    const logger = winston.createLogger({ levels, level: 'warn', transports: [quietTransport('warn')] });
    const gate = new LevelGate(logger);
    expect(gate.enabled('http')).to.equal(false);
    levels.http = 1;
    expect(gate.enabled('http')).to.equal(true);
    levels.http = 3;
    levels.warn = 3;
    expect(gate.enabled('http')).to.equal(true);
  });

  it('asks every time a logger that has no transports list to watch', () => {
    const isLevelEnabled = sinon.stub().returns(true);
    const gate = new LevelGate({ isLevelEnabled } as unknown as Logger);
    gate.enabled('debug');
    gate.enabled('debug');
    expect(isLevelEnabled.callCount).to.equal(2);
  });

  it("logs a cache's lookups at debug from the moment the level is lowered at run time", async () => {
    const recording = new RecordingLogger('info');
    const cache = createCache({
      store: new MemoryStore(),
      prefix: 'shop:',
      registry: false,
      logger: recording.logger,
    });
    await cache.get('a', () => 'v');
    expect(recording.withMessage('cache lookup')).to.have.lengthOf(0);

    recording.logger.level = 'debug';
    await cache.get('a', () => 'v');
    expect(recording.withMessage('cache lookup')).to.have.lengthOf(1);
    await cache.close();
  });
});

/** A transport at `level` that drops what it gets. */
function quietTransport(level: string): winston.transport {
  return new winston.transports.Stream({
    level,
    stream: new Writable({ objectMode: true, write: (_chunk, _encoding, done) => done() }),
  });
}
