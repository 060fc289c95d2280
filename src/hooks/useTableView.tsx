import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import { DataTable, viewOf, type Column, type SortState } from '../components/DataTable.js';
import { TextFieldView, useTextField } from '../components/TextField.js';
import type { KeyResult } from '../tui/input.js';
import { matches } from '../tui/keymap.js';
import type { Keypress } from '../tui/keys.js';
import type { Theme } from '../tui/theme.js';
import { useList } from './useList.js';

/**
 * Filter (`/`), sort (`s`, `S`) and selection over a list of rows; `onKey` answers the list keys
 * and everything typed while filtering. Rows are only rendered through the window of DataTable.
 */
export function useTableView<T>(rows: readonly T[], columns: Column<T>[], height: number) {
  const field = useTextField('');
  const filter = field.value;
  const setFilter = field.set;
  const [filtering, setFiltering] = useState(false);
  const [sort, setSort] = useState<SortState | undefined>();
  const view = useMemo(() => viewOf(rows, columns, filter, sort), [rows, columns, filter, sort]);
  const list = useList(view.length, height);
  useEffect(() => list.reset(), [filter]);

  const onKey = (name: string, input = '', key?: Keypress): KeyResult => {
    if (filtering) {
      // A text field on the key stream: keys typed faster than a 100,000-row re-filter all land.
      if (matches('filter-clear', name)) {
        setFilter('');
        setFiltering(false);
      } else if (matches('filter-keep', name)) setFiltering(false);
      else return field.onKey(name, key ?? { text: input, ctrl: false, meta: false, paste: false }) || true;
      return true; // the filter takes every other key
    }
    if (list.onKey(name)) return true;
    if (matches('filter', name)) {
      setFiltering(true);
      list.reset();
      return true;
    }
    if (matches('sort', name)) {
      const i = sort ? columns.findIndex((c) => c.key === sort.column) : -1;
      const next = columns[(i + 1) % columns.length]!;
      setSort({ column: next.key, reverse: false });
      return true;
    }
    if (matches('sort-reverse', name)) {
      setSort((s) => (s ? { ...s, reverse: !s.reverse } : { column: columns[0]!.key, reverse: true }));
      return true;
    }
    if (name === 'esc' && filter) {
      setFilter('');
      return true;
    }
    return false;
  };

  const selectedRow: T | undefined = view[list.selected];

  const render = (props: { width: number; theme: Theme; emptyText?: string }) => (
    <Box flexDirection="column">
      <DataTable rows={view} columns={columns} selected={list.selected} offset={list.offset} height={height} width={props.width} sort={sort} theme={props.theme} {...(props.emptyText ? { emptyText: props.emptyText } : {})} />
      {filtering || filter ? (
        <Box>
          <Text color={props.theme.accent}>/</Text>
          {filtering ? <TextFieldView state={field.state} /> : <Text>{filter}</Text>}
          <Text dimColor={props.theme.dim}>{filtering ? '  Enter keep · Esc clear' : '  (Esc clears)'}</Text>
        </Box>
      ) : null}
    </Box>
  );

  return { view, selected: list.selected, selectedRow, filter, filtering, onKey, render };
}
