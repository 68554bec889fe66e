import type { DashboardPanel } from '../../spec/unit/observability/read-dashboard.js';
import type { PanelUnit, TablePicture } from './row-picture.js';

/** One query's instant result. */
export interface QueryResult {
  refId: string;
  samples: { metric: Record<string, string>; value: [number, string] }[];
}

interface Organize {
  excludeByName?: Record<string, boolean>;
  indexByName?: Record<string, number>;
  renameByName?: Record<string, string>;
}

/**
 * The rows and columns of a table panel, as Grafana's `merge` then `organize` make them: one row per
 * label set, one `Value #<refId>` column per query (`Value` when there is one query), columns hidden,
 * ordered and renamed as `organize` says, each with the unit of its override; sorted as the panel says.
 */
export function tableOf(
  panel: DashboardPanel,
  defaultUnit: PanelUnit,
  results: readonly QueryResult[],
): Pick<TablePicture, 'columns' | 'rows'> {
  const rows = new Map<string, Record<string, string | number>>();
  for (const { refId, samples } of results) {
    const valueColumn = results.length > 1 ? `Value #${refId}` : 'Value';
    for (const sample of samples) {
      const { __name__: _name, ...labels } = sample.metric;
      const key = JSON.stringify(Object.entries(labels).sort());
      const row = rows.get(key) ?? { ...labels };
      row[valueColumn] = Number(sample.value[1]);
      rows.set(key, row);
    }
  }
  const organize = panel.transformations?.find((transformation) => transformation.id === 'organize')
    ?.options as Organize | undefined;
  const names = [...new Set([...rows.values()].flatMap((row) => Object.keys(row)))]
    .filter((name) => !organize?.excludeByName?.[name])
    .sort((a, b) => (organize?.indexByName?.[a] ?? 99) - (organize?.indexByName?.[b] ?? 99));
  const shown = (name: string) => organize?.renameByName?.[name] ?? name;
  const columns = names.map((name) => {
    const override = panel.fieldConfig?.overrides?.find(
      (candidate) => candidate.matcher.options === shown(name),
    );
    const property = (id: string) => override?.properties.find((candidate) => candidate.id === id)?.value;
    const unit = name.startsWith('Value')
      ? ((property('unit') as PanelUnit | undefined) ?? defaultUnit)
      : 'none';
    return { name: shown(name), unit, decimals: property('decimals') as number | undefined };
  });
  const [sort] = panel.options?.sortBy ?? [];
  const sortColumn = names.find((name) => shown(name) === sort?.displayName);
  const ordered = [...rows.values()];
  if (sortColumn !== undefined) {
    const direction = sort?.desc ? -1 : 1;
    ordered.sort((a, b) => direction * (Number(a[sortColumn] ?? 0) - Number(b[sortColumn] ?? 0)));
  }
  return { columns, rows: ordered.map((row) => names.map((name) => row[name] ?? null)) };
}
