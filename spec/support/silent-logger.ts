import winston from 'winston';

/**
 * A winston logger that writes nothing: specs that provoke failures on purpose stay quiet. One
 * instance serves every spec (it holds no state a spec could observe); a spec that asserts on
 * logs uses a recording logger instead.
 */
export const silentLogger = winston.createLogger({ silent: true });
