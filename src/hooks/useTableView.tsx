import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { DataTable, viewOf, type Column, type SortState } from '../components/DataTable.js';
import { TextFieldView, useTextField } from '../components/TextField.js';
import type { KeyResult } from '../tui/input.js';
import { matches } from '../tui/keymap.js';
import type { Keypress } from '../tui/keys.js';
import type { Theme } from '../tui/theme.js';
import { useList } from '../tui/useList.js';

/** What a list leaves behind when its screen is left, and finds again on return. */
export interface ListMemory {
  filter: string;
  sort: SortState | undefined;
  selected: number;
  offset: number;
  /** Screen-specific extras (the audit outcome filter). */
  extra?: Record<string, string | undefined>;
}

export interface TableOptions {
  /** The state to start from, and where to leave it when the screen goes (unmounts). */
  memory?: { initial: ListMemory | undefined; save: (m: ListMemory) => void } | undefined;
  /**
   * The daemon filters and sorts (the rows are its answer): column key → its `sort` parameter
   * (ascending as the column shows it; "-" reversed). Columns without one are not sortable.
   */
  server?: Record<string, string> | undefined;
  /** With `server`: the search the rows answer; until the daemon answers the one typed, the rows loaded are filtered here. */
  answered?: string | undefined;
  /** Extras kept with the memory. */
  extra?: Record<string, string | undefined>;
}

/** The daemon's sort parameter for a column sort ("-" flips the direction). */
export const serverSortOf = (sorts: Record<string, string>, sort: SortState | undefined): string | undefined => {
  const base = sort ? sorts[sort.column] : undefined;
  if (!base || !sort) return undefined;
  if (!sort.reverse) return base;
  return base.startsWith('-') ? base.slice(1) : `-${base}`;
};

/** The daemon's question for a remembered list state (the search text and the sort parameter). */
export const queryOf = (m: ListMemory | undefined, sorts: Record<string, string>) => ({ search: m?.filter ?? '', sort: serverSortOf(sorts, m?.sort) });

/**
 * Filter (`/`), sort (`s`, `S`) and selection over a list of rows; `onKey` answers the list keys
 * and everything typed while filtering. Rows are only rendered through the window of DataTable.
 * With `server`, filter and sort are questions for the daemon and the rows come back answered.
 */
export function useTableView<T>(rows: readonly T[], columns: Column<T>[], height: number, opts: TableOptions = {}) {
  const initial = opts.memory?.initial;
  const field = useTextField(initial?.filter ?? '');
  const filter = field.value;
  const setFilter = field.set;
  const [filtering, setFiltering] = useState(false);
  const [sort, setSort] = useState<SortState | undefined>(initial?.sort);
  const stale = opts.server !== undefined && (opts.answered ?? '') !== filter.trim();
  const view = useMemo(() => (opts.server ? (stale ? viewOf(rows, columns, filter, undefined) : [...rows]) : viewOf(rows, columns, filter, sort)), [rows, columns, filter, sort, opts.server, stale]);
  const list = useList(view.length, height, initial ? { selected: initial.selected, offset: initial.offset } : undefined);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else list.reset();
  }, [filter, sort]);
  // Left behind on unmount: the latest state, kept in a ref (the cleanup sees the last render's values).
  const latest = useRef<ListMemory>({ filter, sort, selected: list.selected, offset: list.offset });
  latest.current = { filter, sort, selected: list.selected, offset: list.offset, ...(opts.extra ? { extra: opts.extra } : {}) };
  useEffect(() => () => opts.memory?.save(latest.current), []);
  const sortable = opts.server ? columns.filter((c) => opts.server![c.key]) : columns;

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
    if (matches('sort', name) && sortable.length > 0) {
      const i = sort ? sortable.findIndex((c) => c.key === sort.column) : -1;
      const next = sortable[(i + 1) % sortable.length]!;
      setSort({ column: next.key, reverse: false });
      return true;
    }
    if (matches('sort-reverse', name) && sortable.length > 0) {
      setSort((s) => (s ? { ...s, reverse: !s.reverse } : { column: sortable[0]!.key, reverse: true }));
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

  return { view, selected: list.selected, selectedRow, filter, filtering, sort, serverSort: opts.server ? serverSortOf(opts.server, sort) : undefined, onKey, render };
}
