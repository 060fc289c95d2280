import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import { describeError } from '../../format/errors.js';
import { age } from '../../format/time.js';
import type { User } from '../../core/wire.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { Form, type Values } from '../../components/Form.js';
import { MultiSelect } from '../../components/MultiSelect.js';
import { useResource } from '../../hooks/useResource.js';
import { StatusLine, useStatus } from '../../hooks/useStatus.js';
import { useServerTable } from '../../hooks/useServerList.js';
import type { TableOptions } from '../../hooks/useTableView.js';
import { countText } from './TokensScreen.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

/** Column → the daemon's ?sort= for users and service accounts (AGE ascending = newest first). */
export const SUBJECT_SERVER_SORTS: Record<string, string> = { name: 'name', age: '-created' };
/** The users' and service accounts' table: sorted by the daemon, 500 rows first. */
export const subjectTable = (memory: TableOptions['memory']) => ({ memory, sorts: SUBJECT_SERVER_SORTS, first: 500, next: 1000 });

type Mode = { kind: 'list' } | { kind: 'edit'; user?: User } | { kind: 'policies'; user: User } | { kind: 'delete'; user: User };

export function UsersScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh, readOnly, production, navigate } = props;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const [reloads, setReloads] = useState(0);
  const { status, ok: done, fail } = useStatus(() => (setMode({ kind: 'list' }), setReloads((r) => r + 1)));
  const policies = useResource(() => (mode.kind === 'policies' ? conn.client.listPolicies() : Promise.resolve([])), [conn, mode.kind]);
  const columns: Column<User>[] = useMemo(
    () => [
      { key: 'name', header: 'NAME', width: 16, value: (u) => u.name },
      { key: 'email', header: 'EMAIL', width: 24, value: (u) => u.email ?? '' },
      { key: 'policies', header: 'POLICIES', width: 'flex', value: (u) => u.policies.join(',') },
      { key: 'age', header: 'AGE', width: 5, value: (u) => age(u.createdAt), sortValue: (u) => -Date.parse(u.createdAt) },
    ],
    [],
  );
  const { list: users, table } = useServerTable((q) => conn.client.listUsersPage(q), [conn, refresh, reloads], columns, Math.max(1, height - 3), subjectTable(props.memory('users')));
  const rows = users.items;
  const selected = table.selectedRow;

  useEffect(() => setScopes(mode.kind === 'list' ? ['global', 'list', 'users'] : mode.kind === 'delete' ? ['confirm'] : ['form']), [mode.kind]);

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'user-tokens': () => (selected ? navigate('tokens', { subject: selected.name }, true) : false),
          'user-new': () => setMode({ kind: 'edit' }),
          'user-policies': () => (selected ? setMode({ kind: 'policies', user: selected }) : false),
          'user-delete': () => (selected ? setMode({ kind: 'delete', user: selected }) : false),
        },
    { active: mode.kind === 'list', readOnly, onRefused: (text) => props.notify(text, true), fallback: table.onKey },
  );


  if (mode.kind === 'edit') {
    return (
      <Form
        title="Create or update a user"
        fields={[
          { name: 'name', label: 'Name', kind: 'text', placeholder: 'alice', hint: 'an existing name updates that user' },
          { name: 'email', label: 'Email', kind: 'text', placeholder: 'alice@example.com' },
        ]}
        initial={mode.user ? { name: mode.user.name, email: mode.user.email ?? '' } : {}}
        onSubmit={async (v: Values) => {
          try {
            const u = await conn.client.upsertUser({ name: v.name!.trim(), ...(v.email!.trim() ? { email: v.email!.trim() } : {}) });
            done(`user ${u.name} saved`);
          } catch (e) {
            return describeError(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'policies') {
    if (policies.loading && !policies.data?.length) return <Text>loading policies…</Text>;
    if (policies.error) return <ErrorLine message={describeError(policies.error)} theme={theme} />;
    return (
      <MultiSelect
        title={`Policies of ${mode.user.name}`}
        options={(policies.data ?? []).map((p) => ({ value: p.name, label: p.name, note: p.builtin ? `built in · ${p.description}` : p.description }))}
        initial={mode.user.policies}
        height={height - 4}
        onSubmit={async (chosen) => {
          const user = mode.user;
          try {
            for (const p of chosen.filter((c) => !user.policies.includes(c))) await conn.client.attachToUser(user.name, p);
            for (const p of user.policies.filter((c) => !chosen.includes(c))) await conn.client.detachFromUser(user.name, p);
            done(`policies of ${user.name}: ${chosen.join(', ') || 'none'}`);
          } catch (e) {
            fail(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'delete') {
    const user = mode.user;
    return (
      <Confirm
        message={`Delete user ${user.name}? All of its tokens are revoked.`}
        action="Delete"
        typeToConfirm={production ? user.name : undefined}
        onConfirm={() => {
          conn.client.deleteUser(user.name).then((r) => done(`user ${user.name} deleted, ${r.revokedTokens} token(s) revoked`), fail);
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>
        Users <Text dimColor={theme.dim}>({countText(rows.length, !!users.next, users.total, users.totalCapped, !!table.filter.trim())}{users.loading ? ', loading…' : ''}) Enter: tokens</Text>
      </Text>
      {users.error ? <ErrorLine message={describeError(users.error)} theme={theme} /> : table.render({ width, theme, emptyText: users.loading ? 'loading…' : 'no users' })}
      <StatusLine status={status} theme={theme} />
    </Box>
  );
}
