import { createRequire } from 'node:module';

// yaml costs ~70 ms to load: only -o yaml pays for it.
const toYaml = (value: unknown): string => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).stringify(value);

export const FORMATS = ['table', 'wide', 'json', 'yaml', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

export { UsageError } from '../format/errors.js';
import { UsageError } from '../format/errors.js';
import { table } from '../format/table.js';
export { table } from '../format/table.js';
export { age } from '../format/time.js';

export function checkFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) throw new UsageError(`-o must be one of ${FORMATS.join(', ')}, not "${value}"`);
  return value as Format;
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
