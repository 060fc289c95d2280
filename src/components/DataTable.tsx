import { Box, Text } from 'ink';
import React from 'react';
import { fitCells } from '../format/width.js';
import type { Theme } from '../tui/theme.js';

export interface Column<T> {
  key: string;
  header: string;
  /** Fixed width in cells, or 'flex' to share what is left. */
  width: number | 'flex';
  value: (row: T) => string;
  /** What sorting compares; defaults to the displayed value. */
  sortValue?: (row: T) => string | number;
  color?: (row: T) => string | undefined;
}

export interface SortState {
  column: string;
  reverse: boolean;
}

/** A cell: exactly `width` terminal cells (CJK and emoji count two), cut with "…". */
export const fit = fitCells;

/** Widths for the columns in `total` cells, one space between columns; flex columns share the rest. */
export function columnWidths<T>(columns: Column<T>[], total: number): number[] {
  const gaps = columns.length - 1;
  const fixed = columns.reduce((n, c) => n + (c.width === 'flex' ? 0 : c.width), 0);
  const flexCount = columns.filter((c) => c.width === 'flex').length;
  const rest = Math.max(0, total - fixed - gaps);
  return columns.map((c) => (c.width === 'flex' ? Math.max(4, Math.floor(rest / Math.max(1, flexCount))) : c.width));
}

/** Filter then sort; pure, so screens memoise it on (rows, filter, sort). */
export function viewOf<T>(rows: readonly T[], columns: Column<T>[], filter: string, sort: SortState | undefined): T[] {
  const needle = filter.trim().toLowerCase();
  let out = needle ? rows.filter((r) => columns.some((c) => c.value(r).toLowerCase().includes(needle))) : [...rows];
  if (sort) {
    const col = columns.find((c) => c.key === sort.column);
    if (col) {
      const key = col.sortValue ?? col.value;
      const sign = sort.reverse ? -1 : 1;
      out = out
        .map((row, i) => ({ row, k: key(row), i }))
        .sort((a, b) => (a.k < b.k ? -sign : a.k > b.k ? sign : a.i - b.i))
        .map((x) => x.row);
    }
  }
  return out;
}

export interface DataTableProps<T> {
  rows: readonly T[];
  columns: Column<T>[];
  selected: number;
  offset: number;
  height: number;
  width: number;
  sort?: SortState | undefined;
  theme: Theme;
  emptyText?: string;
}

/**
 * A windowed, selectable table: only the `height` rows from `offset` are rendered, whatever the
 * length of `rows`, so 100,000 rows cost what 30 do.
 */
export function DataTable<T>({ rows, columns, selected, offset, height, width, sort, theme, emptyText }: DataTableProps<T>) {
  const widths = columnWidths(columns, width);
  const header = columns
    .map((c, i) => fit(c.header + (sort?.column === c.key ? (sort.reverse ? '↓' : '↑') : ''), widths[i]!))
    .join(' ');
  const visible = rows.slice(offset, offset + height);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{header}</Text>
      {visible.length === 0 ? <Text dimColor={theme.dim}>{emptyText ?? 'nothing here'}</Text> : null}
      {visible.map((row, i) => {
        const index = offset + i;
        const isSelected = index === selected;
        return (
          <Text key={index} inverse={isSelected} wrap="truncate">
            {columns.map((c, j) => {
              const cell = fit(c.value(row), widths[j]!) + (j < columns.length - 1 ? ' ' : '');
              const color = theme.color && !isSelected ? c.color?.(row) : undefined;
              return color ? (
                <Text key={c.key} color={color}>
                  {cell}
                </Text>
              ) : (
                cell
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
}
