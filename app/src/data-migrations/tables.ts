/**
 * Tables as a data migration sees them: their columns and primary key read from the catalog of the database, the
 * order their foreign keys impose, and the SQL that checksums them, compares them batch by batch and copies rows.
 *
 * A row is compared through the md5 of its text (`ROW(columns)::text`), which both sides print alike when their
 * sessions share TimeZone and DateStyle (report.ts's pool). Text keys are ordered and compared `COLLATE "C"` (byte
 * order) on both sides, so that two servers with different default collations walk a table in the same order.
 */
import { createHash } from "node:crypto";
import type { ClientBase } from "pg";

/** A table's shape. */
export interface TableShape {
  name: string;
  /** Every column, in the table's order. */
  columns: string[];
  /** The primary key's columns, in key order. */
  key: string[];
  /** Key columns compared and ordered byte-wise (text types). */
  textKey: Set<string>;
  /** Tables this one references (foreign keys), which are copied before it. */
  references: string[];
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The base tables of schema `public` except `exclude`, each after the tables it references.
 * @throws when a table has no primary key (it could be neither batched nor compared).
 */
export async function describeTables(client: ClientBase, exclude: readonly string[]): Promise<TableShape[]> {
  const { rows } = await client.query<{
    name: string;
    columns: string[];
    key: string[] | null;
    text_key: string[] | null;
    references: string[] | null;
  }>(
    `SELECT c.relname AS name,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
               CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS key,
            (SELECT array_agg(a.attname::text) FROM pg_index i
               CROSS JOIN unnest(i.indkey) AS k(attnum)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary
                AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)) AS text_key,
            (SELECT array_agg(DISTINCT f.relname::text) FROM pg_constraint fk JOIN pg_class f ON f.oid = fk.confrelid
              WHERE fk.conrelid = c.oid AND fk.contype = 'f' AND fk.confrelid <> c.oid) AS references
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL($1::text[])
      ORDER BY c.relname`,
    [exclude],
  );
  const tables = rows.map((row) => {
    if (!row.key) throw new Error(`table ${row.name} has no primary key: a data migration cannot batch it`);
    return {
      name: row.name,
      columns: row.columns,
      key: row.key,
      textKey: new Set(row.text_key ?? []),
      references: (row.references ?? []).filter((name) => !exclude.includes(name)),
    };
  });
  // Depth-first: a table comes after everything it references (the schema has no cycles; one would be an error).
  const byName = new Map(tables.map((table) => [table.name, table]));
  const ordered: TableShape[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: TableShape) => {
    if (state.get(table.name) === "done") return;
    if (state.get(table.name) === "visiting") throw new Error(`foreign keys form a cycle through ${table.name}`);
    state.set(table.name, "visiting");
    for (const name of table.references) {
      const referenced = byName.get(name);
      if (referenced) visit(referenced);
    }
    state.set(table.name, "done");
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}

/** SQL pieces of one table, the same on both sides. */
export class TableSql {
  constructor(readonly shape: TableShape) {}

  get name(): string {
    return ident(this.shape.name);
  }

  /** `alias.key` (with COLLATE "C" for text), comma-separated. */
  keyList(alias: string): string {
    return this.shape.key
      .map((column) => `${alias}.${ident(column)}${this.shape.textKey.has(column) ? ' COLLATE "C"' : ""}`)
      .join(", ");
  }

  /** md5 of the row's text. */
  rowHash(alias: string): string {
    return `md5(ROW(${this.shape.columns.map((column) => `${alias}.${ident(column)}`).join(", ")})::text)`;
  }

  /** The key as canonical JSON text (one string per row, also the input of json_populate_recordset). */
  keyJson(alias: string): string {
    const fields = this.shape.key.map((column) => `'${column}', ${alias}.${ident(column)}`);
    return `json_build_object(${fields.join(", ")})::text`;
  }

  /** Row count and checksum of the whole table (one statement). */
  get checksumQuery(): string {
    return `SELECT count(*)::int AS rows,
                   encode(sha256(convert_to(coalesce(string_agg(${this.rowHash("t")}, '' ORDER BY ${this.keyList("t")}),
                     ''), 'UTF8')), 'hex') AS checksum
              FROM ${this.name} AS t`;
  }

  /**
   * Keys and row hashes after key `$1` (JSON of a key, or null for the start), in key order; `$2` the most rows,
   * `$3` the last key to include (JSON, or null for no bound).
   */
  get hashesQuery(): string {
    const after = `(${this.keyList("t")}) > (${this.keyList("a")})`;
    const upTo = `(${this.keyList("t")}) <= (${this.keyList("b")})`;
    return `SELECT ${this.keyJson("t")} AS k, ${this.rowHash("t")} AS h
              FROM ${this.name} AS t
              LEFT JOIN json_populate_record(NULL::${this.name}, $1::json) AS a ON true
              LEFT JOIN json_populate_record(NULL::${this.name}, $3::json) AS b ON true
             WHERE ($1::json IS NULL OR ${after}) AND ($3::json IS NULL OR ${upTo})
             ORDER BY ${this.keyList("t")}
             LIMIT $2`;
  }

  private keyIn(alias: string): string {
    const columns = this.shape.key.map(ident).join(", ");
    return `(${this.shape.key.map((column) => `${alias}.${ident(column)}`).join(", ")}) IN
              (SELECT ${columns} FROM json_populate_recordset(NULL::${this.name}, $1::json))`;
  }

  /** The rows whose keys are in `$1` (a JSON array of keys), as one JSON array text. */
  get rowsQuery(): string {
    return `SELECT coalesce(json_agg(t), '[]')::text AS rows FROM ${this.name} AS t WHERE ${this.keyIn("t")}`;
  }

  /** Inserts or overwrites the rows of `$1` (a JSON array of rows). */
  get upsertStatement(): string {
    const columns = this.shape.columns.map(ident).join(", ");
    const others = this.shape.columns.filter((column) => !this.shape.key.includes(column));
    const onConflict = others.length
      ? `DO UPDATE SET ${others.map((column) => `${ident(column)} = EXCLUDED.${ident(column)}`).join(", ")}`
      : "DO NOTHING";
    return `INSERT INTO ${this.name} (${columns}) OVERRIDING SYSTEM VALUE
            SELECT ${columns} FROM json_populate_recordset(NULL::${this.name}, $1::json)
            ON CONFLICT (${this.shape.key.map(ident).join(", ")}) ${onConflict}`;
  }

  /** Deletes the rows whose keys are in `$1`. */
  get deleteStatement(): string {
    return `DELETE FROM ${this.name} AS t WHERE ${this.keyIn("t")}`;
  }
}

/** A running checksum over row hashes in key order: the same figure as {@link TableSql.checksumQuery}'s. */
export class RunningChecksum {
  private readonly hash = createHash("sha256");
  rows = 0;

  /** Adds the md5 of a row, or the joined md5s of `rows` consecutive rows. */
  add(rowHashes: string, rows = 1): void {
    this.hash.update(rowHashes);
    this.rows += rows;
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}
