import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type DashboardPanel, dashboardTargets, metricNamesIn, readDashboard } from './read-dashboard.js';
import { familyOfSample, registeredFamilies, sampleProblem } from './registered-families.js';

/** Families registered by the code but deliberately not on the dashboard, with the reason. */
const LEFT_OFF_THE_DASHBOARD: Record<string, string> = {};

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template.
const DATASOURCE_VARIABLE = '${datasource}';
const DATASOURCE_REF = { type: 'prometheus', uid: DATASOURCE_VARIABLE };

function grafanaFile(path: string): string {
  return readFileSync(new URL(`../../../grafana/${path}`, import.meta.url), 'utf8');
}

describe('Grafana dashboard (grafana/dashboards/express-cache-aside.json)', () => {
  const dashboard = readDashboard();
  const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
  const targets = dashboardTargets(dashboard);
  const families = registeredFamilies();
  const familyByName = new Map(families.map((family) => [family.name, family]));
  const panelTitled = (title: string) => panels.find((panel) => panel.title === title);

  describe('metric names', () => {
    it('reads only metrics that the code registers, with the right sample suffix for their type', () => {
      for (const target of targets) {
        for (const sample of metricNamesIn(target.expr)) {
          expect(sampleProblem(sample, families), target.panel).to.equal(undefined);
        }
      }
    });

    it('shows every registered family, unless it is deliberately left off', () => {
      const onDashboard = new Set(
        targets.flatMap((target) => metricNamesIn(target.expr).map((name) => familyOfSample(name))),
      );
      const missing = families
        .map((family) => family.name)
        .filter((name) => !onDashboard.has(name) && !(name in LEFT_OFF_THE_DASHBOARD));
      expect(missing).to.deep.equal([]);
      for (const name of Object.keys(LEFT_OFF_THE_DASHBOARD)) expect(familyByName.has(name)).to.equal(true);
    });

    it('reads process health from the families of prom-client’s collectDefaultMetrics(), by $job and $instance', () => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const defaults = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
      const read = targets.flatMap(({ expr, panel }) =>
        [...expr.matchAll(/\b((?:nodejs|process)_\w+)(\{[^}]*\})?/g)].map(([, name, selector]) => ({
          panel,
          name: name as string,
          selector: selector ?? '',
        })),
      );
      expect(new Set(read.map(({ panel }) => panel))).to.deep.equal(
        new Set(['Event loop lag', 'Process memory']),
      );
      for (const { panel, name, selector } of read) {
        expect(defaults.has(name), `${panel}: ${name} from collectDefaultMetrics()`).to.equal(true);
        expect(selector, `${panel}: ${name}`).to.include('job=~"$job"').and.include('instance=~"$instance"');
      }
    });

    it('applies rate() only to counters and histogram samples, never to the circuit gauge', () => {
      for (const target of targets) {
        for (const [, sample] of target.expr.matchAll(/rate\((\w+)\{/g)) {
          const family = familyByName.get(sample as string);
          expect(family?.type ?? 'histogram', `${target.panel}: rate(${sample})`).to.not.equal('gauge');
        }
      }
    });
  });

  describe('queries', () => {
    it('filters every query by $job, $instance and $cache, and the queries of routes by $route too', () => {
      for (const { expr, panel } of targets) {
        for (const selector of expr.match(/cache_aside_\w+\{[^}]*\}/g) ?? []) {
          expect(selector, panel).to.include('job=~"$job"').and.include('instance=~"$instance"');
          // The version is the process's, not a cache's: the one family without a `cache` label.
          if (/^cache_aside_build_info\{/.test(selector)) continue;
          expect(selector, panel).to.include('cache=~"$cache"');
          expect(selector.includes('route=~"$route"'), `${panel}: $route on ${selector}`).to.equal(
            // The families that carry a `route` label: the request histogram and shadow mode's counter.
            /^cache_aside_(request_\w+|shadow_total)\{/.test(selector),
          );
        }
        expect(expr, `${panel}: a metric without a selector`).to.not.match(/cache_aside_\w+(?![\w{])/);
      }
    });

    it('uses $__rate_interval for the windows of time series, $__range for instant stats and tables', () => {
      for (const { expr, panel, instant } of targets) {
        const windows = [...expr.matchAll(/\[([^\]]+)\]/g)].map((match) => match[1]);
        if (expr.includes('rate(') || expr.includes('increase(')) expect(windows, panel).to.not.be.empty;
        for (const window of windows)
          expect(window, panel).to.equal(instant ? '$__range' : '$__rate_interval');
      }
    });

    it('groups by every label that a legend names', () => {
      for (const { expr, legendFormat = '', panel } of targets) {
        const grouped = new Set(
          [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((match) => (match[1] as string).split(/,\s*/)),
        );
        for (const [, label] of legendFormat.matchAll(/\{\{(\w+)\}\}/g)) {
          expect(grouped.has(label as string), `${panel}: legend {{${label}}} is not grouped by`).to.equal(
            true,
          );
        }
      }
    });

    it('computes percentiles with histogram_quantile over rates of buckets grouped by le', () => {
      const quantiles = targets.filter((target) => target.expr.startsWith('histogram_quantile'));
      expect(quantiles.length).to.be.greaterThan(0);
      for (const { expr, panel } of quantiles) {
        expect(expr, panel).to.match(/^histogram_quantile\(0\.\d+, sum by \(le, \w+\) \(rate\(\w+_bucket\{/);
      }
    });
  });

  describe('datasource and variables', () => {
    it('takes its datasource from the $datasource variable, with no hard-coded datasource uid', () => {
      for (const panel of panels) {
        expect(panel.datasource, panel.title).to.deep.equal(DATASOURCE_REF);
        for (const target of panel.targets ?? [])
          expect(target.datasource, panel.title).to.deep.equal(panel.datasource);
      }
      const uids = [...JSON.stringify(dashboard).matchAll(/"uid":\s*"([^"]*)"/g)].map((match) => match[1]);
      expect(new Set(uids)).to.deep.equal(new Set([dashboard.uid, DATASOURCE_VARIABLE, '-- Grafana --']));
    });

    it('has the variables datasource, job, instance, cache and route, multi-valued with .* for All', () => {
      const [datasource, ...queries] = dashboard.templating.list;
      expect(datasource).to.include({ name: 'datasource', type: 'datasource', query: 'prometheus' });
      expect(queries.map((variable) => variable.name)).to.deep.equal(['job', 'instance', 'cache', 'route']);
      for (const variable of queries) {
        expect(variable, variable.name).to.include({
          type: 'query',
          multi: true,
          includeAll: true,
          allValue: '.*',
        });
        expect(variable.datasource).to.deep.equal(DATASOURCE_REF);
        expect(variable.query).to.match(/^label_values\(cache_aside_\w+/);
      }
    });
  });

  describe('panels', () => {
    it('has the panels users look for, grouped in rows', () => {
      const rows: Record<string, string[]> = {};
      let current = '';
      for (const panel of [...dashboard.panels].sort(
        (a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x,
      )) {
        if (panel.type === 'row') {
          current = panel.title;
          rows[current] = [];
        } else {
          rows[current]?.push(panel.title);
        }
      }
      expect(rows).to.deep.equal({
        Overview: [
          'Served from cache',
          'Fresh hit ratio',
          'Handler time saved',
          'Served from cache by route',
          'Routes',
          'Requests per second by result',
          'Lookups per second by result',
          'Stale serves and revalidations',
          'Loads and coalesced lookups',
        ],
        Latency: ['Request latency by result (p50 / p95 / p99)', 'Loader latency (p50 / p95 / p99)'],
        'Redis health': [
          'Redis latency by operation (p95 / p99)',
          'Redis operations per second',
          'Error ratio by operation',
          'Circuit breaker',
        ],
        'In-process tier and versions': [
          'In-process tier entries',
          'In-process tier size',
          'Versions running',
        ],
        Invalidations: [
          'Invalidations by kind',
          'Invalidation failures by kind',
          'Loaded values not stored, by reason',
        ],
        Operations: ['Shadow: would-be answers that differed', 'Purges by kind', 'Invalidation queue'],
        Process: ['Event loop lag', 'Process memory'],
      });
    });

    it('heads with served from cache (hit and stale over cacheable requests) beside the fresh hit ratio', () => {
      const [served, fresh] = ['Served from cache', 'Fresh hit ratio'].map((title) => panelTitled(title));
      expect(served?.type).to.equal('stat');
      expect(fresh?.type).to.equal('stat');
      expect(served?.targets?.[0]?.expr).to.match(/^\(sum\(rate\([^)]*result=~"hit\|stale"\}/);
      expect(fresh?.targets?.[0]?.expr).to.match(/^\(sum\(rate\([^)]*result="hit"\}/);
      for (const panel of [served, fresh]) {
        expect(panel?.targets?.[0]?.expr, panel?.title).to.match(
          /\/ sum\(rate\([^)]*result=~"hit\|stale\|miss"\}/,
        );
      }
    });

    it('shows errors as a ratio of operations, only the series above zero, the largest first', () => {
      const errors = panelTitled('Error ratio by operation');
      expect(errors?.fieldConfig?.defaults?.unit).to.equal('percentunit');
      expect(errors?.targets?.[0]?.expr).to.match(
        /^sum by \(cache, operation, reason\) \(rate\(cache_aside_errors_total/,
      );
      expect(errors?.targets?.[0]?.expr).to.match(/ \/ on \(cache\) group_left \(\) .*> 0$/);
      expect(errors?.options?.legend).to.include({ sortBy: 'Max', sortDesc: true });
    });

    it('marks each circuit opening as an annotation, from increases of circuit_opens_total', () => {
      const annotations = dashboard.annotations.list.filter((annotation) => annotation.expr !== undefined);
      expect(annotations.map((annotation) => annotation.name)).to.deep.equal(['Circuit openings']);
      expect(annotations[0]).to.deep.include({ enable: true, datasource: DATASOURCE_REF });
      expect(annotations[0]?.expr).to.match(
        /^sum by \(cache, instance\) \(increase\(cache_aside_circuit_opens_total\{/,
      );
      expect(annotations[0]?.expr).to.match(/ > 0$/);
    });

    it('merges the per-route table from instant queries, one named column each', () => {
      const table = panelTitled('Routes');
      const queries = table?.targets ?? [];
      expect(queries.map((target) => target.refId)).to.deep.equal(['A', 'B', 'C', 'D']);
      for (const target of queries) expect(target).to.include({ instant: true, format: 'table' });
      expect(table?.transformations?.map((transformation) => transformation.id)).to.deep.equal([
        'merge',
        'organize',
      ]);
      const renamed = table?.transformations?.[1]?.options.renameByName;
      expect(renamed).to.deep.equal({
        route: 'Route',
        'Value #A': 'Requests/s',
        'Value #B': 'Served from cache',
        'Value #C': 'p95',
        'Value #D': '5xx rate',
      });
      const units = Object.fromEntries(
        (table?.fieldConfig?.overrides ?? []).map((override) => [
          override.matcher.options,
          override.properties.find((property) => property.id === 'unit')?.value,
        ]),
      );
      expect(units).to.deep.equal({
        'Requests/s': 'reqps',
        'Served from cache': 'percentunit',
        p95: 's',
        '5xx rate': 'percentunit',
      });
    });

    it('sets a unit on every panel, and value names on the circuit breaker state', () => {
      const units = Object.fromEntries(
        panels.map((panel) => [panel.title, panel.fieldConfig?.defaults?.unit]),
      );
      for (const [title, unit] of Object.entries(units)) {
        expect(['percentunit', 'reqps', 's', 'ops', 'bytes', 'none'], title).to.include(unit);
      }
      expect(units['Request latency by result (p50 / p95 / p99)']).to.equal('s');
      expect(units['Served from cache']).to.equal('percentunit');
      expect(units['Handler time saved']).to.equal('s');
      expect(units['In-process tier size']).to.equal('bytes');
      expect(units['Requests per second by result']).to.equal('reqps');
      const circuit = panelTitled('Circuit breaker');
      expect(JSON.stringify(circuit?.fieldConfig?.defaults?.mappings))
        .to.include('"closed"')
        .and.include('"open"');
    });

    it('describes every panel, with unique ids and titles and no overlapping positions', () => {
      for (const panel of panels) expect(panel.description, panel.title).to.be.a('string').and.not.equal('');
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(new Set(panels.map((panel) => panel.title)).size).to.equal(panels.length);
      const overlaps = (a: DashboardPanel, b: DashboardPanel) =>
        a.gridPos.x < b.gridPos.x + b.gridPos.w &&
        b.gridPos.x < a.gridPos.x + a.gridPos.w &&
        a.gridPos.y < b.gridPos.y + b.gridPos.h &&
        b.gridPos.y < a.gridPos.y + a.gridPos.h;
      dashboard.panels.forEach((panel, index) => {
        expect(panel.gridPos.x + panel.gridPos.w, panel.title).to.be.at.most(24);
        for (const other of dashboard.panels.slice(index + 1)) {
          expect(overlaps(panel, other), `${panel.title} overlaps ${other.title}`).to.equal(false);
        }
      });
    });
  });

  describe('provisioning and compose files', () => {
    it('provisions the dashboard from the folder the compose file mounts it into', () => {
      const compose = grafanaFile('docker-compose.yml');
      const provider = grafanaFile('provisioning/dashboards/express-cache-aside.yml');
      const providerPath = /path:\s*(\S+)/.exec(provider)?.[1];
      expect(compose).to.include(`./dashboards:${providerPath}:ro`);
      expect(compose).to.include('./provisioning:/etc/grafana/provisioning:ro');
    });

    it('points Grafana at the compose Prometheus, and Prometheus at the demo with the HOST it must bind', () => {
      const compose = grafanaFile('docker-compose.yml');
      expect(grafanaFile('provisioning/datasources/prometheus.yml')).to.include(
        'url: http://prometheus:9090',
      );
      expect(grafanaFile('prometheus.yml')).to.match(/targets: \[["']demo:3000["']\]/);
      expect(compose).to.match(/REDIS_URL: redis:\/\/redis:6379/);
      expect(compose).to.match(/HOST: 0\.0\.0\.0/);
      expect(compose).to.include('npm ci');
      expect(compose).to.include('npm start');
    });
  });
});
