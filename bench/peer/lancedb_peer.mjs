// lancedb_peer.mjs — LanceDB (embedded, npm @lancedb/lancedb) full-text-search peer for mnemo_bench.
//
// Measures, on the texts and queries the C++ benchmark generates:
//   ingest     – adding all rows (id int64, text utf8; no vectors) to a fresh table in
//                batches of --batch rows, including building each Arrow batch;
//   fts index  – building LanceDB's native BM25 full-text index on `text` with the library
//                defaults (simple tokenizer, lowercase, ASCII folding, English stemming and
//                stop-word removal, no positions);
//   search     – each query run once as a full-text (match, OR of terms) search for the top
//                --k rows, timed one by one; the first 5 queries are run once beforehand as
//                uncounted warm-up.
//
// Usage:
//   node bench/peer/lancedb_peer.mjs --texts TEXTS.jsonl --queries QUERIES.jsonl \
//        --dir SCRATCH_DIR [--batch 1000] [--k 10]
//   TEXTS.jsonl:   one {"id": <integer>, "text": "<string>"} per line
//   QUERIES.jsonl: one {"text": "<string>"} per line
//   SCRATCH_DIR is deleted and recreated.
//
// Prints exactly one JSON object on stdout (logs go to stderr):
//   {"peer":"lancedb","version":..,"rows":N,"ingest_seconds":..,"ingest_rows_per_s":..,
//    "fts_index_seconds":..,"search":{"queries":Q,"p50_ms":..,"p99_ms":..,"mean_ms":..},
//    "top":[[id,...],...]}          // per query, in input order, best first
// Exits non-zero with a message on stderr on any error.
//
// Dependencies are installed by the benchmark with `npm ci --prefix bench/peer`, never by the build.

import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

// Keep stdout for the one JSON result: anything logging through console.log goes to stderr.
console.log = console.error;
const log = (msg) => console.error(`lancedb_peer: ${msg}`);

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { batch: 1000, k: 10 };
  const names = { "--texts": "texts", "--queries": "queries", "--dir": "dir", "--batch": "batch", "--k": "k" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key) throw new UsageError(`unknown argument '${argv[i]}'`);
    if (i + 1 >= argv.length) throw new UsageError(`${argv[i]} needs a value`);
    opts[key] = argv[i + 1];
  }
  for (const key of ["texts", "queries", "dir"]) {
    if (!opts[key]) throw new UsageError(`--${key} is required`);
  }
  for (const key of ["batch", "k"]) {
    const n = Number(opts[key]);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${key} must be a positive integer`);
    opts[key] = n;
  }
  return opts;
}

function readJsonl(file, check) {
  let data;
  try {
    data = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.message}`);
  }
  const out = [];
  data.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let obj;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: invalid JSON: ${e.message}`);
    }
    if (!check(obj)) throw new Error(`${file}:${i + 1}: unexpected record ${line.slice(0, 80)}`);
    out.push(obj);
  });
  return out;
}

// Refuse to wipe "/", the home directory, the working directory or any of their ancestors.
function resetDir(dir) {
  const abs = path.resolve(dir);
  for (const keep of [process.cwd(), os.homedir()]) {
    const rel = path.relative(abs, path.resolve(keep));
    if (!rel.startsWith("..") && !path.isAbsolute(rel)) {
      throw new UsageError(`refusing to delete --dir ${abs}: it contains ${keep}`);
    }
  }
  fs.rmSync(abs, { recursive: true, force: true });
  fs.mkdirSync(abs, { recursive: true });
  return abs;
}

function percentile(sorted, p) {
  // nearest-rank
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x, digits) => Number(x.toFixed(digits));
const secondsSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const texts = readJsonl(opts.texts, (o) => Number.isSafeInteger(o?.id) && typeof o.text === "string");
  const queries = readJsonl(opts.queries, (o) => typeof o?.text === "string");
  if (texts.length === 0) throw new Error(`${opts.texts}: no rows`);
  const dir = resetDir(opts.dir);

  // Both through require(): @lancedb/lancedb is CommonJS, and this way we share its apache-arrow instance.
  const require = createRequire(import.meta.url);
  const lancedb = require("@lancedb/lancedb");
  const arrow = require("apache-arrow");
  const { version } = JSON.parse(
    fs.readFileSync(new URL("./node_modules/@lancedb/lancedb/package.json", import.meta.url), "utf8"),
  );
  log(`lancedb ${version}: ${texts.length} rows, ${queries.length} queries, batch ${opts.batch}, k ${opts.k}, dir ${dir}`);

  const schema = new arrow.Schema([
    new arrow.Field("id", new arrow.Int64(), false),
    new arrow.Field("text", new arrow.Utf8(), false),
  ]);
  const db = await lancedb.connect(dir);
  const table = await db.createEmptyTable("texts", schema, { mode: "overwrite" });

  // Ingest.
  let t0 = process.hrtime.bigint();
  for (let start = 0; start < texts.length; start += opts.batch) {
    const rows = texts.slice(start, start + opts.batch);
    const batch = new arrow.Table(schema, {
      id: arrow.makeVector(BigInt64Array.from(rows, (r) => BigInt(r.id))),
      text: arrow.vectorFromArray(rows.map((r) => r.text), new arrow.Utf8()),
    });
    await table.add(batch);
  }
  const ingestSeconds = secondsSince(t0);
  const rows = await table.countRows();
  if (rows !== texts.length) throw new Error(`table has ${rows} rows, expected ${texts.length}`);
  log(`ingest: ${ingestSeconds.toFixed(3)} s`);

  // Full-text index (createIndex resolves once a local index is built; waitForIndex is a no-op guard).
  t0 = process.hrtime.bigint();
  await table.createIndex("text", { config: lancedb.Index.fts() });
  await table.waitForIndex(["text_idx"], 3600);
  const ftsSeconds = secondsSince(t0);
  log(`fts index: ${ftsSeconds.toFixed(3)} s`);

  // `_score` (BM25) is selected explicitly only to silence Lance's auto-projection warning.
  const search = (q) =>
    table.query().fullTextSearch(q, { columns: "text" }).select(["id", "_score"]).limit(opts.k).toArray();

  for (const q of queries.slice(0, 5)) await search(q.text); // warm-up, not counted

  const times = [];
  const top = [];
  for (const q of queries) {
    const s0 = process.hrtime.bigint();
    const hits = await search(q.text);
    times.push(Number(process.hrtime.bigint() - s0) / 1e6);
    top.push(hits.map((h) => Number(h.id)));
  }
  table.close();
  db.close();

  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    peer: "lancedb",
    version,
    rows,
    ingest_seconds: round(ingestSeconds, 6),
    ingest_rows_per_s: round(rows / ingestSeconds, 1),
    fts_index_seconds: round(ftsSeconds, 6),
    search: {
      queries: times.length,
      p50_ms: times.length ? round(percentile(sorted, 50), 4) : null,
      p99_ms: times.length ? round(percentile(sorted, 99), 4) : null,
      mean_ms: times.length ? round(times.reduce((a, b) => a + b, 0) / times.length, 4) : null,
    },
    top,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  log(`error: ${e?.message ?? e}`);
  if (e instanceof UsageError) {
    console.error(
      "usage: node bench/peer/lancedb_peer.mjs --texts TEXTS.jsonl --queries QUERIES.jsonl --dir SCRATCH_DIR [--batch 1000] [--k 10]",
    );
  }
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
