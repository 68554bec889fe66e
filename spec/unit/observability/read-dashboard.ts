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
  /** Evaluated once at the end of the time range (stat and table panels), rather than over it. */
  instant?: boolean;
  format?: string;
}

/** A transformation of a panel's query results (Grafana's `merge`, `organize`, …). */
interface PanelTransformation {
  id: string;
  options: Record<string, unknown>;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: {
    defaults?: {
      unit?: string;
      max?: number;
      decimals?: number;
      mappings?: { type: string; options: Record<string, unknown> }[];
      color?: { mode?: string; fixedColor?: string };
      thresholds?: { steps?: { color: string; value: number | null }[] };
    };
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
  options?: {
    legend?: { calcs?: string[]; sortBy?: string; sortDesc?: boolean };
    graphMode?: string;
    sortBy?: { displayName: string; desc?: boolean }[];
  };
  transformations?: PanelTransformation[];
  targets?: DashboardTarget[];
}

/** An annotation query: Grafana marks the time series panels where its expression returns a value. */
interface DashboardAnnotation {
  name: string;
  datasource?: DatasourceRef;
  expr?: string;
  enable?: boolean;
  titleFormat?: string;
  textFormat?: string;
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
  annotations: { list: DashboardAnnotation[] };
  templating: { list: DashboardVariable[] };
}

/** The dashboard JSON as shipped in `grafana/`. */
export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/**
 * Every query of the dashboard, with the title of its panel: the panels' targets, then the
 * annotation queries (as `annotation: <name>`, refId `annotation`).
 */
export function dashboardTargets(dashboard: Dashboard): (DashboardTarget & { panel: string })[] {
  const panelTargets = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ ...target, panel: panel.title })),
  );
  const annotationTargets = dashboard.annotations.list.flatMap((annotation) =>
    annotation.expr === undefined
      ? []
      : [
          {
            expr: annotation.expr,
            refId: 'annotation',
            panel: `annotation: ${annotation.name}`,
            ...(annotation.datasource === undefined ? {} : { datasource: annotation.datasource }),
          },
        ],
  );
  return [...panelTargets, ...annotationTargets];
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

/** What Grafana's time variables stand for in a query sent to Prometheus directly. */
export interface QueryWindows {
  /** `$__rate_interval`: the window of rates in time series. */
  rateInterval: string;
  /** `$__range`: the dashboard's whole time range, for instant stats and tables. */
  range: string;
}

/** `expr` with Grafana's variables replaced: the time windows, and `.*` (All) for the others. */
export function substituteVariables(expr: string, windows: QueryWindows): string {
  const substituted = expr
    .replaceAll('$__rate_interval', windows.rateInterval)
    .replaceAll('$__range', windows.range)
    .replace(/\$(job|instance|cache|route)\b/g, '.*');
  if (substituted.includes('$')) throw new Error(`unsubstituted variable in ${substituted}`);
  return substituted;
}
