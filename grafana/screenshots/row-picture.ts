/** Units of the dashboard's panels, as Grafana names them. */
export type PanelUnit = 'percentunit' | 'reqps' | 's' | 'ops' | 'bytes' | 'none';

/** Where a panel sits on the page, in pixels. */
export interface PanelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** One series on the common time axis of the row (`null` where Prometheus had no value). */
export interface PictureSeries {
  label: string;
  values: (number | null)[];
}

interface PanelBase {
  title: string;
  box: PanelBox;
  unit: PanelUnit;
}

/** A time series panel: lines, a legend table with its calculations, optionally sorted. */
export interface TimeSeriesPicture extends PanelBase {
  kind: 'timeseries';
  max: number | undefined;
  series: PictureSeries[];
  legendCalcs: string[];
  legendSortBy: string | undefined;
}

/** A stat panel: the last value, big, in its threshold colour, over a sparkline. */
export interface StatPicture extends PanelBase {
  kind: 'stat';
  value: number | null;
  decimals: number | undefined;
  color: string;
  sparkline: (number | null)[] | undefined;
}

/** A table panel: named columns, each with its unit (`none` for text). */
export interface TablePicture extends PanelBase {
  kind: 'table';
  columns: { name: string; unit: PanelUnit; decimals: number | undefined }[];
  rows: (string | number | null)[][];
}

/** A state timeline: one band per series, each value mapped to a text and a colour. */
export interface StateTimelinePicture extends PanelBase {
  kind: 'state-timeline';
  series: PictureSeries[];
  states: { from: number; text: string; color: string }[];
}

export type PanelPicture = TimeSeriesPicture | StatPicture | TablePicture | StateTimelinePicture;

/** A mark on every time series panel of the row: a circuit opening, or a phase of the scenario. */
export interface PictureAnnotation {
  text: string;
  startSeconds: number;
  endSeconds: number;
  color: string;
}

/** Everything the page needs to draw one dashboard row, as JSON. */
export interface RowPicture {
  title: string;
  widthPx: number;
  heightPx: number;
  /** The common time axis of every series, Unix seconds. */
  times: number[];
  annotations: PictureAnnotation[];
  panels: PanelPicture[];
  /** A line under the row: what the picture shows, and how it was made. */
  caption: string;
}
