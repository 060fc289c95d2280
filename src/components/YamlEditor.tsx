import { Box, Text } from 'ink';
import React, { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { lintPolicyText, type LintResult } from '../core/policy.js';
import { PRIORITY, useActions, type Action } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { editorReducer, fromText, lineDiff, toText, windowTop } from './editorState.js';

export interface YamlEditorProps {
  title: string;
  initial: string;
  /** The stored version, for the diff before saving ('' for a new policy). */
  saved: string;
  height: number;
  width: number;
  /** Saves; returns an error message to keep the editor open. */
  onSave: (text: string) => Promise<string | void>;
  onClose: () => void;
  /** Hands the current text to $VISUAL/$EDITOR and returns what came back. */
  onExternal?: (text: string) => string | undefined;
  /** Who gains and loses which rights if the text were saved (the daemon's impact summary), asked before saving. */
  impact?: (text: string) => Promise<string[]>;
  /** Called with every valid draft, for the Can-I what-if. */
  onDraft?: (text: string) => void;
  /** The daemon's lint (POST /v1/policies/lint), asked once typing pauses. */
  remoteLint?: (text: string) => Promise<Pick<LintResult, 'valid' | 'errors' | 'warnings'>>;
  /** Read-only context: the text can be read and moved through, not changed or saved. */
  readOnly?: boolean;
  /** Says why a key does nothing (e.g. "read-only context"). */
  onRefused?: (message: string) => void;
  theme: Theme;
}

/**
 * A multi-line YAML editor for policies: cursor keys, Home/End, PgUp/PgDn, typing and paste,
 * newline keeping indentation, line numbers, live validation (the daemon's lint rules, run
 * locally so typing stays instant), a diff before ctrl-s saves, and a question before Esc drops
 * unsaved changes. ctrl-o opens the text in $VISUAL/$EDITOR.
 */
export function YamlEditor({ title, initial, saved, height, width, onSave, onClose, onExternal, impact, onDraft, remoteLint, readOnly = false, onRefused, theme }: YamlEditorProps) {
  const [state, dispatch] = useReducer(editorReducer, initial, fromText);
  const topRef = useRef(0);
  const [mode, setMode] = useState<'edit' | 'diff' | 'discard'>('edit');
  const [message, setMessage] = useState<{ text: string; error?: boolean } | undefined>();
  const [busy, setBusy] = useState(false);
  // The impact of the text being confirmed: asked on ctrl-s, shown with the diff; for that text only.
  const [effect, setEffect] = useState<{ text: string; lines?: string[]; failed?: string }>();
  // After ctrl-x: the whole text is selected; a paste or a typed key replaces it, a movement or Esc keeps it.
  const [allSelected, setAllSelected] = useState(false);
  const textHeight = Math.max(3, height - 6);
  // The window follows the cursor and otherwise stays where it was.
  const top = (topRef.current = windowTop(topRef.current, state.row, textHeight));
  const text = toText(state);
  const local: LintResult = useMemo(() => lintPolicyText(text), [text]);
  const effectReady = !impact || (effect?.text === text && (effect.lines !== undefined || effect.failed !== undefined));
  // The daemon has the last word: once typing pauses its answer replaces the local one for that text.
  const [remote, setRemote] = useState<{ text: string; result?: Pick<LintResult, 'valid' | 'errors' | 'warnings'>; failed?: string }>();
  useEffect(() => {
    if (!remoteLint) return;
    const timer = setTimeout(() => {
      remoteLint(text).then(
        (result) => setRemote({ text, result }),
        (e: Error) => setRemote({ text, failed: e.message }),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [text, remoteLint]);
  const fromDaemon = remote?.text === text && remote.result !== undefined;
  const lint = fromDaemon ? remote.result! : local;
  // Against what is stored (a text back from $EDITOR opens already changed), else the starting text.
  const dirty = text !== (saved || initial);
  const byLine = new Map<number, { error: boolean; message: string }>();
  for (const w of lint.warnings) if (w.line) byLine.set(w.line, { error: false, message: `${w.line}:${w.column} ${w.message}` });
  for (const e of lint.errors) if (e.line) byLine.set(e.line, { error: true, message: `${e.line}:${e.column} ${e.message}` });

  const save = async () => {
    setBusy(true);
    const problem = await onSave(text).catch((e: Error) => e.message);
    setBusy(false);
    if (problem) {
      setMessage({ text: problem, error: true });
      setMode('edit');
    }
  };

  // Edits go straight to the reducer (they queue there), so keys of one read all apply.
  const edit = (action: Parameters<typeof dispatch>[0]): Action => () => {
    setMessage(undefined);
    dispatch(action);
    return 'text';
  };
  const move = (action: Parameters<typeof dispatch>[0]): Action => () => {
    setAllSelected(false);
    dispatch(action);
    return 'text';
  };
  /** Typing or pasting: over a select-all, the text becomes what was typed. */
  const typeIn = (insert: string): Action => () => {
    setMessage(undefined);
    if (allSelected) {
      setAllSelected(false);
      dispatch({ type: 'set', text: '' });
    }
    dispatch({ type: 'insert', text: insert });
    // The selection state changes what the next key does: it must render first.
    return allSelected ? true : 'text';
  };
  const actions: Partial<Record<string, Action>> = busy
    ? {}
    : mode === 'discard'
      ? { 'editor-discard-yes': () => onClose(), 'editor-discard-no': () => setMode('edit') }
      : mode === 'diff'
        ? {
            // Saving waits for the impact: the operator confirms having seen who gains and loses what.
            'confirm-yes': () => void (effectReady && save()),
            'editor-save': () => void (effectReady && save()),
            'confirm-no': () => setMode('edit'),
          }
        : {
            'editor-close': () => (allSelected ? setAllSelected(false) : dirty ? setMode('discard') : onClose()),
            'editor-select-all': () => {
              setAllSelected(true);
              setMessage({ text: 'all selected: paste (or type) to replace the whole text · Esc keeps it' });
            },
            'editor-kill-line': edit({ type: 'kill-line' }),
            'editor-save': () => {
              if (!lint.valid) setMessage({ text: `fix the errors first: ${lint.errors[0]!.message}`, error: true });
              else if (!dirty && saved) setMessage({ text: 'no changes to save' });
              else {
                onDraft?.(text);
                setMode('diff');
                if (impact && effect?.text !== text) {
                  setEffect({ text });
                  impact(text).then(
                    (lines) => setEffect((e) => (e?.text === text ? { text, lines } : e)),
                    (e: Error) => setEffect((cur) => (cur?.text === text ? { text, failed: e.message } : cur)),
                  );
                }
              }
            },
            ...(onExternal
              ? {
                  'editor-external': () => {
                    const back = onExternal(text);
                    if (back !== undefined) dispatch({ type: 'set', text: back.replace(/\n$/, '') });
                  },
                }
              : {}),
            'editor-up': move({ type: 'move', dRow: -1, dCol: 0 }),
            'editor-down': move({ type: 'move', dRow: 1, dCol: 0 }),
            'editor-left': move({ type: 'move', dRow: 0, dCol: -1 }),
            'editor-right': move({ type: 'move', dRow: 0, dCol: 1 }),
            'editor-home': move({ type: 'home' }),
            'editor-end': move({ type: 'end' }),
            'editor-page-up': move({ type: 'page', dir: -1, height: textHeight }),
            'editor-page-down': move({ type: 'page', dir: 1, height: textHeight }),
            'editor-newline': edit({ type: 'newline' }),
            'editor-indent': edit({ type: 'insert', text: '  ' }),
            'editor-backspace': edit({ type: 'backspace' }),
            'editor-delete': edit({ type: 'delete' }),
            // A paste goes in exactly as it came: no indentation added, no key bindings fired.
            'editor-paste': (key) => typeIn(key.text)(key),
            'editor-type': (key) => typeIn(key.text)(key),
          };
  const refused = (text: string) => {
    setMessage({ text, error: true });
    onRefused?.(text);
  };
  useActions(PRIORITY.form, actions, { readOnly, onRefused: refused, fallback: () => true });

  if (mode === 'diff') {
    const diff = lineDiff(saved, text);
    const changed = diff.filter((d) => d.op !== ' ').length;
    const rowsOf = (line: string) => Math.max(1, Math.ceil(line.length / Math.max(1, width)));
    // The impact first and whole where it fits (it wraps); the diff gets the rows that are left.
    const effectLines = !impact ? [] : !effectReady ? ['Impact: working out who gains and loses which rights…'] : effect?.failed !== undefined ? [`Impact: not available (${effect.failed})`] : ['Impact:', ...(effect?.lines ?? []).map((l) => `\u2022 ${l}`)];
    const budget = Math.max(2, Math.floor((height - 3) / 2));
    const shown: string[] = [];
    let used = 0;
    for (const [i, line] of effectLines.entries()) {
      const rest = effectLines.length - i - 1;
      if (used + rowsOf(line) > budget - (rest > 0 ? 1 : 0)) {
        shown.push(`\u2022 … ${effectLines.length - i} more line(s): rune admin policy apply --dry-run shows them all`);
        used++;
        break;
      }
      shown.push(line);
      used += rowsOf(line);
    }
    return (
      <Box flexDirection="column">
        {/* "changes to save" only once the impact is there: what the operator confirms is complete. */}
        <Text bold>{title}: {effectReady ? 'changes to save' : 'checking the impact of'} ({changed} line{changed === 1 ? '' : 's'})</Text>
        {shown.map((line, i) => (
          <Text key={`i${i}`} wrap="wrap" color={line.includes('\u2212 ') ? theme.warn : line.includes(': + ') ? theme.ok : undefined} bold={i === 0}>
            {line}
          </Text>
        ))}
        {diff.slice(0, Math.max(1, height - 3 - used)).map((d, i) => (
          <Text key={i} color={d.op === '+' ? theme.ok : d.op === '-' ? theme.danger : undefined} dimColor={d.op === ' ' && theme.dim} wrap="truncate">
            {d.op} {d.text}
          </Text>
        ))}
        <Text bold>{busy ? 'saving…' : effectReady ? 'Save these changes? y save · n keep editing' : 'n keep editing'}</Text>
      </Box>
    );
  }

  const gutter = String(state.lines.length).length + 1;
  const visible = state.lines.slice(top, top + textHeight);
  const firstProblem = lint.errors[0] ?? lint.warnings[0];
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        {title}
        {dirty ? ' [modified]' : ''}
        {readOnly ? ' [read-only]' : ''} <Text dimColor={theme.dim}>{readOnly ? 'Esc close' : `ctrl-s save · Esc close${onExternal ? ' · ctrl-o $EDITOR' : ''}`}</Text>
      </Text>
      {visible.map((line, i) => {
        const n = top + i + 1;
        const mark = byLine.get(n);
        const isCursor = top + i === state.row;
        const before = line.slice(0, state.col);
        const at = line[state.col] ?? ' ';
        const after = line.slice(state.col + 1);
        return (
          <Text key={n} wrap="truncate">
            <Text color={mark ? (mark.error ? theme.danger : theme.warn) : undefined} dimColor={!mark && theme.dim}>
              {String(n).padStart(gutter - 1)}
              {mark ? (mark.error ? '✗' : '!') : ' '}
            </Text>
            {isCursor ? (
              <Text>
                {before}
                <Text inverse>{at}</Text>
                {after}
              </Text>
            ) : (
              line
            )}
          </Text>
        );
      })}
      {Array.from({ length: Math.max(0, textHeight - visible.length) }, (_, i) => (
        <Text key={`pad${i}`} dimColor={theme.dim}>~</Text>
      ))}
      <Text wrap="truncate" color={lint.valid ? theme.ok : theme.danger}>
        {lint.valid ? `valid${lint.warnings.length ? `, ${lint.warnings.length} warning(s)` : ''}` : `${lint.errors.length} error(s)`}
        {fromDaemon ? ' (runed)' : remote?.text === text && remote.failed ? ' (runed unreachable: checked locally)' : ''}
        {firstProblem && firstProblem.line !== undefined ? `, first at line ${firstProblem.line}, column ${firstProblem.column}:` : firstProblem ? ':' : ''}
      </Text>
      {/* The first problem in full, on its own line(s): at 80 columns it used to be cut off. */}
      {firstProblem ? (
        <Text wrap="wrap" color={lint.errors.length ? theme.danger : theme.warn}>
          {firstProblem.message}
        </Text>
      ) : null}
      {mode === 'discard' ? (
        <Text bold color={theme.danger}>Discard unsaved changes? y discard · n keep editing</Text>
      ) : message ? (
        <Text color={message.error ? theme.danger : theme.ok} wrap="truncate">{message.text}</Text>
      ) : (
        <Text dimColor={theme.dim}>{`Ln ${state.row + 1}, Col ${state.col + 1}`}</Text>
      )}
    </Box>
  );
}
