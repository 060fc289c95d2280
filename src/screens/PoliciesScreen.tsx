import { Box, Text, useStdin, useStdout } from 'ink';
import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { editInEditor } from '../cli/editor.js';
import { describeError } from '../cli/runtime.js';
import { policyToYaml } from '../core/policy.js';
import type { Policy } from '../core/wire.js';
import { ErrorLine } from '../components/Chrome.js';
import { Confirm } from '../components/Confirm.js';
import type { Column } from '../components/DataTable.js';
import { YamlEditor } from '../components/YamlEditor.js';
import { useResource } from '../hooks/useResource.js';
import { StatusLine, useStatus } from '../hooks/useStatus.js';
import { useTableView } from '../hooks/useTableView.js';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import type { ScreenProps } from './types.js';

const TEMPLATE = `name: new-policy
description: ""
rules:
  - resource: services
    verbs: [get, list]
    namespace: dev
`;

type Holders = { name: string; type: string }[];
type Mode =
  | { kind: 'list' }
  | { kind: 'edit'; policy?: Policy; text: string; saved: string; title: string; holders?: Holders }
  | { kind: 'delete'; policy: Policy; holders: Holders };

const holdersText = (h: Holders) => (h.length ? h.map((x) => `${x.type === 'service' ? 'service' : 'user'} ${x.name}`).join(', ') : 'nobody');

export function PoliciesScreen(props: ScreenProps) {
  const { conn, theme, width, height, setScopes, refresh, readOnly, setDraft } = props;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const { setRawMode } = useStdin();
  const { stdout } = useStdout();
  const policies = useResource(() => conn.client.listPolicies(), [conn, refresh]);
  const { status, note, ok, fail } = useStatus(() => (setMode({ kind: 'list' }), policies.reload()));
  const remoteLint = useCallback((text: string) => conn.client.lintPolicy(text), [conn]);
  const columns: Column<Policy>[] = useMemo(
    () => [
      { key: 'name', header: 'NAME', width: 20, value: (p) => p.name },
      { key: 'builtin', header: 'KIND', width: 8, value: (p) => (p.builtin ? 'built-in' : 'custom'), color: (p) => (p.builtin ? theme.accent : undefined) },
      { key: 'rules', header: 'RULES', width: 5, value: (p) => String(p.rules.length), sortValue: (p) => p.rules.length },
      { key: 'description', header: 'DESCRIPTION', width: 'flex', value: (p) => p.description },
    ],
    [theme],
  );
  const table = useTableView(policies.data ?? [], columns, Math.max(1, height - 3));
  const selected = table.selectedRow;
  useEffect(() => setScopes(mode.kind === 'list' ? ['global', 'list', 'policies'] : mode.kind === 'delete' ? ['confirm'] : ['editor']), [mode.kind]);

  /** The $EDITOR hand-off: raw mode off, the editor on the terminal, raw mode back, full redraw. */
  const external = (text: string, name: string): string | undefined => {
    setRawMode(false);
    try {
      return editInEditor(text, `${name}.yaml`);
    } catch (e) {
      note((e as Error).message, true);
      return undefined;
    } finally {
      setRawMode(true);
      stdout.write('\x1b[2J\x1b[H');
    }
  };

  const openEditor = async (p: Policy | undefined, clone = false) => {
    if (!p) return setMode({ kind: 'edit', text: TEMPLATE.trimEnd(), saved: '', title: 'New policy' });
    const full = await conn.client.getPolicy(p.name).catch(() => ({ ...p, attachedTo: [] as Holders }));
    const yaml = policyToYaml(full).trimEnd();
    if (clone || p.builtin) {
      const copy = yaml.replace(/^name: .*$/m, `name: ${p.name}-copy`);
      return setMode({ kind: 'edit', text: copy, saved: '', title: `Clone of ${p.name}${p.builtin ? ' (built-ins are read-only)' : ''}` });
    }
    setMode({ kind: 'edit', policy: p, text: yaml, saved: yaml, title: `Policy ${p.name} · attached to ${holdersText(full.attachedTo)}`, holders: full.attachedTo });
  };

  useKeys(
    PRIORITY.screen,
    (name, input) => {
      if (table.onKey(name, input)) return true;
      if (matches('policy-open', name) && selected) void openEditor(selected);
      else if (readOnly) return false;
      else if (matches('policy-new', name)) void openEditor(undefined);
      else if (matches('policy-clone', name) && selected) void openEditor(selected, true);
      else if (matches('policy-external', name) && selected) {
        if (selected.builtin) note(`${selected.name} is built in: clone it (c) to change a copy`, true);
        else {
          const back = external(policyToYaml(selected), selected.name);
          if (back !== undefined && back.trim() !== policyToYaml(selected).trim()) {
            conn.client.replacePolicy(selected.name, back).then(() => ok(`policy ${selected.name} saved from $EDITOR`), (e: unknown) => note(`not saved: ${describeError(e)}`, true));
          }
        }
      } else if (matches('policy-delete', name) && selected) {
        if (selected.builtin) note(`${selected.name} is built in and cannot be deleted`, true);
        else void conn.client.getPolicy(selected.name).then((p) => setMode({ kind: 'delete', policy: p, holders: p.attachedTo }), fail);
      } else return false;
      return true;
    },
    mode.kind === 'list',
  );

  if (mode.kind === 'edit') {
    const existing = mode.policy;
    return (
      <YamlEditor
        title={mode.title}
        initial={mode.text}
        saved={mode.saved}
        height={height}
        width={width}
        theme={theme}
        onClose={() => setMode({ kind: 'list' })}
        onDraft={setDraft}
        remoteLint={remoteLint}
        {...(readOnly ? {} : { onExternal: (text: string) => external(text, existing?.name ?? 'policy') })}
        onSave={async (text) => {
          if (readOnly) return 'read-only: nothing can be saved';
          try {
            const saved = existing ? await conn.client.replacePolicy(existing.name, text) : await conn.client.createPolicy(text);
            ok(`policy ${saved.name} saved${saved.warnings?.length ? ` with ${saved.warnings.length} warning(s)` : ''}`);
          } catch (e) {
            return describeError(e);
          }
        }}
      />
    );
  }
  if (mode.kind === 'delete') {
    const p = mode.policy;
    return (
      <Confirm
        message={`Delete policy ${p.name}? ${mode.holders.length ? `It is attached to ${holdersText(mode.holders)}, who lose its rights.` : 'Nobody holds it.'}`}
        action="Delete"
        onConfirm={() => conn.client.deletePolicy(p.name).then((r) => ok(`policy ${p.name} deleted${r.detachedFrom.length ? `, detached from ${holdersText(r.detachedFrom)}` : ''}`), fail)}
        onCancel={() => setMode({ kind: 'list' })}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>
        Policies <Text dimColor={theme.dim}>({policies.data?.length ?? 0}) Enter edit · built-ins open as a clone</Text>
      </Text>
      {policies.error ? <ErrorLine message={describeError(policies.error)} theme={theme} /> : table.render({ width, theme, emptyText: policies.loading ? 'loading…' : 'no policies' })}
      <StatusLine status={status} theme={theme} />
    </Box>
  );
}
