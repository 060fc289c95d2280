import { createRequire } from 'node:module';

// yaml costs ~70 ms to load: only -o yaml pays for it.
const toYaml = (value: unknown): string => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).stringify(value);

export const FORMATS = ['table', 'wide', 'json', 'yaml', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

export class UsageError extends Error {}

export function checkFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) throw new UsageError(`-o must be one of ${FORMATS.join(', ')}, not "${value}"`);
  return value as Format;
}

/** kubectl-style: UPPERCASE headers, columns aligned with three spaces, no borders. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '<none>' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('   ').trimEnd()).join('\n') + '\n';
}

export interface Columns<T> {
  headers: string[];
  row: (item: T) => (string | number | undefined)[];
  wideHeaders?: string[];
  wideRow?: (item: T) => (string | number | undefined)[];
}

/** Prints one item or a list in the chosen format; JSON/YAML print an object for one, an array for many. */
export function render<T>(data: T | T[], format: Format, columns: Columns<T>): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  // One compact JSON value per line, for log shippers and `jq -c`.
  if (format === 'jsonl') return (Array.isArray(data) ? data : [data]).map((item) => JSON.stringify(item) + '\n').join('');
  if (format === 'yaml') return toYaml(data);
  const items = Array.isArray(data) ? data : [data];
  if (format === 'wide' && columns.wideHeaders && columns.wideRow) {
    return table([...columns.headers, ...columns.wideHeaders], items.map((i) => [...columns.row(i), ...columns.wideRow!(i)]));
  }
  if (items.length === 0) return '';
  return table(columns.headers, items.map(columns.row));
}

/** "3d", "5h", "12m", "40s" since `iso` (kubectl's AGE). */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

