import { Box, Text, useStdin, useStdout } from 'ink';
import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { editInEditor } from '../../terminal/editor.js';
import { describeError } from '../../format/errors.js';
import { lintPolicyText, policyToYaml } from '../../core/policy.js';
import type { Policy } from '../../core/wire.js';
import { ErrorLine } from '../../components/Chrome.js';
import { Confirm } from '../../components/Confirm.js';
import type { Column } from '../../components/DataTable.js';
import { YamlEditor } from '../../components/YamlEditor.js';
import { useResource } from '../../hooks/useResource.js';
import { StatusLine, useStatus } from '../../hooks/useStatus.js';
import { useTableView } from '../../hooks/useTableView.js';
import { handOver } from '../../terminal/screen.js';
import { PRIORITY, useActions } from '../../tui/input.js';
import { useScreen } from './types.js';

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
  | { kind: 'delete'; policy: Policy; holders: Holders; impact: string[] };

const holdersText = (h: Holders) => (h.length ? h.map((x) => `${x.type === 'service' ? 'service' : 'user'} ${x.name}`).join(', ') : 'nobody');

/** At most `max` lines, the last one saying how many more there are. */
const capLines = (lines: string[], max: number) => (lines.length <= max ? lines : [...lines.slice(0, max - 1), `… and ${lines.length - max + 1} more lines`]);

/** The text the operator saved (comments and quoting kept) when the daemon has it, else the rules as YAML. */
const sourceOf = (p: Policy & { source?: string }) => (p.source ?? policyToYaml(p)).trimEnd();

export function PoliciesScreen() {
  const props = useScreen();
  const { conn, theme, width, height, setScopes, refresh, readOnly, setDraft } = props;
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const { setRawMode } = useStdin();
  // Ink's write() erases its frame, writes, and draws the whole frame again: the repaint after $EDITOR.
  const { stdout, write: repaint } = useStdout();
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
  const table = useTableView(policies.data ?? [], columns, Math.max(1, height - 3), { memory: props.memory('policies') });
  const selected = table.selectedRow;
  useEffect(() => setScopes(mode.kind === 'list' ? ['global', 'list', 'policies'] : mode.kind === 'delete' ? ['confirm'] : ['editor']), [mode.kind]);

  /**
   * The $EDITOR hand-off: the editor gets the main screen and a cooked terminal without bracketed
   * paste (it sets up its own); afterwards the TUI's alternate screen and paste mode come back and
   * the whole frame is drawn again.
   */
  const external = (text: string, name: string): string | undefined => {
    try {
      return handOver({ write: (d) => stdout.write(d), setRawMode }, () => editInEditor(text, `${name}.yaml`));
    } catch (e) {
      note((e as Error).message, true);
      return undefined;
    } finally {
      repaint('');
    }
  };

  const openEditor = async (p: Policy | undefined, clone = false) => {
    if (!p) return setMode({ kind: 'edit', text: TEMPLATE.trimEnd(), saved: '', title: 'New policy' });
    const full = await conn.client.getPolicy(p.name).catch(() => ({ ...p, attachedTo: [] as Holders }));
    const yaml = sourceOf(full);
    if (clone || p.builtin) {
      const copy = yaml.replace(/^name: .*$/m, `name: ${p.name}-copy`);
      return setMode({ kind: 'edit', text: copy, saved: '', title: `Clone of ${p.name}${p.builtin ? ' (built-ins are read-only)' : ''}` });
    }
    setMode({ kind: 'edit', policy: p, text: yaml, saved: yaml, title: `Policy ${p.name} · attached to ${holdersText(full.attachedTo)}`, holders: full.attachedTo });
  };

  useActions(
    PRIORITY.screen,
    table.filtering
      ? {}
      : {
          'policy-open': () => (selected ? void openEditor(selected) : false),
          'policy-new': () => void openEditor(undefined),
          'policy-clone': () => (selected ? void openEditor(selected, true) : false),
          'policy-external': () => {
            if (!selected) return false;
            if (selected.builtin) return note(`${selected.name} is built in: clone it (c) to change a copy`, true);
            // Back from $EDITOR into the in-TUI editor: the text with its errors, saved only with ctrl-s (after the diff).
            void conn.client.getPolicy(selected.name).then((full) => {
              const yaml = sourceOf(full);
              const back = external(yaml, selected.name);
              setMode({ kind: 'edit', policy: selected, text: (back ?? yaml).replace(/\n$/, ''), saved: yaml, title: `Policy ${selected.name} · from $EDITOR · attached to ${holdersText(full.attachedTo)}`, holders: full.attachedTo });
            }, fail);
          },
          'policy-delete': () => {
            if (!selected) return false;
            if (selected.builtin) note(`${selected.name} is built in and cannot be deleted`, true);
            // A dry run of the delete: the confirmation says who would lose which rights.
            else void conn.client.deletePolicy(selected.name, { dryRun: true }).then((r) => setMode({ kind: 'delete', policy: r.policy, holders: r.detachedFrom, impact: r.impact.summary }), fail);
          },
        },
    { active: mode.kind === 'list', readOnly, onRefused: (text) => note(text, true), fallback: table.onKey },
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
        readOnly={readOnly}
        onRefused={(text) => note(text, true)}
        onDraft={setDraft}
        impact={(text) => conn.client.policyImpact(existing?.name ?? lintPolicyText(text).policy?.name ?? '', text).then((r) => r.summary)}
        remoteLint={remoteLint}
        onExternal={(text: string) => external(text, existing?.name ?? 'policy')}
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
        message={[`Delete policy ${p.name}? ${mode.holders.length ? `It is attached to ${holdersText(mode.holders)}.` : 'Nobody holds it.'}`, ...capLines(mode.impact, Math.max(1, height - 8))].join('\n')}
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
