import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The rules file that users load into Prometheus. */
export const RULES_PATH = fileURLToPath(
  new URL('../../../grafana/rules/express-cache-aside-rules.yml', import.meta.url),
);

/** Its promtool unit tests, beside it. */
export const RULES_TEST_PATH = fileURLToPath(
  new URL('../../../grafana/rules/express-cache-aside-rules.test.yml', import.meta.url),
);

/** A recording or alerting rule. */
export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RulesFile {
  groups: { name: string; rules: Rule[] }[];
}

/** One test group of the promtool unit tests. */
export interface RulesTest {
  name: string;
  alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[];
}

/** Every rule of the shipped file, in order. */
export function readRules(): Rule[] {
  return (parse(readFileSync(RULES_PATH, 'utf8')) as RulesFile).groups.flatMap((group) => group.rules);
}

/** The test groups of the promtool unit tests. */
export function readRulesTests(): RulesTest[] {
  return (parse(readFileSync(RULES_TEST_PATH, 'utf8')) as { tests: RulesTest[] }).tests;
}
