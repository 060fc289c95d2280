import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import type { AuditEvent } from '../../api/client.js';
import { describeError } from '../../format/errors.js';
import { ErrorLine } from '../../components/Chrome.js';
import type { Column } from '../../components/DataTable.js';
import { useServerTable } from '../../hooks/useServerList.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

const OUTCOMES = [undefined, 'denied', 'error', 'success'] as const;

export function AuditScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh } = props;
  const memory = props.memory('audit');
  const [outcome, setOutcome] = useState<(typeof OUTCOMES)[number]>(memory.initial?.extra?.outcome as (typeof OUTCOMES)[number]);
  const [detail, setDetail] = useState<AuditEvent | undefined>();
  const columns: Column<AuditEvent>[] = useMemo(
    () => [
      { key: 'time', header: 'TIME', width: 14, value: (e) => e.time.slice(5, 19).replace('T', ' '), sortValue: (e) => -e.id },
      { key: 'actor', header: 'ACTOR', width: 10, value: (e) => e.actor?.name ?? '-' },
      { key: 'action', header: 'ACTION', width: 10, value: (e) => e.action },
      { key: 'resource', header: 'RESOURCE', width: 18, value: (e) => `${e.resource}${e.ref ? `/${e.ref}` : ''}` },
      { key: 'outcome', header: 'OUTCOME', width: 7, value: (e) => e.outcome, color: (e) => (e.outcome === 'denied' ? theme.warn : e.outcome === 'error' ? theme.danger : undefined) },
      { key: 'message', header: 'MESSAGE', width: 'flex', value: (e) => e.message },
    ],
    [theme],
  );
  // Newest first, paged like tokens; the outcome filter and the search are the daemon's (no other sort).
  const { list: events, table } = useServerTable((q) => conn.client.audit({ ...q, ...(outcome ? { outcome } : {}) }), [conn, refresh, outcome], columns, Math.max(1, height - 3), {
    memory,
    sorts: {},
    first: 300,
    next: 1000,
    extra: { outcome },
  });
  useEffect(() => setScopes(['global', 'list', 'audit']), []);

  useActions(
    PRIORITY.screen,
    detail
      ? { 'audit-detail-close': () => setDetail(undefined) }
      : table.filtering
        ? {}
        : {
            'audit-outcome': () => setOutcome((o) => OUTCOMES[(OUTCOMES.indexOf(o) + 1) % OUTCOMES.length]),
            'audit-detail': () => (table.selectedRow ? setDetail(table.selectedRow) : false),
          },
    { fallback: detail ? () => true : table.onKey },
  );

  if (detail) {
    const rows: [string, string][] = [
      ['Event', String(detail.id)],
      ['Time', detail.time],
      ['Actor', detail.actor ? `${detail.actor.type} ${detail.actor.name}${detail.actor.tokenId ? ` (token ${detail.actor.tokenId})` : ''}` : '(unauthenticated)'],
      ['Action', detail.action],
      ['Resource', `${detail.resource}${detail.ref ? ` ${detail.ref}` : ''}${detail.namespace ? ` in ${detail.namespace}` : ''}`],
      ['Outcome', detail.outcome],
      ['Message', detail.message || '-'],
      ['Remote', detail.remoteAddr ?? '-'],
      ['Hash', detail.hash],
      ['Previous', detail.prevHash],
    ];
    return (
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        {rows.map(([k, val]) => (
          <Text key={k} wrap="wrap">
            <Text bold>{k.padEnd(10)}</Text>
            <Text color={k === 'Outcome' && val !== 'success' ? theme.danger : undefined}>{val}</Text>
          </Text>
        ))}
        <Text dimColor={theme.dim}>Esc back</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Audit <Text dimColor={theme.dim}>(newest first, {events.items.length}{events.next ? '+' : ''}{events.loading ? ', loading…' : ''}) outcome: {outcome ?? 'all'} (o cycles) · / filters actor, action…</Text>
      </Text>
      {events.error && events.items.length === 0 ? <ErrorLine message={describeError(events.error)} theme={theme} /> : table.render({ width, theme, emptyText: events.loading ? 'loading…' : 'no events' })}
    </Box>
  );
}
