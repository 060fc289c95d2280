import { Box } from 'ink';
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { columnWidths, fit, viewOf, type Column } from '../../src/components/DataTable.js';
import { useTableView } from '../../src/hooks/useTableView.js';
import { InputProvider, PRIORITY, useKeys } from '../../src/tui/input.js';
import { themeFor } from '../../src/tui/theme.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';

interface Row {
  id: number;
  name: string;
}
const columns: Column<Row>[] = [
  { key: 'id', header: 'ID', width: 8, value: (r) => String(r.id), sortValue: (r) => r.id },
  { key: 'name', header: 'NAME', width: 'flex', value: (r) => r.name },
];
const many = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `token-${String(i).padStart(6, '0')}` }));

function Harness({ rows, height, onRender }: { rows: Row[]; height: number; onRender?: () => void }) {
  const table = useTableView(rows, columns, height);
  useKeys(PRIORITY.screen, (name, input) => table.onKey(name, input));
  onRender?.();
  return <Box flexDirection="column">{table.render({ width: 60, theme: themeFor({ NO_COLOR: '1' }) })}</Box>;
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => app?.unmount());

const renderHarness = (rows: Row[], height: number, size = { columns: 80, rows: 24 }) =>
  (app = renderTui(
    <InputProvider>
      <Harness rows={rows} height={height} />
    </InputProvider>,
    size,
  ));

describe('DataTable windowing', () => {
  it('renders only the visible window with 100,000 rows behind it', async () => {
    const t = renderHarness(many, 20);
    const frame = await t.waitFor('token-000000');
    const lines = frame.split('\n').filter((l) => l.includes('token-'));
    expect(lines).toHaveLength(20);
    expect(frame).toContain('token-000019');
    expect(frame).not.toContain('token-000020');
  });

  it('scrolls: down, page down, end, home move the window and the selection', async () => {
    const t = renderHarness(many, 10);
    await t.waitFor('token-000000');
    await t.press(KEYS.pageDown, KEYS.pageDown);
    let frame = await t.waitFor('token-000020');
    expect(frame.split('\n').filter((l) => l.includes('token-'))).toHaveLength(10);
    await t.press('G');
    frame = await t.waitFor('token-099999');
    expect(frame).not.toContain('token-000020');
    expect(frame.split('\n').filter((l) => l.includes('token-'))).toHaveLength(10);
    await t.press('g');
    await t.waitFor((f) => f.includes('token-000000') && !f.includes('token-099999'));
  });

  it('filters with / over every row, and Esc clears the filter', async () => {
    const t = renderHarness(many, 10);
    await t.waitFor('token-000000');
    await t.press('/');
    await t.type('099998');
    const frame = await t.waitFor((f) => f.includes('token-099998') && !f.includes('token-000000'));
    expect(frame.split('\n').filter((l) => l.includes('token-'))).toHaveLength(1);
    await t.press(KEYS.esc);
    await t.waitFor('token-000000');
  });

  it('sorts by the next column with s, and reverses with S', async () => {
    const t = renderHarness(many.slice(0, 50), 5);
    await t.waitFor('token-000000');
    await t.press('s');
    await t.waitFor('ID↑');
    await t.press('S');
    const frame = await t.waitFor('ID↓');
    expect(frame).toContain('token-000049');
    expect(frame).not.toContain('token-000000');
  });

  it('fits the columns to the width and truncates with an ellipsis', () => {
    expect(columnWidths(columns, 80)).toEqual([8, 71]);
    expect(fit('abcdefgh', 5)).toBe('abcd…');
    expect(fit('ab', 5)).toBe('ab   ');
    expect(viewOf(many.slice(0, 3), columns, '', { column: 'id', reverse: true }).map((r) => r.id)).toEqual([2, 1, 0]);
  });
});
