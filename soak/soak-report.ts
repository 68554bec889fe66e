import type { AnnouncementDelays } from './announcement-delays.js';
import type { FailureAudit } from './failure-audit.js';
import type { InstanceReport } from './instance-protocol.js';
import type { FaultRecord, GetRecord, PutRecord } from './soak-records.js';
import type { SoakSettings } from './soak-settings.js';
import { type Spread, spreadOf } from './statistics.js';
import type { OracleVerdict } from './version-oracle.js';

/** Everything a run found: what is printed, and written as JSON. */
export interface SoakResult {
  passed: boolean;
  settings: SoakSettings;
  environment: { node: string; redis: string; code: string; startedAt: string };
  loadSeconds: number;
  requests: {
    gets: number;
    puts: number;
    /** Requests the driver could not send on time (its own event loop stalled). */
    skippedByDriver: number;
    byTarget: Record<string, TargetFigures>;
  };
  puts: { acknowledged: number; notAcknowledged: number; refusedByDataSource: number; failed: number };
  failures: Omit<FailureAudit, 'failed'> & { failed: number; samples: (GetRecord | PutRecord)[] };
  oracle: Omit<OracleVerdict, 'violations'> & { violations: number; samples: OracleVerdict['violations'] };
  /** Invalidation announcements as a third process (the driver) heard them. */
  announcements: AnnouncementDelays & { subscriber: SubscriberCounters };
  faults: FaultRecord[];
  dataSource: { reads: number; writes: number; refused: number };
  instances: InstanceReport[];
}

/** GETs of one instance and route. */
interface TargetFigures {
  requests: number;
  /** Without a 200 and a version: failed, or refused by the failing data source with nothing cached. */
  unanswered: number;
  /** By `X-Cache`: HIT, MISS, STALE. */
  cache: Record<string, number>;
  latencyMs: Spread;
}

/** How the driver's subscriber fared through the faults. */
interface SubscriberCounters {
  reconnections: number;
  connectionErrors: number;
  /** Messages on the channel that were not announcements. */
  unreadable: number;
}

const SAMPLES = 50;

/** Puts the figures of a run together; `passed` needs no failed request and no violation. */
export function buildResult(parts: {
  settings: SoakSettings;
  environment: SoakResult['environment'];
  loadSeconds: number;
  gets: readonly GetRecord[];
  puts: readonly PutRecord[];
  skippedByDriver: number;
  audit: FailureAudit;
  verdict: OracleVerdict;
  announcements: SoakResult['announcements'];
  faults: FaultRecord[];
  dataSource: SoakResult['dataSource'];
  instances: InstanceReport[];
}): SoakResult {
  const { gets, puts, audit, verdict } = parts;
  const byTarget: Record<string, TargetFigures> = {};
  const targets = new Map<string, GetRecord[]>();
  for (const get of gets) {
    const target = `${get.instance} ${get.route}`;
    const list = targets.get(target) ?? [];
    list.push(get);
    targets.set(target, list);
  }
  for (const [target, targetGets] of [...targets].sort(([a], [b]) => a.localeCompare(b))) {
    const cache: Record<string, number> = {};
    for (const get of targetGets) if (get.cache !== undefined) cache[get.cache] = (cache[get.cache] ?? 0) + 1;
    byTarget[target] = {
      requests: targetGets.length,
      unanswered: targetGets.filter((get) => get.failure !== undefined).length,
      cache,
      latencyMs: spreadOf(targetGets.map((get) => get.endMs - get.startMs)),
    };
  }
  const { violations, ...oracle } = verdict;
  const { failed, ...failures } = audit;
  return {
    passed: failed.length === 0 && violations.length === 0,
    settings: parts.settings,
    environment: parts.environment,
    loadSeconds: parts.loadSeconds,
    requests: { gets: gets.length, puts: puts.length, skippedByDriver: parts.skippedByDriver, byTarget },
    puts: {
      acknowledged: puts.filter((put) => put.acknowledged).length,
      notAcknowledged: puts.filter((put) => !put.acknowledged && put.failure === undefined).length,
      refusedByDataSource: audit.writesRefusedByDataSource,
      failed: puts.filter((put) => put.failure !== undefined && put.failure !== 'data-source').length,
    },
    failures: { ...failures, failed: failed.length, samples: failed.slice(0, SAMPLES) },
    oracle: { ...oracle, violations: violations.length, samples: violations.slice(0, SAMPLES) },
    announcements: parts.announcements,
    faults: parts.faults,
    dataSource: parts.dataSource,
    instances: parts.instances,
  };
}

