// Bounds for a busy machine: deadlines that tell a hang from slowness, never speed limits.

/**
 * How long a spec waits for a process it starts (redis-server, a Redis Cluster, a sentinel,
 * Prometheus, a forked app worker) to be ready before calling it hung. It bounds a hang, not
 * start-up speed: on a busy machine (other test runs, CPU-bound neighbours) a start that takes
 * 100 ms when idle can take many seconds, and that is no failure of the code under test.
 */
export const START_UP_DEADLINE_MS = 60_000;

/**
 * Mocha timeout of a hook that starts such processes: above {@link START_UP_DEADLINE_MS}, so that
 * a hung start fails with the deadline's own message (what was waited for) rather than mocha's.
 */
export const START_UP_HOOK_TIMEOUT_MS = 2 * START_UP_DEADLINE_MS;

/**
 * `redisTimeoutMs` for specs that are not about Redis timeouts: a busy machine can take longer
 * than the default 200 ms to answer a healthy Redis call, and such a spec must not see that as a
 * failed call (a miss, an error counted, another command sent, a circuit opened).
 */
export const PATIENT_REDIS_TIMEOUT_MS = 5_000;

/**
 * Mocha timeout of a spec that makes hundreds of requests or property runs: the time they take
 * grows with the machine's load (several times over on a busy one). It bounds a hang, not speed.
 */
export const MANY_RUNS_TIMEOUT_MS = 120_000;
