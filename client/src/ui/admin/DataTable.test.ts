/**
 * DataTable, rendered with svelte/server: the header the pages' e2e selectors and screen readers
 * rely on (aria-label, th scope="col", numeric columns, columns left out for viewers), one row
 * per item from the caller's snippet, and the empty state in place of the table.
 */
import { createRawSnippet } from 'svelte';
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import DataTable from './DataTable.svelte';

interface Item {
  id: string;
  n: number;
}

const row = createRawSnippet((item: () => Item) => ({
  render: () => `<tr data-testid="item-row"><td>${item().id}</td><td class="num">${item().n}</td></tr>`,
}));

const table = (props: Record<string, unknown>) =>
  render(DataTable<Item>, {
    props: {
      label: 'Items',
      columns: ['Name', { label: 'Count', num: true }, { label: 'Actions', when: false }],
      rows: [],
      key: (i: Item) => i.id,
      row,
      ...props,
    },
  }).body;

describe('DataTable', () => {
  it('labels the table and scopes its header cells, leaving out columns with when: false', () => {
    const body = table({ rows: [{ id: 'a', n: 1 }], 'data-testid': 'items' });
    expect(body).toMatch(/<table[^>]*aria-label="Items"/);
    expect(body).toMatch(/<table[^>]*data-testid="items"/);
    const headers = [...body.matchAll(/<th scope="col"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(headers).toEqual(['Name', 'Count']);
    expect(body).toMatch(/<th scope="col" class="[^"]*\bnum\b[^"]*">Count/);
    expect(body).toContain('class="scroll');
  });

  it('renders one row per item, in order', () => {
    const body = table({
      rows: [
        { id: 'b', n: 2 },
        { id: 'a', n: 1 },
      ],
    });
    const rows = [...body.matchAll(/<tr data-testid="item-row"><td>(\w+)<\/td>/g)].map((m) => m[1]);
    expect(rows).toEqual(['b', 'a']);
  });

  it('shows the empty text with its test id instead of the table when there are no rows', () => {
    const body = table({ empty: 'Nothing yet.', emptyTestid: 'no-items' });
    expect(body).toMatch(/<p class="muted[^"]*" data-testid="no-items">Nothing yet\.<\/p>/);
    expect(body).not.toContain('<table');
  });

  it('shows an empty table (header only) when no empty text is given', () => {
    const body = table({});
    expect(body).toContain('<table');
    expect(body).not.toContain('item-row');
  });
});