/** The report for a person: what ran, what failed, what the oracle found. */
export function renderText(result: SoakResult): string {
  const { requests, puts, failures, oracle, settings } = result;
  const lines = [
    `soak: ${result.loadSeconds} s of load, ${settings.getsPerSecond} GET/s and ${settings.putsPerSecond} PUT/s over ${settings.products} products, two instances (tiered: memoryTier.ttlMs ${settings.memoryTierTtlMs}; plain: none), one Redis ${result.environment.redis}; code ${result.environment.code}, Node ${result.environment.node}`,
    '',
    'faults (seconds since the run began):',
    ...result.faults.map(
      (fault) => `  ${fault.kind.padEnd(20)} ${seconds(fault.startMs)} → ${seconds(fault.endMs)}`,
    ),
    '',
    `requests: ${requests.gets + requests.puts} (${requests.gets} GET, ${requests.puts} PUT)${requests.skippedByDriver > 0 ? `; ${requests.skippedByDriver} not sent: the driver fell behind` : ''}`,
    ...Object.entries(requests.byTarget).map(
      ([target, figures]) =>
        `  ${target.padEnd(14)} ${String(figures.requests).padStart(7)} GET, ${figures.unanswered} without a version, ${cacheMix(figures.cache)}; latency p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, max ${figures.latencyMs.max} ms`,
    ),
    `PUTs: ${puts.acknowledged} acknowledged, ${puts.notAcknowledged} not acknowledged (invalidateTags rejected: not counted by the oracle), ${puts.refusedByDataSource} refused by the failing data source, ${puts.failed} failed`,
    '',
    `failed requests: ${failures.failed}`,
    `  GETs refused while the data source was down, with nothing cached that could be served: ${failures.nothingCachedToServe} (not counted as failed; see soak/README.md)`,
    `  GETs refused while the data source was down, by an instance that could not read Redis for them either (Redis failing, or its invalidations waiting to be replayed): ${failures.redisUnreadable} (not counted as failed)`,
    ...failures.samples.slice(0, 10).map((record) => `  e.g. ${JSON.stringify(record)}`),
    '',
    `version oracle: ${oracle.readsChecked} reads checked, ${oracle.readsAfterAnAck} began after an acknowledged write of their product`,
    `  violations (older than an acknowledged invalidation, beyond the tier bound): ${oracle.violations}`,
    ...oracle.samples.slice(0, 10).map((violation) => `  e.g. ${JSON.stringify(violation)}`),
    `  old reads within the tier bound (tiered instance, ≤ ${settings.memoryTierTtlMs} ms after the ack): ${oracle.withinTierBound.count}${oracle.withinTierBound.count === 0 ? '' : `, begun ${spreadText(oracle.withinTierBound.msSinceAck)} after the ack (${oracle.withinTierBound.afterOwnWrite} after a write through the tiered instance itself)`}`,
    `  announcement bound measured (per invalidation, the last old read on the tiered instance): ${oracle.announcementBoundMs.count === 0 ? 'no old read there at all' : `${spreadText(oracle.announcementBoundMs)} after the ack, over ${oracle.announcementBoundMs.count} invalidations`}`,
    '',
    ...announcementLines(result.announcements),
    '',
    ...result.instances.map(
      (instance) =>
        `instance ${instance.name}: circuit opened ${instance.circuitOpened}×, cache failures ${JSON.stringify(instance.cacheFailures)}, app errors ${JSON.stringify(instance.appErrors)}`,
    ),
    `data source: ${result.dataSource.reads} reads, ${result.dataSource.writes} writes, ${result.dataSource.refused} refused`,
    '',
    result.passed
      ? 'PASS: 0 failed requests and 0 reads older than an acknowledged invalidation beyond the tier bound'
      : `FAIL: ${failures.failed} failed requests, ${oracle.violations} violations`,
  ];
  return lines.join('\n');
}

