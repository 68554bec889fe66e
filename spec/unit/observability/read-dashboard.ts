import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the dashboard that users import. */
const DASHBOARD_PATH = fileURLToPath(
  new URL('../../../grafana/dashboards/express-cache-aside.json', import.meta.url),
);

interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface DashboardTarget {
  expr: string;
  legendFormat?: string;
  refId: string;
  datasource?: DatasourceRef;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string; mappings?: unknown[] } };
  targets?: DashboardTarget[];
}

interface DashboardVariable {
  name: string;
  type: string;
  query: unknown;
  datasource?: DatasourceRef;
  allValue?: string;
  multi?: boolean;
  includeAll?: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

/** The dashboard JSON as shipped in `grafana/`. */
export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every query target of every panel, with the title of its panel. */
export function dashboardTargets(dashboard: Dashboard): (DashboardTarget & { panel: string })[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ ...target, panel: panel.title })),
  );
}

/** The `label_values(selector, label)` queries of the template variables. */
export function labelValuesQueries(
  dashboard: Dashboard,
): { variable: string; selector: string; label: string }[] {
  return dashboard.templating.list.flatMap((variable) => {
    const match =
      typeof variable.query === 'string' ? /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query) : null;
    return match
      ? [{ variable: variable.name, selector: match[1] as string, label: match[2] as string }]
      : [];
  });
}

/** Metric sample names (`cache_aside_…`) that an expression reads. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bcache_aside_[a-z_]+\b/g) ?? [])];
}
