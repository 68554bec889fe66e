/** Grafana's dark theme values of the colour names the dashboard uses. */
export const GRAFANA_COLORS = {
  green: '#73BF69',
  red: '#F2495C',
  orange: '#FF9830',
  yellow: '#FADE2A',
  blue: '#5794F2',
  purple: '#B877D9',
} as const;

const TEXT_COLOR = '#CCCCDC';

function named(color: string): string {
  return (GRAFANA_COLORS as Record<string, string>)[color] ?? color;
}

interface ColorConfig {
  color?: { mode?: string; fixedColor?: string };
  thresholds?: { steps?: { color: string; value: number | null }[] };
}

/** The colour of a stat's `value`: its fixed colour, or that of the highest threshold it reaches. */
export function colorOf(defaults: ColorConfig, value: number | null): string {
  if (defaults.color?.mode === 'fixed')
    return defaults.color.fixedColor ? named(defaults.color.fixedColor) : TEXT_COLOR;
  const steps = defaults.thresholds?.steps ?? [];
  let chosen = steps[0]?.color ?? 'green';
  for (const step of steps)
    if (step.value !== null && value !== null && value >= step.value) chosen = step.color;
  return named(chosen);
}

interface ValueMapping {
  type: string;
  options: Record<string, unknown>;
}

/** A state timeline's value mappings (`value` and `range`), lowest first: from which value, which text and colour. */
export function statesOf(mappings: readonly ValueMapping[]): { from: number; text: string; color: string }[] {
  const states: { from: number; text: string; color: string }[] = [];
  for (const mapping of mappings) {
    if (mapping.type === 'value') {
      for (const [value, result] of Object.entries(
        mapping.options as Record<string, { text: string; color: string }>,
      ))
        states.push({ from: Number(value), text: result.text, color: named(result.color) });
    } else if (mapping.type === 'range') {
      const { from, result } = mapping.options as { from: number; result: { text: string; color: string } };
      states.push({ from, text: result.text, color: named(result.color) });
    }
  }
  return states.sort((a, b) => a.from - b.from);
}