/** The figures as a Markdown table, for the README. */
export function renderMarkdown(result: SoakResult): string {
  const { requests, puts, failures, oracle, settings } = result;
  const kinds = (kind: FaultRecord['kind']) => result.faults.filter((fault) => fault.kind === kind).length;
  const rows: [string, string][] = [
    ['Code', `${result.environment.code}, Node ${result.environment.node}`],
    [
      'Load',
      `${result.loadSeconds} s, ${settings.getsPerSecond} GET/s + ${settings.putsPerSecond} PUT/s, ${settings.products} products`,
    ],
    [
      'Instances',
      `2 (one with \`memoryTier.ttlMs: ${settings.memoryTierTtlMs}\`, one without), one Redis ${result.environment.redis}`,
    ],
    [
      'Faults',
      `Redis killed ${kinds('redis-kill')}×, paused ${kinds('redis-pause')}×, data source failing ${kinds('data-source-failure')}×`,
    ],
    ['Requests', `${requests.gets + requests.puts} (${requests.gets} GET, ${requests.puts} PUT)`],
    ['Failed requests', String(failures.failed)],
    ['GETs with nothing cached while the data source was down', String(failures.nothingCachedToServe)],
    [
      'GETs while the data source was down and Redis unreadable from their instance',
      String(failures.redisUnreadable),
    ],
    [
      'PUTs acknowledged / not acknowledged / refused by the data source',
      `${puts.acknowledged} / ${puts.notAcknowledged} / ${puts.refusedByDataSource}`,
    ],
    ['Reads older than an acknowledged invalidation, beyond the tier bound', String(oracle.violations)],
    [
      `Old reads within the tier bound (${settings.memoryTierTtlMs} ms), begun after the ack`,
      oracle.withinTierBound.count === 0
        ? '0'
        : `${oracle.withinTierBound.count}: ${spreadText(oracle.withinTierBound.msSinceAck)}`,
    ],
    [
      'Announcement bound measured (last old read on the tiered instance after an ack)',
      oracle.announcementBoundMs.count === 0 ? 'no old read at all' : spreadText(oracle.announcementBoundMs),
    ],
    ...announcementRows(result.announcements),
  ];
  return [
    '| Measure | Value |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
  ].join('\n');
}

function announcementLines(announcements: SoakResult['announcements']): string[] {
  const { subscriber } = announcements;
  if (announcements.acknowledgedPuts === 0)
    return ['announcements: not measured (no acknowledged invalidation)'];
  const notHeardAt = announcements.notHeardSamples.slice(0, 10).map((put) => seconds(put.endMs));
  return [
    "announcements (heard by the driver's own subscriber, a third process; wall clock, 1 ms resolution):",
    `  ${announcements.heard} of ${announcements.acknowledgedPuts} acknowledged PUTs heard naming their keys, ${announcements.announcedWithNoKeys} announced with no keys, ${announcements.notHeard} not heard${notHeardAt.length === 0 ? '' : ` (acknowledged at ${notHeardAt.join(', ')}${announcements.notHeard > notHeardAt.length ? ', …' : ''})`}`,
    `  delay from invalidateTags called to heard: ${spreadText(announcements.sinceInvalidationStartedMs)}`,
    `  heard after the acknowledgement: ${spreadText(announcements.afterAcknowledgementMs)}`,
    `  ${announcements.messages} messages heard, ${announcements.messagesMatchingNoPut} matching no acknowledged PUT${subscriber.unreadable === 0 ? '' : `, ${subscriber.unreadable} unreadable`}; subscriber reconnected ${subscriber.reconnections}× (${subscriber.connectionErrors} connection errors)`,
  ];
}

function announcementRows(announcements: SoakResult['announcements']): [string, string][] {
  if (announcements.acknowledgedPuts === 0) return [['Announcement delay', 'not measured']];
  return [
    [
      `Announcement delay to another process (\`invalidateTags\` called → message heard), ${announcements.heard} invalidations`,
      spreadText(announcements.sinceInvalidationStartedMs),
    ],
    ['Announcement heard after the acknowledgement', spreadText(announcements.afterAcknowledgementMs)],
    [
      'Acknowledged PUTs whose announcement was not heard / announced with no keys',
      `${announcements.notHeard} / ${announcements.announcedWithNoKeys}`,
    ],
  ];
}

function spreadText(spread: Spread): string {
  return `p50 ${spread.p50} ms, p99 ${spread.p99} ms, max ${spread.max} ms`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function cacheMix(cache: Record<string, number>): string {
  const parts = Object.entries(cache)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([result, count]) => `${count} ${result}`);
  return parts.length === 0 ? 'no X-Cache' : parts.join(', ');
}
