import { Box, Text } from 'ink';
import { rmSync } from 'node:fs';
import React, { useEffect, useMemo, useState } from 'react';
import { RuneClient } from '../../api/client.js';
import { describeError } from '../../format/errors.js';
import { checkContextName, contextToken, type ContextEntry } from '../../config/contexts.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { Form, type Values } from '../../components/Form.js';
import { useResource } from '../../hooks/useResource.js';
import { useTableView } from '../../hooks/useTableView.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

interface Row {
  name: string;
  current: boolean;
  entry: ContextEntry;
  reach: string;
  identity: string;
}

/** Probes a context with its own token: reachable? as whom? Never throws. */
async function probe(name: string, entry: ContextEntry): Promise<{ reach: string; identity: string }> {
  let token: string | undefined;
  try {
    token = contextToken(entry, name);
  } catch {
    return { reach: 'no token', identity: '' };
  }
  const client = new RuneClient({ server: entry.server, ...(token ? { token } : {}), ...(entry['ca-file'] ? { caFile: entry['ca-file'] } : {}), timeoutMs: 3000 });
  try {
    const me = await client.whoami();
    return { reach: 'ok', identity: `${me.subject.type} ${me.subject.name}` };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { reach: code === 'unavailable' ? 'unreachable' : code === 'unauthenticated' ? 'bad token' : 'error', identity: '' };
  }
}

export function ContextsScreen() {
  const props = useScreen();
  const { store, theme, width, height, setScopes, switchContext, refresh, conn } = props;
  const [mode, setMode] = useState<'list' | 'add' | 'delete'>('list');
  const [error, setError] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const entries = useMemo(() => Object.entries(store.contexts()), [store, version, refresh]);
  const probes = useResource(async () => {
    const results = await Promise.all(entries.map(([name, e]) => probe(name, e)));
    return new Map(entries.map(([name], i) => [name, results[i]!]));
  }, [entries]);
  const current = conn.target.context;
  const rows: Row[] = useMemo(
    () => entries.map(([name, entry]) => ({ name, entry, current: name === current, reach: probes.data?.get(name)?.reach ?? '…', identity: probes.data?.get(name)?.identity ?? '' })),
    [entries, current, probes.data],
  );
  const columns: Column<Row>[] = useMemo(
    () => [
      { key: 'cur', header: ' ', width: 1, value: (r) => (r.current ? '*' : ' ') },
      { key: 'name', header: 'NAME', width: 14, value: (r) => r.name, color: (r) => (r.entry.production ? theme.danger : undefined) },
      { key: 'server', header: 'SERVER', width: 'flex', value: (r) => r.entry.server },
      { key: 'ns', header: 'NAMESPACE', width: 10, value: (r) => r.entry.namespace ?? 'default' },
      { key: 'reach', header: 'STATUS', width: 11, value: (r) => r.reach, color: (r) => (r.reach === 'ok' ? theme.ok : r.reach === '…' ? undefined : theme.danger) },
      { key: 'who', header: 'IDENTITY', width: 16, value: (r) => r.identity },
    ],
    [theme],
  );
  const table = useTableView(rows, columns, Math.max(1, height - 3), { memory: props.memory('contexts') });
  const selected = table.selectedRow;

  useEffect(() => setScopes(mode === 'list' ? ['global', 'list', 'contexts'] : mode === 'add' ? ['form'] : ['confirm']), [mode]);

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'ctx-use': () => {
            if (!selected) return false;
            store.use(selected.name);
            switchContext(selected.name);
          },
          'ctx-add': () => setMode('add'),
          'ctx-delete': () => (selected ? setMode('delete') : false),
        },
    { active: mode === 'list', fallback: table.onKey },
  );

  const add = async (v: Values): Promise<string | void> => {
    const name = v.name!.trim();
    try {
      checkContextName(name);
    } catch (e) {
      return (e as Error).message;
    }
    if (!v.server!.trim()) return 'server is required, e.g. localhost:7863';
    if (!v.token!.trim()) return 'token is required';
    const client = new RuneClient({ server: v.server!.trim(), token: v.token!.trim(), timeoutMs: 5000 });
    try {
      await client.whoami();
    } catch (e) {
      return describeError(e);
    }
    store.set(name, { server: v.server!.trim(), token: v.token!.trim(), namespace: v.namespace!.trim() || 'default' });
    store.use(name);
    setVersion((x) => x + 1);
    setMode('list');
    switchContext(name);
  };

  if (mode === 'add') {
    return (
      <Form
        title="Add a context (rune login)"
        fields={[
          { name: 'name', label: 'Name', kind: 'text', placeholder: 'dev' },
          { name: 'server', label: 'Server', kind: 'text', placeholder: 'localhost:7863' },
          { name: 'token', label: 'Token', kind: 'secret', hint: 'checked with whoami before saving' },
          { name: 'namespace', label: 'Namespace', kind: 'text', placeholder: 'default' },
        ]}
        onSubmit={add}
        onCancel={() => setMode('list')}
        theme={theme}
      />
    );
  }
  if (mode === 'delete' && selected) {
    const isCurrent = selected.name === current;
    const file = selected.entry['token-file'];
    // Another context may share the file (login --token-file twice): then it stays.
    const shared = file !== undefined && entries.some(([n, e]) => n !== selected.name && e['token-file'] === file);
    const others = entries.map(([n]) => n).filter((n) => n !== selected.name);
    const then = isCurrent ? (others[0] ? ` You are using it now: rune switches to "${others[0]}".` : ' You are using it now: no context is left to switch to.') : '';
    const token = file ? (shared ? ` Its token file ${file} stays (another context uses it).` : ` Its token file ${file} is deleted.`) : ' Its saved token goes with it.';
    return (
      <Confirm
        message={`Delete context "${selected.name}" (${selected.entry.server})?${token}${then}`}
        action="Delete"
        onConfirm={() => {
          try {
            store.delete(selected.name);
            if (file && !shared) rmSync(file, { force: true });
            if (isCurrent) {
              if (others[0]) store.use(others[0]);
              props.switchContext(others[0]);
            }
            props.notify(`context ${selected.name} deleted${file && !shared ? `, ${file} removed` : ''}`);
          } catch (e) {
            setError((e as Error).message);
          }
          setVersion((x) => x + 1);
          setMode('list');
        }}
        onCancel={() => setMode('list')}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>Contexts <Text dimColor={theme.dim}>({rows.length}; * current; Enter switches)</Text></Text>
      {table.render({ width, theme, emptyText: 'no contexts yet: press a to add one' })}
      {error ? <ErrorLine message={error} theme={theme} /> : null}
    </Box>
  );
}
