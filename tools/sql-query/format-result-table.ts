const MAX_CELL = 200

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  const flat = text.replace(/[\r\n\t|]/g, (c) => (c === '|' ? '\\|' : ' '))
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL)}…` : flat
}

/** A compact pipe-separated table for models: header, rows, and a line saying what was left out. */
export function formatResultTable(columns: readonly { readonly name: string }[], rows: readonly (readonly unknown[])[], truncated: boolean, maxRows: number): string {
  if (columns.length === 0) return ''
  const lines = [columns.map((c) => cellText(c.name)).join(' | '), ...rows.map((row) => row.map(cellText).join(' | '))]
  lines.push(truncated ? `(${rows.length} rows shown; truncated at the grant's limit of ${maxRows})` : `(${rows.length} row${rows.length === 1 ? '' : 's'})`)
  return lines.join('\n')
}
