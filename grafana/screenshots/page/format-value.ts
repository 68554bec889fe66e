import type { PanelUnit } from '../row-picture.js';

function decimalsFor(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude === 0 || magnitude >= 100) return 0;
  return magnitude >= 10 ? 1 : 2;
}

function fixed(value: number, decimals: number | undefined): string {
  return value.toFixed(decimals ?? decimalsFor(value));
}

function seconds(value: number, decimals: number | undefined): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0 s';
  if (magnitude < 0.001) return `${fixed(value * 1e6, decimals)} µs`;
  if (magnitude < 1) return `${fixed(value * 1000, decimals)} ms`;
  if (magnitude < 60) return `${fixed(value, decimals)} s`;
  if (magnitude < 3600) return `${fixed(value / 60, decimals)} min`;
  return `${fixed(value / 3600, decimals)} hour`;
}

// Grafana's `bytes` unit counts in powers of 1024.
function bytes(value: number, decimals: number | undefined): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let scaled = value;
  let index = 0;
  while (Math.abs(scaled) >= 1024 && index < units.length - 1) {
    scaled /= 1024;
    index++;
  }
  return `${fixed(scaled, index === 0 ? 0 : decimals)} ${units[index]}`;
}

/** A value as Grafana shows it in `unit`; `decimals` as the panel sets them, else by magnitude. */
export function formatValue(unit: PanelUnit, value: number | null, decimals?: number): string {
  if (value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case 'percentunit':
      return `${fixed(value * 100, decimals)}%`;
    case 'reqps':
      return `${fixed(value, decimals)} req/s`;
    case 'ops':
      return `${fixed(value, decimals)} ops/s`;
    case 's':
      return seconds(value, decimals);
    case 'bytes':
      return bytes(value, decimals);
    default:
      return Math.abs(value) >= 1000 ? `${fixed(value / 1000, decimals)} K` : fixed(value, decimals);
  }
}

/** `HH:MM:SS` (UTC) of a Unix time in seconds. */
export function clock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(11, 19);
}
