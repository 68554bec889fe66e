import type { ServerResponse } from 'node:http';

/** Calls `callback` once, when `res` has finished or closed, whichever comes first. */
export function whenResponseDone(res: ServerResponse, callback: () => void): void {
  const done = () => {
    res.off('finish', done);
    res.off('close', done);
    callback();
  };
  res.on('finish', done);
  res.on('close', done);
}
