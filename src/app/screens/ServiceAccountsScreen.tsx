import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useState } from 'react';
import type { CreatedServiceAccount } from '../../api/client.js';
import { age } from '../../format/time.js';
import { describeError } from '../../format/errors.js';
import type { ServiceAccount, Trust } from '../../core/wire.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { SecretReveal } from '../../components/SecretReveal.js';
import { ServiceAccountWizard } from '../../components/ServiceAccountWizard.js';
import { useResource } from '../../hooks/useResource.js';
import { StatusLine, useStatus } from '../../hooks/useStatus.js';
import { useServerTable } from '../../hooks/useServerList.js';
import { countText } from './TokensScreen.js';
import { subjectTable } from './UsersScreen.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

type Mode = { kind: 'list' } | { kind: 'wizard' } | { kind: 'delete'; sa: ServiceAccount } | { kind: 'secret'; title: string; secret: string; file: string };

export function ServiceAccountsScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh, readOnly, production, navigate } = props;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const [reloads, setReloads] = useState(0);
  const reload = () => setReloads((r) => r + 1);
  const { status, note, ok, fail } = useStatus(() => (setMode({ kind: 'list' }), reload()));
  // Each account's trusts, reloaded with the accounts (same triggers); a daemon without trusts shows none.
  const trusts = useResource(() => conn.client.listTrusts().catch((): Trust[] => []), [conn, refresh, reloads]);
  const trustsOf = useMemo(() => {
    const by = new Map<string, string[]>();
    for (const t of trusts.data ?? []) by.set(t.serviceAccount, [...(by.get(t.serviceAccount) ?? []), t.name]);
    return by;
  }, [trusts.data]);
  const namespaces = useResource(() => (mode.kind === 'wizard' ? conn.client.listNamespaces() : Promise.resolve([])), [conn, mode.kind]);
  const columns: Column<ServiceAccount>[] = useMemo(
    () => [
      { key: 'name', header: 'NAME', width: 16, value: (s) => s.name },
      { key: 'ns', header: 'NAMESPACE', width: 12, value: (s) => s.namespace ?? '*' },
      { key: 'perms', header: 'PERMISSIONS', width: 12, value: (s) => s.permissions.join(',') },
      { key: 'policies', header: 'POLICIES', width: 'flex', value: (s) => s.policies.join(',') },
      { key: 'trusts', header: 'TRUSTS', width: 'flex', value: (s) => (trustsOf.get(s.name) ?? []).join(',') },
      { key: 'age', header: 'AGE', width: 5, value: (s) => age(s.createdAt), sortValue: (s) => -Date.parse(s.createdAt) },
    ],
    [trustsOf],
  );
  const { list: accounts, table } = useServerTable((q) => conn.client.listServiceAccountsPage(q), [conn, refresh, reloads], columns, Math.max(1, height - 3), subjectTable(props.memory('services')));
  const selected = table.selectedRow;
  useEffect(() => setScopes(mode.kind === 'list' ? ['global', 'list', 'services'] : mode.kind === 'wizard' ? ['wizard'] : mode.kind === 'secret' ? ['secret'] : ['confirm']), [mode.kind]);

  const showSecret = (res: { token: { name: string; id: string }; secret: string }, who: string) =>
    setMode({ kind: 'secret', title: `Token ${res.token.name} (${res.token.id}) for service account ${who}`, secret: res.secret, file: `${who}.token` });

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'sa-tokens': () => (selected ? navigate('tokens', { subject: selected.name }, true) : false),
          'sa-new': () => setMode({ kind: 'wizard' }),
          'sa-token': () => {
            if (!selected) return false;
            conn.client.createToken({ name: `${selected.name}-${new Date().toISOString().slice(0, 10)}`, subjectName: selected.name }).then(
              (res) => showSecret(res, selected.name),
              (e: unknown) => note(describeError(e), true),
            );
          },
          'sa-delete': () => (selected ? setMode({ kind: 'delete', sa: selected }) : false),
        },
    { active: mode.kind === 'list', readOnly, onRefused: (text) => props.notify(text, true), fallback: table.onKey },
  );

  if (mode.kind === 'wizard') {
    return (
      <ServiceAccountWizard
        client={conn.client}
        namespaces={(namespaces.data ?? []).map((n) => n.name)}
        height={height}
        limits={props.whoami?.limits}
        theme={theme}
        onCancel={() => setMode({ kind: 'list' })}
        onTrusted={ok}
        onCreated={(res: CreatedServiceAccount) => {
          for (const w of res.warnings ?? []) note(`warning: ${w}`);
          reload();
          showSecret(res, res.serviceAccount.name);
        }}
      />
    );
  }
  if (mode.kind === 'secret') {
    return <SecretReveal title={mode.title} secret={mode.secret} suggestedFile={mode.file} onDone={() => ok('secret dismissed: it cannot be shown again')} theme={theme} />;
  }
  if (mode.kind === 'delete') {
    const sa = mode.sa;
    return (
      <Confirm
        message={`Delete service account ${sa.name}? Its tokens are revoked and its derived policies removed.`}
        action="Delete"
        typeToConfirm={production ? sa.name : undefined}
        onConfirm={() => conn.client.deleteServiceAccount(sa.name).then((r) => ok(`service account ${sa.name} deleted, ${r.revokedTokens} token(s) revoked`), fail)}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>
        Service accounts <Text dimColor={theme.dim}>({countText(accounts.items.length, !!accounts.next, accounts.total, accounts.totalCapped, !!table.filter.trim())}) n new (wizard) · t another token · Enter tokens</Text>
      </Text>
      {accounts.error ? <ErrorLine message={describeError(accounts.error)} theme={theme} /> : table.render({ width, theme, emptyText: accounts.loading ? 'loading…' : 'no service accounts: press n' })}
      <StatusLine status={status} theme={theme} />
    </Box>
  );
}
