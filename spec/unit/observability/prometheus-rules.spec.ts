import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runPromtool } from '../../support/promtool.js';
import { metricNamesIn } from './read-dashboard.js';
import { RULES_PATH, RULES_TEST_PATH, readRules, readRulesTests } from './read-rules.js';
import { registeredFamilies, sampleProblem } from './registered-families.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const RECORDED_NAME = /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/;
const RUNBOOK_BASE = 'https://www.npmjs.com/package/express-cache-aside#';

/** The anchor that GitHub and npm give a Markdown heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

/** The README's sections, by anchor: each one's text up to the next heading of any level. */
function readmeSections(): Map<string, string> {
  const sections = new Map<string, string>();
  const parts = README.split(/^#{1,6} (.+)$/m);
  for (let i = 1; i < parts.length; i += 2) sections.set(anchorOf(parts[i] as string), parts[i + 1] ?? '');
  return sections;
}

describe('Prometheus rules (grafana/rules/express-cache-aside-rules.yml)', function () {
  // promtool starts a Go binary: slow on a busy machine, never a hang.
  this.timeout(60_000);
  const rules = readRules();
  const alerts = rules.filter((rule) => rule.alert !== undefined);
  const recorded = rules.filter((rule) => rule.record !== undefined);

  it('are valid for promtool check rules', () => {
    expect(runPromtool(['check', 'rules', RULES_PATH])).to.include('SUCCESS');
  });

  it('pass their promtool unit tests', () => {
    expect(runPromtool(['test', 'rules', RULES_TEST_PATH])).to.include('SUCCESS');
  });

  it('ship the five alerts of the runbook', () => {
    expect(alerts.map((rule) => rule.alert)).to.deep.equal([
      'CacheAsideCircuitOpen',
      'CacheAsideRedisErrorRatioHigh',
      'CacheAsideInvalidationFailed',
      'CacheAsideStaleOnErrorSustained',
      'CacheAsideServedFromCacheDrop',
    ]);
  });

  it('have a unit test where each alert fires and one where it stays quiet', () => {
    const cases = readRulesTests().flatMap((test) => test.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const own = cases.filter((test) => test.alertname === alert);
      expect(
        own.some((test) => (test.exp_alerts ?? []).length > 0),
        `${alert} fires in a test`,
      ).to.equal(true);
      expect(
        own.some((test) => (test.exp_alerts ?? []).length === 0),
        `${alert} stays quiet in a test`,
      ).to.equal(true);
    }
  });

  it('give every alert a severity, a summary, a description and a runbook section in the README', () => {
    const sections = readmeSections();
    for (const { alert, labels = {}, annotations = {} } of alerts) {
      expect(['warning', 'critical'], `${alert} severity`).to.include(labels.severity);
      expect(annotations.summary, `${alert} summary`).to.be.a('string').and.not.equal('');
      expect(annotations.description, `${alert} description`).to.be.a('string').and.not.equal('');
      expect(annotations.runbook_url, `${alert} runbook_url`).to.equal(
        RUNBOOK_BASE + anchorOf(alert as string),
      );
      const runbook = sections.get(anchorOf(alert as string));
      expect(runbook, `README section ${alert}`).to.be.a('string');
      expect(runbook, `README section ${alert}`)
        .to.include('**What it means**')
        .and.include('**First checks**')
        .and.include('**What to do**');
    }
  });

  it('read only metrics that the code registers, with the right sample suffix for their type', () => {
    const families = registeredFamilies();
    for (const { expr, alert, record } of rules) {
      const raw = expr.replace(/\b[a-z_]+:[a-z_]+:[a-z0-9_]+\b/g, '');
      for (const sample of metricNamesIn(raw)) {
        expect(sampleProblem(sample, families), `${alert ?? record}`).to.equal(undefined);
      }
    }
  });

  it('name recording rules level:metric:operations, each read by an alert or another rule', () => {
    for (const { record } of recorded) {
      expect(record).to.match(RECORDED_NAME);
      const readers = rules.filter((rule) => rule.record !== record && rule.expr.includes(record as string));
      expect(readers, `readers of ${record}`).to.not.be.empty;
    }
  });

  it('are loaded by the demo’s Prometheus configuration, which promtool accepts', () => {
    const config = fileURLToPath(new URL('../../../grafana/prometheus.yml', import.meta.url));
    const output = runPromtool(['check', 'config', config], dirname(config));
    expect(output).to.include('SUCCESS').and.include('express-cache-aside-rules.yml');
  });
});
