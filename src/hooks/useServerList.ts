import { useCallback, useEffect, useRef, useState } from 'react';
import type { Column } from '../components/DataTable.js';
import type { List } from '../core/wire.js';
import { queryOf, useTableView, type TableOptions } from './useTableView.js';

export type ServerQuery = {
  limit: number;
  search?: string;
  sort?: string;
  cursor?: string;
};

export interface ServerList<T> {
  items: T[];
  next?: string | undefined;
  /** The daemon's count of matching rows (a lower bound when `totalCapped`). */
  total?: number | undefined;
  totalCapped?: boolean | undefined;
  /** The search the rows answer ('' for none); while it differs from the one typed, they are stale. */
  answered: string;
  loading: boolean;
  error?: unknown;
  /** Asks for the page after the loaded rows. */
  loadMore: () => void;
}

/** How long typing must pause before the daemon is asked (each key would otherwise be a request). */
export const SEARCH_DEBOUNCE_MS = 150;

/**
 * A list answered by the daemon: search and sort are its query parameters, pages follow the
 * cursor. A new question drops the answers still on their way to an older one.
 */
export function useServerList<T>(fetchPage: (q: ServerQuery) => Promise<List<T>>, deps: unknown[], q: { search: string; sort?: string | undefined; first: number; next: number }): ServerList<T> {
  const [state, setState] = useState<Omit<ServerList<T>, 'loadMore'>>({ items: [], loading: true, answered: q.search.trim() });
  const generation = useRef(0);
  const base = (): ServerQuery => ({ limit: q.first, ...(q.search.trim() ? { search: q.search.trim() } : {}), ...(q.sort ? { sort: q.sort } : {}) });

  const load = useCallback(
    (cursor?: string) => {
      const mine = cursor ? generation.current : ++generation.current;
      const asked = q.search.trim();
      setState((s) => ({ ...s, loading: true }));
      fetchPage({ ...base(), ...(cursor ? { cursor, limit: q.next } : {}) }).then(
        (page) =>
          mine === generation.current &&
          setState((s) => ({
            items: cursor ? [...s.items, ...page.items] : page.items,
            next: page.nextCursor,
            total: cursor ? s.total : page.total,
            totalCapped: cursor ? s.totalCapped : page.totalCapped,
            answered: asked,
            loading: false,
          })),
        (error: unknown) => mine === generation.current && setState((s) => ({ ...s, loading: false, error })),
      );
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [...deps, q.search, q.sort],
  );
  const typed = useRef(q.search);
  useEffect(() => {
    // Typing waits for a pause; anything else (sort, refresh, first load) asks at once.
    if (typed.current === q.search) return load();
    typed.current = q.search;
    ++generation.current;
    const timer = setTimeout(() => load(), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [load]);
  const loadMore = () => {
    if (state.next && !state.loading) load(state.next);
  };
  return { ...state, loadMore };
}

/**
 * A table whose rows are the daemon's answer: the filter and the sort the operator sets become
 * its question, the next page is asked for as the selection nears the end of what is loaded.
 */
export function useServerTable<T>(
  fetchPage: (q: ServerQuery) => Promise<List<T>>,
  deps: unknown[],
  columns: Column<T>[],
  height: number,
  opts: { memory: TableOptions['memory']; sorts: Record<string, string>; first: number; next: number; extra?: Record<string, string | undefined> },
) {
  const [query, setQuery] = useState(() => queryOf(opts.memory?.initial, opts.sorts));
  const list = useServerList(fetchPage, deps, { ...query, first: opts.first, next: opts.next });
  const table = useTableView(list.items, columns, height, { memory: opts.memory, server: opts.sorts, answered: list.answered, ...(opts.extra ? { extra: opts.extra } : {}) });
  useEffect(() => setQuery({ search: table.filter, sort: table.serverSort }), [table.filter, table.serverSort]);
  useEffect(() => {
    if (table.selected >= list.items.length - height * 2) list.loadMore();
  }, [table.selected, list.next, list.loading]);
  return { list, table };
}
