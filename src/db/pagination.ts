// Cursor pagination shared by every list: rows ordered by id, the query asks
// for `limit + 1` rows, and the id of the extra row is the next page's cursor
// (the next query selects `id >= cursor`). No extra row: last page, no cursor.
export interface Page<T> {
  items: T[]
  cursor?: string
}

export interface PageInput {
  limit: number
  cursor?: string
}

/** A page from `limit + 1` rows fetched in id order. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const items = rows.slice(0, limit).map(map)
  return rows.length > limit ? { items, cursor: rows[limit]!.id } : { items }
}

/** A page of a list ordered by id, optionally narrowed by a search text. */
export interface ListInput extends PageInput {
  /** Case-insensitive substring filter. */
  search?: string
}
