/**
 * The one table component: columns with a header, a cell renderer and the
 * plain value CSV export takes; every table it draws can be exported.
 * Cells are rendered by Preact as text: nothing is ever inserted as HTML.
 */
import type { ComponentChildren } from 'preact';
import { type Cell, downloadCsv, toCsv } from './csv.js';

export interface Column<T> {
  header: string;
  /** What the cell shows (default: `value`). */
  render?: (row: T) => ComponentChildren;
  /** The plain value (CSV). */
  value: (row: T) => Cell;
  className?: string;
  /** Only in the CSV export, not on screen (e.g. raw minor units beside the formatted money a person reads). */
  csvOnly?: boolean;
}

export function Table<T>(props: {
  name: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  empty?: string;
  rowClass?: (row: T) => string;
}) {
  const { name, columns, rows } = props;
  const shown = columns.filter((c) => !c.csvOnly);
  const exportCsv = () =>
    downloadCsv(
      `${name}.csv`,
      toCsv(
        columns.map((c) => c.header),
        rows.map((r) => columns.map((c) => c.value(r))),
      ),
    );
  return (
    <div class="table-wrap">
      <div class="table-tools">
        <span class="count">{rows.length === 1 ? '1 row' : `${rows.length} rows`}</span>
        <button type="button" class="secondary" data-csv={name} onClick={exportCsv}>
          Export CSV
        </button>
      </div>
      <table data-table={name}>
        <thead>
          <tr>
            {shown.map((c) => (
              <th key={c.header}>{c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={shown.length} class="empty">
                {props.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={props.rowKey(r)} class={props.rowClass?.(r) ?? ''}>
                {shown.map((c) => (
                  <td key={c.header} class={c.className ?? ''}>
                    {c.render ? c.render(r) : c.value(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
