import { Box, Text } from 'ink';
import { readFileSync } from 'node:fs';
import React, { useEffect, useMemo, useState } from 'react';
import type { Registry } from '../../api/client.js';
import { age } from '../../format/time.js';
import { describeError } from '../../format/errors.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { Form, type Values } from '../../components/Form.js';
import { useResource } from '../../hooks/useResource.js';
import { StatusLine, useStatus } from '../../hooks/useStatus.js';
import { useTableView } from '../../hooks/useTableView.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

type Mode = { kind: 'list' } | { kind: 'form'; existing?: Registry } | { kind: 'delete'; registry: Registry };

/** The registry body from the form; the password comes typed (masked) or from a file, never shown. */
function bodyOf(v: Values): Record<string, unknown> | string {
  const body: Record<string, unknown> = { name: v.name!.trim(), server: v.server!.trim(), type: v.type };
  if (v.type === 'ecr') return { ...body, region: v.region!.trim() };
  body.username = v.username!.trim();
  if (v.password) body.password = v.password;
  else if (v.passwordFile!.trim()) {
    try {
      body.password = readFileSync(v.passwordFile!.trim(), 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      return `cannot read ${v.passwordFile!.trim()}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }
  return body;
}

export function RegistriesScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh, readOnly } = props;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const registries = useResource(() => conn.client.listRegistries(), [conn, refresh]);
  const { status, ok, fail } = useStatus(() => (setMode({ kind: 'list' }), registries.reload()));
  const columns: Column<Registry>[] = useMemo(
    () => [
      { key: 'name', header: 'NAME', width: 16, value: (r) => r.name },
      { key: 'server', header: 'SERVER', width: 'flex', value: (r) => r.server },
      { key: 'type', header: 'TYPE', width: 6, value: (r) => r.type },
      { key: 'user', header: 'USERNAME', width: 14, value: (r) => r.username ?? (r.region ? `aws ${r.region}` : '') },
      { key: 'updated', header: 'UPDATED', width: 8, value: (r) => `${age(r.updatedAt)} ago`, sortValue: (r) => -Date.parse(r.updatedAt) },
    ],
    [],
  );
  const table = useTableView(registries.data ?? [], columns, Math.max(1, height - 3), { memory: props.memory('registries') });
  const selected = table.selectedRow;
  useEffect(() => setScopes(mode.kind === 'list' ? ['global', 'list', 'registries'] : mode.kind === 'delete' ? ['confirm'] : ['form']), [mode.kind]);

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'reg-new': () => setMode({ kind: 'form' }),
          'reg-replace': () => (selected ? setMode({ kind: 'form', existing: selected }) : false),
          'reg-delete': () => (selected ? setMode({ kind: 'delete', registry: selected }) : false),
        },
    { active: mode.kind === 'list', readOnly, onRefused: (text) => props.notify(text, true), fallback: table.onKey },
  );

  if (mode.kind === 'form') {
    const existing = mode.existing;
    return (
      <Form
        title={existing ? `Replace registry ${existing.name} (leave the password empty to keep it)` : 'Add a registry'}
        fields={[
          { name: 'name', label: 'Name', kind: 'text', placeholder: 'ghcr-private' },
          { name: 'type', label: 'Type', kind: 'choice', options: ['docker', 'ecr'] },
          { name: 'server', label: 'Server', kind: 'text', placeholder: 'ghcr.io' },
          { name: 'username', label: 'Username', kind: 'text' },
          { name: 'password', label: 'Password', kind: 'secret', hint: 'stored encrypted, never shown' },
          { name: 'passwordFile', label: 'or from file', kind: 'text', placeholder: './ghcr.token' },
          { name: 'region', label: 'AWS region', kind: 'text', placeholder: 'eu-west-1' },
        ]}
        initial={existing ? { name: existing.name, type: existing.type, server: existing.server, username: existing.username ?? '', region: existing.region ?? '' } : {}}
        visible={(f, v) => (v.type === 'ecr' ? !['username', 'password', 'passwordFile'].includes(f.name) : f.name !== 'region')}
        onSubmit={async (v) => {
          const body = bodyOf(v);
          if (typeof body === 'string') return body;
          try {
            const saved = existing ? await conn.client.replaceRegistry(existing.name, body) : await conn.client.addRegistry(body);
            ok(`registry ${saved.name} ${existing ? 'replaced' : 'added'}`);
          } catch (e) {
            return describeError(e);
          }
        }}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  if (mode.kind === 'delete') {
    const r = mode.registry;
    return (
      <Confirm
        message={`Remove registry ${r.name} (${r.server})? runed can no longer pull private images from it.`}
        action="Remove"
        onConfirm={() => conn.client.removeRegistry(r.name).then(() => ok(`registry ${r.name} removed`), fail)}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>
        Registries <Text dimColor={theme.dim}>({registries.data?.length ?? 0}) passwords are write-only</Text>
      </Text>
      {registries.error ? <ErrorLine message={describeError(registries.error)} theme={theme} /> : table.render({ width, theme, emptyText: registries.loading ? 'loading…' : 'no registries: press n' })}
      <StatusLine status={status} theme={theme} />
    </Box>
  );
}
