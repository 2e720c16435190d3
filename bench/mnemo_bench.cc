// mnemo_bench: scale benchmarks of the engine, each figure printed beside a baseline that
// ran in the same process over the same data (see docs/benchmarks.md).
//
//   mnemo_bench --workload=ingest,add,search,open,size,spaces --n=10000,100000
//               --threads=1,2 --dir=/tmp/mnemo-bench
//
// Workloads (one data directory per n under --dir, wiped first):
//   ingest  loads space "solo" (n memories of one user) with AddBatch (or Ingest, with
//           --load_with_ingest) in batches of 1,000, Durability::kFull, then times the
//           graph build until Engine::WaitForIndexing returns; Engine::Ingest from an
//           empty space (kFull, kNormal; --ingest_n), AddBatch kNormal (--scratch_n) and
//           Engine::Ingest into the loaded space (--probe_batches). Baselines: raw SQLite
//           FTS5 insert, the embedder alone, raw hnswlib build.
//   search  k=10 searches (hybrid = SearchRequest defaults, lexical-only, vector-only) at
//           each --threads on "solo" (HNSW path above Options::exact_scan_limit) and for
//           a user who owns 1% of space "mixed" (exact-scan path; --no_mixed skips it).
//           Baselines: exact int8 scan (QuantizedDot), raw FTS5 `ORDER BY rank LIMIT 10`,
//           raw hnswlib<float> (M=16, ef_construction=100, ef=64); recall@10.
//   add     single Engine::Add latency on "solo". Baseline: one-row SQLite commit.
//   size    RSS (VmRSS/VmHWM) and disk bytes per memory beyond the text, by table.
//   open    Engine::Open + first Search after a clean close (warm and cold page cache),
//           after kill -9 with a log tail to replay, and with the snapshot deleted;
//           --close_after_load also closes and reopens right after the load.
//   spaces  --spaces spaces of --per_space memories: create+ingest rate, searches with
//           random space access through the LRU of open spaces, disk.
//   peer    LanceDB embedded (npm @lancedb/lancedb, bench/peer/lancedb_peer.mjs) on the texts
//           of "solo" and the search queries: its ingest rate and full-text search p50 beside
//           mnemo's load rate and lexical-only search over the same queries (installs the
//           script's npm dependencies with `npm ci` on first use; needs node and npm).
//   lifecycle  on "solo": hybrid searches with retention (the default weight) against the
//           same searches with retention_weight 0; then Engine::Maintain saving the
//           recalls those searches counted (plus the tier scan of the n memories) against
//           a second pass with nothing to save (the tier scan alone).
// The load always runs when any of ingest/add/search/size/open/lifecycle/peer is asked for (they
// need its data); its figures are printed only when asked for.
//
// Output: markdown table rows `| n | figure | measured | baseline |` on stdout, progress
// on stderr.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bench/hnswlib_baseline.h"
#include "bench/synth.h"
#include "embed/builtin_embedder.h"
#include "index/quantize.h"
#include "mnemo/engine.h"
#include "text/analyzer.h"
#include "util/json_codec.h"

namespace mnemo::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// ---- small utilities ---------------------------------------------------------------

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Milliseconds with three significant-ish digits.
std::string Ms(double seconds) {
  const double ms = seconds * 1e3;
  if (ms < 1) return Fmt("%.3f ms", ms);
  if (ms < 100) return Fmt("%.2f ms", ms);
  return Fmt("%.0f ms", ms);
}

std::string Rate(double per_second) {
  if (per_second >= 100) return Fmt("%.0f", per_second);
  return Fmt("%.1f", per_second);
}

std::string Mb(int64_t bytes) { return Fmt("%.1f MB", static_cast<double>(bytes) / 1e6); }

void Progress(const std::string& msg) {
  std::fprintf(stderr, "[bench] %s\n", msg.c_str());
  std::fflush(stderr);
}

// VmRSS and VmHWM of this process, in bytes.
struct MemUsage {
  int64_t rss = 0;
  int64_t hwm = 0;
};
MemUsage ReadMemUsage() {
  MemUsage m;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lld kB", &kb) == 1) m.rss = kb * 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %lld kB", &kb) == 1) m.hwm = kb * 1024;
  }
  return m;
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  }
  return total;
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// Drops this directory's files from the page cache (they are clean: mnemo fsyncs them),
// so that the next open reads from disk without touching anyone else's cache.
void EvictFromPageCache(const std::string& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)::fdatasync(fd);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Reads every file of `dir` once: the floor for loading it.
int64_t ReadAllFiles(const std::string& dir) {
  int64_t total = 0;
  std::vector<char> buf(1 << 20);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      total += in.gcount();
    }
  }
  return total;
}

// CPU time of the whole machine and of this process (with its waited-for children), in
// clock ticks: other engineers' builds share the 2 cores, and every figure must say how
// much of the machine it actually had.
struct CpuSample {
  uint64_t machine_busy = 0;
  uint64_t machine_total = 0;
  uint64_t self = 0;
};

CpuSample ReadCpu() {
  CpuSample c;
  {
    std::ifstream in("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};
    in >> cpu;
    for (uint64_t& x : v) in >> x;
    // user nice system idle iowait irq softirq steal
    for (uint64_t x : v) c.machine_total += x;
    c.machine_busy = c.machine_total - v[3] - v[4];
  }
  {
    std::ifstream in("/proc/self/stat");
    std::string all;
    std::getline(in, all);
    const size_t paren = all.rfind(')');
    if (paren != std::string::npos) {
      std::vector<std::string> fields;
      std::string tok;
      for (size_t i = paren + 2; i <= all.size(); ++i) {
        if (i == all.size() || all[i] == ' ') {
          fields.push_back(tok);
          tok.clear();
        } else {
          tok += all[i];
        }
      }
      // Fields 14-17 of proc(5): utime, stime, cutime, cstime; fields[0] is field 3.
      if (fields.size() > 14) {
        for (size_t i = 11; i <= 14; ++i) c.self += std::strtoull(fields[i].c_str(), nullptr, 10);
      }
    }
  }
  return c;
}

std::string CpuShare(const CpuSample& a, const CpuSample& b) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const double total = static_cast<double>(b.machine_total - a.machine_total);
  const double busy = static_cast<double>(b.machine_busy - a.machine_busy);
  const double self = static_cast<double>(b.self - a.self);
  if (total <= 0) return "n/a";
  const double other = std::max(0.0, busy - self);
  return Fmt("this benchmark %.2f cores, other processes %.2f cores (of %u), on average",
             self / total * cores, other / total * cores, cores);
}

// ---- latency summaries -------------------------------------------------------------

struct Latency {
  size_t count = 0;
  double p50 = 0, p99 = 0, mean = 0, max = 0;  // seconds
  double wall = 0;                             // seconds for the whole run
  double per_second() const { return wall > 0 ? static_cast<double>(count) / wall : 0; }
};

Latency Summarize(std::vector<double> samples, double wall) {
  Latency l;
  l.count = samples.size();
  l.wall = wall;
  if (samples.empty()) return l;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    const auto i = static_cast<size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
    return samples[std::min(i, samples.size() - 1)];
  };
  l.p50 = at(0.50);
  l.p99 = at(0.99);
  l.max = samples.back();
  double sum = 0;
  for (double s : samples) sum += s;
  l.mean = sum / static_cast<double>(samples.size());
  return l;
}

std::string LatencyText(const Latency& l, bool with_rate = true) {
  std::string s = "p50 " + Ms(l.p50) + ", p99 " + Ms(l.p99) + ", mean " + Ms(l.mean);
  if (with_rate) s += ", " + Rate(l.per_second()) + " q/s";
  return s + Fmt(" (%zu)", l.count);
}

std::string Ratio(double engine, double baseline) {
  return baseline > 0 ? Fmt("%.2fx", engine / baseline) : "n/a";
}

// ---- flags -------------------------------------------------------------------------

struct Flags {
  std::set<std::string> workloads = {"ingest", "add", "search", "open", "size", "spaces"};
  std::string peer_dir = MNEMO_SOURCE_DIR "/bench/peer";  // lancedb_peer.mjs and its npm lock
  std::vector<int64_t> ns = {10000};
  std::vector<int> threads = {1, 2};
  std::string dir = "/tmp/mnemo-bench";
  uint64_t seed = 42;
  int queries = 1000;             // per search variant, at most
  double search_seconds = 15;     // per search variant, at most
  int recall_queries = 200;       // queries compared against exact search
  int adds = 1000;                // single adds
  int64_t crash_tail = 49000;     // memories written by the child killed with -9
  bool load_with_ingest = false;  // load "solo"/"mixed" with Ingest instead of AddBatch
  int64_t ingest_n = 20000;       // Ingest-from-empty variants use min(n, ingest_n)
  int64_t scratch_n = 100000;     // the AddBatch kNormal variant uses min(n, scratch_n)
  int probe_batches = 10;         // Ingest batches of 1,000 into the loaded "solo"
  bool mixed = true;              // build and search the 1%-user space
  bool close_after_load = false;  // open workload: close and reopen right after the load
  int mixed_users = 100;          // users of the "mixed" space (the searched one owns 1/users)
  int64_t mixed_n = 0;            // size of "mixed" (0 = n)
  int hnsw_build_threads = 1;     // threads building the hnswlib baseline
  int64_t spaces = 10000;
  int per_space = 100;
  bool keep = false;
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<int64_t> ParseInt(const std::string& s, const std::string& flag) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < 0) {
    return Status::InvalidArgument(flag + ": expected a non-negative integer, got \"" + s + "\"");
  }
  return static_cast<int64_t>(v);
}

// --pipeline: the background pipeline derives memories from what is loaded. Off by
// default: the retrieval figures compare the engine with baselines over the same texts,
// and derived memories would compete with them (pipeline costs have their own workload).
bool g_pipeline = false;

const char* kUsage =
    "usage: mnemo_bench [--workload=ingest,add,search,open,size,spaces,lifecycle,peer]\n"
    "                   [--n=10000,...]\n"
    "                   [--threads=1,2] [--dir=/tmp/mnemo-bench] [--seed=42] [--queries=1000]\n"
    "                   [--search_seconds=15] [--recall_queries=200] [--adds=1000]\n"
    "                   [--crash_tail=49000] [--ingest_n=20000] [--scratch_n=100000]\n"
    "                   [--probe_batches=10] [--mixed_users=100] [--mixed_n=0 (= n)]\n"
    "                   [--no_mixed] [--load_with_ingest] [--hnsw_build_threads=1]\n"
    "                   [--spaces=10000] [--per_space=100] [--close_after_load] [--keep]\n"
    "                   [--pipeline] [--peer_dir=bench/peer]\n";

Status ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep" || arg == "--no_mixed" || arg == "--load_with_ingest" ||
        arg == "--close_after_load" || arg == "--pipeline") {
      if (arg == "--pipeline") g_pipeline = true;
      if (arg == "--keep") f->keep = true;
      if (arg == "--close_after_load") f->close_after_load = true;
      if (arg == "--no_mixed") f->mixed = false;
      if (arg == "--load_with_ingest") f->load_with_ingest = true;
      continue;
    }
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return Status::InvalidArgument("unexpected argument \"" + arg + "\"\n" + kUsage);
    }
    const std::string name = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    auto integer = [&](int64_t* out) -> Status {
      MNEMO_ASSIGN_OR_RETURN(*out, ParseInt(value, "--" + name));
      return Status::Ok();
    };
    int64_t v = 0;
    if (name == "workload") {
      f->workloads.clear();
      for (const auto& w : SplitList(value)) {
        static const std::set<std::string> kKnown = {"ingest", "add",    "search",    "open",
                                                     "size",   "spaces", "lifecycle", "peer"};
        if (!kKnown.count(w)) return Status::InvalidArgument("unknown workload \"" + w + "\"");
        f->workloads.insert(w);
      }
    } else if (name == "n") {
      f->ns.clear();
      for (const auto& s : SplitList(value)) {
        MNEMO_ASSIGN_OR_RETURN(v, ParseInt(s, "--n"));
        if (v < 100) return Status::InvalidArgument("--n: at least 100");
        f->ns.push_back(v);
      }
    } else if (name == "threads") {
      f->threads.clear();
      for (const auto& s : SplitList(value)) {
        MNEMO_ASSIGN_OR_RETURN(v, ParseInt(s, "--threads"));
        if (v < 1 || v > 64) return Status::InvalidArgument("--threads: 1..64");
        f->threads.push_back(static_cast<int>(v));
      }
    } else if (name == "peer_dir") {
      f->peer_dir = value;
    } else if (name == "dir") {
      f->dir = value;
    } else if (name == "seed") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->seed = static_cast<uint64_t>(v);
    } else if (name == "queries") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->queries = static_cast<int>(std::max<int64_t>(v, 1));
    } else if (name == "search_seconds") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->search_seconds = static_cast<double>(v);
    } else if (name == "recall_queries") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->recall_queries = static_cast<int>(v);
    } else if (name == "adds") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->adds = static_cast<int>(v);
    } else if (name == "crash_tail") {
      MNEMO_RETURN_IF_ERROR(integer(&f->crash_tail));
    } else if (name == "scratch_n") {
      MNEMO_RETURN_IF_ERROR(integer(&f->scratch_n));
    } else if (name == "ingest_n") {
      MNEMO_RETURN_IF_ERROR(integer(&f->ingest_n));
    } else if (name == "probe_batches") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->probe_batches = static_cast<int>(v);
    } else if (name == "mixed_users") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->mixed_users = static_cast<int>(std::max<int64_t>(v, 2));
    } else if (name == "mixed_n") {
      MNEMO_RETURN_IF_ERROR(integer(&f->mixed_n));
    } else if (name == "hnsw_build_threads") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->hnsw_build_threads = static_cast<int>(std::clamp<int64_t>(v, 1, 64));
    } else if (name == "spaces") {
      MNEMO_RETURN_IF_ERROR(integer(&f->spaces));
    } else if (name == "per_space") {
      MNEMO_RETURN_IF_ERROR(integer(&v));
      f->per_space = static_cast<int>(std::clamp<int64_t>(v, 1, 10000));
    } else {
      return Status::InvalidArgument("unknown flag --" + name + "\n" + kUsage);
    }
  }
  return Status::Ok();
}

// ---- output ------------------------------------------------------------------------

class Table {
 public:
  explicit Table(std::string scale) : scale_(std::move(scale)) {}
  void Row(const std::string& figure, const std::string& measured,
           const std::string& baseline = "") {
    std::printf("| %s | %s | %s | %s |\n", scale_.c_str(), figure.c_str(), measured.c_str(),
                baseline.empty() ? "—" : baseline.c_str());
    std::fflush(stdout);
  }

 private:
  std::string scale_;
};

// ---- raw SQLite (baselines and table sizes) ----------------------------------------

class RawDb {
 public:
  ~RawDb() {
    for (auto* s : stmts_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
  }
  Status Open(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return Status::IOError("sqlite: cannot open " + path + ": " + sqlite3_errmsg(db_));
    }
    return Status::Ok();
  }
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Status s = Status::IOError("sqlite: " + std::string(err ? err : "?") + " in: " + sql);
      sqlite3_free(err);
      return s;
    }
    return Status::Ok();
  }
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return Status::IOError("sqlite: cannot prepare: " + std::string(sqlite3_errmsg(db_)));
    }
    stmts_.push_back(st);
    return st;
  }
  Status StepDone(sqlite3_stmt* st) {
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return Status::IOError("sqlite: " + std::string(sqlite3_errmsg(db_)));
    return Status::Ok();
  }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

// Bytes per table of a SQLite file (dbstat), FTS5 shadow tables and indexes folded into
// their table.
Result<std::map<std::string, int64_t>> TableBytes(const std::string& path) {
  RawDb db;
  MNEMO_RETURN_IF_ERROR(db.Open(path, SQLITE_OPEN_READONLY));
  MNEMO_ASSIGN_OR_RETURN(sqlite3_stmt * st,
                         db.Prepare("SELECT s.name, coalesce(m.tbl_name, s.name), sum(s.pgsize) "
                                    "FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name "
                                    "GROUP BY s.name"));
  std::map<std::string, int64_t> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string table = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    if (table.rfind("memories_fts", 0) == 0) table = "memories_fts";
    out[table] += sqlite3_column_int64(st, 2);
  }
  return out;
}

// What a vectors.idx snapshot holds (docs/storage-format.md): applied_seq and the
// number of graph nodes (the fourth u32 of the graph payload's header, src/index/hnsw.cc).
struct SnapshotHeader {
  int64_t applied_seq = -1;
  int64_t nodes = -1;
};

SnapshotHeader ReadSnapshotHeader(const std::string& path) {
  SnapshotHeader h;
  std::ifstream in(path, std::ios::binary);
  char fixed[28];
  if (!in.read(fixed, sizeof fixed)) return h;
  auto le = [](const char* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
  };
  h.applied_seq = static_cast<int64_t>(le(fixed + 16, 8));
  const uint64_t id_len = le(fixed + 24, 4);
  char count[4];
  in.seekg(static_cast<std::streamoff>(28 + id_len + 8 + 12));
  if (in.read(count, sizeof count)) h.nodes = static_cast<int64_t>(le(count, 4));
  return h;
}

// ---- data --------------------------------------------------------------------------

constexpr int kDim = 256;  // the builtin embedder's default dimension
constexpr size_t kBatch = 1000;
constexpr int kK = 10;

// Texts of one user's memories, with the engine's ids, in ingest order.
struct Corpus {
  std::vector<std::string> texts;
  std::vector<MemoryId> ids;
  int64_t text_bytes = 0;
  std::unordered_map<MemoryId, uint32_t> index_of;  // id -> position
  void Index() {
    index_of.clear();
    index_of.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) index_of.emplace(ids[i], static_cast<uint32_t>(i));
  }
};

Message ToMessage(Turn&& t) {
  Message m;
  m.session = std::move(t.session);
  m.role = std::move(t.role);
  m.speaker = std::move(t.speaker);
  m.text = std::move(t.text);
  m.time = t.time_ms;
  return m;
}

struct IngestFigures {
  int64_t memories = 0;
  int64_t text_bytes = 0;
  double call_seconds = 0;                 // inside Ingest/AddBatch calls: acknowledged
  double wall_seconds = 0;                 // including generating the turns
  Latency batch;                           // per call
  double catch_up_seconds = 0;             // WaitForIndexing after the last call
  double first_batch = 0, last_batch = 0;  // seconds of the first and last call
  double max_batch = 0;                    // seconds of the slowest call
  int64_t max_batch_index = 0;             // its position (0-based)
  int64_t over_twice_first = 0;            // calls slower than twice the first
  // Rate of each tenth of the load (memories/s), oldest first.
  std::vector<double> tenth_rates;
  double rate() const {
    return call_seconds > 0 ? static_cast<double>(memories) / call_seconds : 0;
  }
};

// Generates `n` turns and writes them with Engine::Ingest (or AddBatch), one call per
// user per 1,000 turns. Keeps the ids, and with `keep_texts` the texts, of `keep_user`'s
// memories (all users' when empty) in `corpus`.
Result<IngestFigures> IngestStream(Engine& engine, const std::string& space,
                                   ConversationGenerator& gen, int64_t n,
                                   const std::string& keep_user, Corpus* corpus, bool keep_texts,
                                   bool use_add_batch = false) {
  IngestFigures f;
  std::vector<double> batch_seconds;
  std::unordered_map<std::string, std::vector<Message>> buckets;
  const auto wall0 = SteadyClock::now();
  auto flush = [&](const std::string& user, std::vector<Message>& msgs) -> Status {
    if (msgs.empty()) return Status::Ok();
    std::vector<MemoryId> ids;
    if (use_add_batch) {
      std::vector<MemoryInput> inputs;
      inputs.reserve(msgs.size());
      for (const auto& m : msgs) {
        MemoryInput in;
        in.text = m.text;
        in.user_id = user;
        in.session_id = m.session;
        in.role = m.role;
        in.speaker = m.speaker;
        in.event_time = m.time;
        inputs.push_back(std::move(in));
      }
      const auto t0 = SteadyClock::now();
      auto r = engine.AddBatch(space, inputs);
      batch_seconds.push_back(SecondsSince(t0));
      if (!r.ok()) return r.status().WithContext("AddBatch");
      ids = std::move(r).value();
    } else {
      const auto t0 = SteadyClock::now();
      auto r = engine.Ingest(space, user, msgs);
      batch_seconds.push_back(SecondsSince(t0));
      if (!r.ok()) return r.status().WithContext("Ingest");
      ids = std::move(r->ids);
    }
    f.call_seconds += batch_seconds.back();
    f.memories += static_cast<int64_t>(msgs.size());
    for (const auto& m : msgs) f.text_bytes += static_cast<int64_t>(m.text.size());
    if (corpus != nullptr && (keep_user.empty() || keep_user == user)) {
      for (size_t i = 0; i < msgs.size(); ++i) {
        corpus->text_bytes += static_cast<int64_t>(msgs[i].text.size());
        if (keep_texts) corpus->texts.push_back(std::move(msgs[i].text));
        corpus->ids.push_back(ids[i]);
      }
    }
    msgs.clear();
    return Status::Ok();
  };
  int64_t next_report = 100000;
  for (int64_t i = 0; i < n; ++i) {
    Turn t = gen.Next();
    const std::string user = t.user;
    auto& bucket = buckets[user];
    bucket.push_back(ToMessage(std::move(t)));
    if (bucket.size() >= kBatch) MNEMO_RETURN_IF_ERROR(flush(user, bucket));
    if (i + 1 >= next_report) {
      Progress(Fmt("  %s: %" PRId64 " written, %.0f/s", space.c_str(), i + 1,
                   static_cast<double>(f.memories) / std::max(f.call_seconds, 1e-9)));
      next_report += 100000;
    }
  }
  for (auto& [user, bucket] : buckets) MNEMO_RETURN_IF_ERROR(flush(user, bucket));
  f.wall_seconds = SecondsSince(wall0);
  if (!batch_seconds.empty()) {
    f.first_batch = batch_seconds.front();
    f.last_batch = batch_seconds.back();
    for (size_t i = 0; i < batch_seconds.size(); ++i) {
      if (batch_seconds[i] > f.max_batch) {
        f.max_batch = batch_seconds[i];
        f.max_batch_index = static_cast<int64_t>(i);
      }
      if (batch_seconds[i] > 2 * f.first_batch) ++f.over_twice_first;
    }
    const size_t tenth = std::max<size_t>(1, batch_seconds.size() / 10);
    for (size_t from = 0; from + tenth <= batch_seconds.size(); from += tenth) {
      double secs = 0;
      for (size_t i = from; i < from + tenth; ++i) secs += batch_seconds[i];
      f.tenth_rates.push_back(static_cast<double>(tenth * kBatch) / std::max(secs, 1e-9));
    }
  }
  f.batch = Summarize(std::move(batch_seconds), f.call_seconds);
  return f;
}

// The texts of the first `n` turns of a one-user stream, in order: what IngestStream
// wrote, regenerated so that the ingest itself did not have to hold them.
std::vector<std::string> RegenerateTexts(const ConversationOptions& co, int64_t n) {
  ConversationGenerator gen(co);
  std::vector<std::string> texts;
  texts.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) texts.push_back(gen.Next().text);
  return texts;
}

Options EngineOptions(Durability d) {
  Options o;
  o.create_if_missing = true;
  o.durability = d;
  o.pipeline.enabled = g_pipeline;
  return o;
}

// ---- vectors for the baselines -----------------------------------------------------

struct Vectors {
  std::vector<float> floats;  // n x kDim, L2-normalised
  std::string blobs;          // n x QuantizedSize(kDim), the engine's int8 form
  size_t n = 0;
  std::string_view blob(size_t i) const {
    const size_t b = index::QuantizedSize(kDim);
    return std::string_view(blobs).substr(i * b, b);
  }
  const float* vec(size_t i) const { return floats.data() + i * kDim; }
};

// Embeds with the engine's embedder and quantizes as the engine does, so the blobs are
// byte for byte the ones in the space.
Result<Vectors> EmbedCorpus(const Embedder& emb, const std::vector<std::string>& texts,
                            double* seconds) {
  Vectors v;
  v.n = texts.size();
  v.floats.resize(v.n * kDim);
  v.blobs.reserve(v.n * index::QuantizedSize(kDim));
  const auto t0 = SteadyClock::now();
  std::vector<std::vector<float>> out;
  for (size_t start = 0; start < v.n; start += kBatch) {
    const size_t end = std::min(v.n, start + kBatch);
    std::vector<std::string_view> views(texts.begin() + static_cast<ptrdiff_t>(start),
                                        texts.begin() + static_cast<ptrdiff_t>(end));
    MNEMO_RETURN_IF_ERROR(emb.Embed(views, &out));
    for (size_t i = start; i < end; ++i) {
      const auto& f = out[i - start];
      std::copy(f.begin(), f.end(), v.floats.begin() + static_cast<ptrdiff_t>(i * kDim));
      v.blobs += index::Quantize(f);
    }
  }
  *seconds = SecondsSince(t0);
  return v;
}

struct Scored {
  float sim;
  uint32_t idx;
};

// Exact top-k by the engine's scoring: float query x int8 blob.
std::vector<Scored> ExactInt8TopK(const Vectors& v, const std::vector<float>& q, size_t k) {
  std::vector<Scored> all(v.n);
  for (size_t i = 0; i < v.n; ++i) {
    all[i] = {index::QuantizedDot(q, v.blob(i)), static_cast<uint32_t>(i)};
  }
  const size_t keep = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(keep), all.end(),
                    [](const Scored& a, const Scored& b) {
                      return a.sim != b.sim ? a.sim > b.sim : a.idx < b.idx;
                    });
  all.resize(keep);
  return all;
}

float FloatDot(const float* a, const float* b) {
  float s = 0;
  for (int i = 0; i < kDim; ++i) s += a[i] * b[i];
  return s;
}

std::vector<Scored> ExactFloatTopK(const Vectors& v, const std::vector<float>& q, size_t k) {
  std::vector<Scored> all(v.n);
  for (size_t i = 0; i < v.n; ++i)
    all[i] = {FloatDot(q.data(), v.vec(i)), static_cast<uint32_t>(i)};
  const size_t keep = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(keep), all.end(),
                    [](const Scored& a, const Scored& b) {
                      return a.sim != b.sim ? a.sim > b.sim : a.idx < b.idx;
                    });
  all.resize(keep);
  return all;
}

// Recall@k that does not punish ties: a returned item counts when its exact similarity
// reaches the k-th exact similarity (minus float noise).
double TieAwareRecall(const std::vector<uint32_t>& got, const std::vector<Scored>& truth,
                      const std::function<float(uint32_t)>& exact_sim) {
  if (truth.empty()) return 1;
  const float kth = truth.back().sim - 1e-6f;
  size_t hits = 0;
  std::unordered_set<uint32_t> seen;
  for (uint32_t i : got) {
    if (seen.insert(i).second && exact_sim(i) >= kth) ++hits;
  }
  return static_cast<double>(std::min(hits, truth.size())) / static_cast<double>(truth.size());
}

// ---- engine searches ---------------------------------------------------------------

struct SearchRun {
  Latency lat;
  // Results (corpus positions, best first) of the first recall_queries queries, for
  // single-threaded runs.
  std::vector<std::vector<uint32_t>> results;
};

// The search variants. "hybrid" is SearchRequest's defaults, what a caller gets; the
// single-signal variants also turn conversation context off, so that each compares
// with its baseline (FTS5 alone, a vector index alone).
enum class Variant { kHybrid, kLexical, kVector, kHybridNoRetention };

const char* VariantName(Variant v) {
  switch (v) {
    case Variant::kHybrid:
      return "hybrid";
    case Variant::kLexical:
      return "lexical-only";
    case Variant::kVector:
      return "vector-only";
    case Variant::kHybridNoRetention:
      return "hybrid, retention off";
  }
  return "?";
}

SearchRequest MakeRequest(Variant v, const std::string& query, const std::string& user) {
  SearchRequest r;
  r.query = query;
  r.filter.user_id = user;
  r.k = kK;
  if (v == Variant::kLexical) {
    r.vector_weight = 0;
    r.context_weight = 0;
  } else if (v == Variant::kVector) {
    r.lexical_weight = 0;
    r.context_weight = 0;
  } else if (v == Variant::kHybridNoRetention) {
    r.retention_weight = 0;
  }
  return r;
}

std::string DefaultsText() {
  const SearchRequest d;
  return Fmt("SearchRequest defaults: lexical %.2g, vector %.2g, context %.2g", d.lexical_weight,
             d.vector_weight, d.context_weight);
}

Result<SearchRun> RunEngineSearches(Engine& engine, const std::string& space,
                                    const std::string& user, const std::vector<Query>& queries,
                                    Variant variant, int threads, const Flags& flags,
                                    const Corpus* corpus) {
  auto request = [&](const Query& q) { return MakeRequest(variant, q.text, user); };
  // Warm-up: statements prepared, reader connections open, pages cached.
  const size_t warm = std::min<size_t>(20, queries.size());
  for (size_t i = 0; i < warm; ++i) {
    auto r = engine.Search(space, request(queries[queries.size() - 1 - i]));
    if (!r.ok()) return r.status().WithContext("search warm-up");
  }
  const size_t total = std::min(queries.size(), static_cast<size_t>(flags.queries));
  const size_t keep = threads == 1 ? std::min(total, static_cast<size_t>(flags.recall_queries)) : 0;
  SearchRun run;
  run.results.resize(keep);
  std::vector<std::vector<double>> samples(static_cast<size_t>(threads));
  std::mutex err_mu;
  Status error;
  std::atomic<bool> stop{false};
  const auto t0 = SteadyClock::now();
  auto worker = [&](int t) {
    for (size_t i = static_cast<size_t>(t); i < total && !stop.load();
         i += static_cast<size_t>(threads)) {
      const auto q0 = SteadyClock::now();
      auto r = engine.Search(space, request(queries[i]));
      samples[static_cast<size_t>(t)].push_back(SecondsSince(q0));
      if (!r.ok()) {
        std::lock_guard<std::mutex> l(err_mu);
        error = r.status();
        stop = true;
        return;
      }
      if (i < keep && corpus != nullptr) {
        for (const auto& hit : *r) {
          auto it = corpus->index_of.find(hit.memory.id);
          if (it != corpus->index_of.end()) run.results[i].push_back(it->second);
        }
      }
      if (SecondsSince(t0) > flags.search_seconds && i >= keep) stop = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();
  const double wall = SecondsSince(t0);
  if (!error.ok()) return error;
  std::vector<double> all;
  for (auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  run.lat = Summarize(std::move(all), wall);
  return run;
}

// Fraction of queries drawn from a stored turn whose turn is in the top 10.
std::string SourceAt10(const std::vector<Query>& queries,
                       const std::vector<std::vector<uint32_t>>& results) {
  size_t asked = 0, found = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (queries[i].source < 0) continue;
    ++asked;
    for (uint32_t r : results[i]) {
      if (r == static_cast<uint32_t>(queries[i].source)) {
        ++found;
        break;
      }
    }
  }
  return asked ? Fmt("%.2f", static_cast<double>(found) / static_cast<double>(asked)) : "n/a";
}

// ---- the FTS5 baseline -------------------------------------------------------------

// The query as a plain FTS5 expression: its distinct non-stop words, OR'ed (what the
// engine does with stemmed terms).
std::vector<std::string> Fts5Words(const std::string& query) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  for (auto& w : text::Words(query)) {
    if (text::IsStopWord(w) || !seen.insert(w).second) continue;
    words.push_back(std::move(w));
  }
  return words;
}

std::string Fts5Or(const std::vector<std::string>& words) {
  std::string expr;
  for (const auto& w : words) {
    if (!expr.empty()) expr += " OR ";
    expr += '"';
    for (char c : w) {
      if (c == '"') expr += '"';
      expr += c;
    }
    expr += '"';
  }
  return expr;
}

struct FtsBaseline {
  RawDb db;
  double insert_seconds = 0;
  int64_t bytes = 0;
};

// A plain FTS5 table (unicode61) with the same texts, written like the engine writes:
// WAL, synchronous=FULL, one transaction per 1,000 rows.
Status BuildFtsBaseline(const std::string& path, const std::vector<std::string>& texts,
                        FtsBaseline* out) {
  std::error_code ec;
  fs::remove(path, ec);
  MNEMO_RETURN_IF_ERROR(out->db.Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  MNEMO_RETURN_IF_ERROR(
      out->db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "PRAGMA cache_size=-16384;"
                   "CREATE VIRTUAL TABLE docs USING fts5(text, "
                   "tokenize='unicode61');"
                   "CREATE VIRTUAL TABLE docs_vocab USING fts5vocab(docs, 'row')"));
  MNEMO_ASSIGN_OR_RETURN(sqlite3_stmt * ins,
                         out->db.Prepare("INSERT INTO docs(rowid, text) VALUES(?,?)"));
  const auto t0 = SteadyClock::now();
  for (size_t start = 0; start < texts.size(); start += kBatch) {
    MNEMO_RETURN_IF_ERROR(out->db.Exec("BEGIN"));
    for (size_t i = start; i < std::min(texts.size(), start + kBatch); ++i) {
      sqlite3_bind_int64(ins, 1, static_cast<int64_t>(i) + 1);
      sqlite3_bind_text(ins, 2, texts[i].data(), static_cast<int>(texts[i].size()), SQLITE_STATIC);
      MNEMO_RETURN_IF_ERROR(out->db.StepDone(ins));
    }
    MNEMO_RETURN_IF_ERROR(out->db.Exec("COMMIT"));
  }
  out->insert_seconds = SecondsSince(t0);
  MNEMO_RETURN_IF_ERROR(out->db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  out->bytes = FileBytes(path);
  return Status::Ok();
}

struct FtsRun {
  Latency lat;
  std::vector<std::vector<uint32_t>> results;
  size_t skipped = 0;  // queries with no word left
};

// `max_df` > 0 prunes the query first: words in more than that fraction of the rows are
// dropped (unless every word is, then the rarest stays). It is what an engine could do
// to bound the posting lists BM25 must walk; the document-frequency lookups are timed.
Result<FtsRun> RunFtsQueries(FtsBaseline& fts, const std::vector<Query>& queries, int limit,
                             double max_df, size_t rows, const Flags& flags) {
  MNEMO_ASSIGN_OR_RETURN(
      sqlite3_stmt * st,
      fts.db.Prepare("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"));
  MNEMO_ASSIGN_OR_RETURN(sqlite3_stmt * df_st,
                         fts.db.Prepare("SELECT doc FROM docs_vocab WHERE term=?"));
  FtsRun run;
  const size_t total = std::min(queries.size(), static_cast<size_t>(flags.queries));
  const size_t keep = std::min(total, static_cast<size_t>(flags.recall_queries));
  run.results.resize(keep);
  std::vector<double> samples;
  const auto t0 = SteadyClock::now();
  for (size_t i = 0; i < total; ++i) {
    std::vector<std::string> words = Fts5Words(queries[i].text);
    if (words.empty()) {
      ++run.skipped;
      continue;
    }
    const auto q0 = SteadyClock::now();
    if (max_df > 0) {
      std::vector<std::pair<int64_t, std::string>> by_df;
      for (auto& w : words) {
        sqlite3_bind_text(df_st, 1, w.data(), static_cast<int>(w.size()), SQLITE_STATIC);
        const int64_t df = sqlite3_step(df_st) == SQLITE_ROW ? sqlite3_column_int64(df_st, 0) : 0;
        sqlite3_reset(df_st);
        by_df.emplace_back(df, std::move(w));
      }
      std::sort(by_df.begin(), by_df.end());
      words.clear();
      for (auto& [df, w] : by_df) {
        if (words.empty() || static_cast<double>(df) <= max_df * static_cast<double>(rows)) {
          words.push_back(std::move(w));
        }
      }
    }
    const std::string expr = Fts5Or(words);
    sqlite3_bind_text(st, 1, expr.data(), static_cast<int>(expr.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (i < keep)
        run.results[i].push_back(static_cast<uint32_t>(sqlite3_column_int64(st, 0) - 1));
    }
    sqlite3_reset(st);
    samples.push_back(SecondsSince(q0));
    if (rc != SQLITE_DONE) {
      return Status::IOError("fts5 baseline: " + std::string(sqlite3_errmsg(fts.db.raw())));
    }
    if (SecondsSince(t0) > flags.search_seconds && i >= keep) break;
  }
  run.lat = Summarize(std::move(samples), SecondsSince(t0));
  return run;
}

// ---- one scale ---------------------------------------------------------------------

struct Figures {  // everything measured at one n, printed at the end
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rows;
  void Add(const std::string& figure, const std::string& measured,
           const std::string& baseline = "") {
    rows.push_back({figure, {measured, baseline}});
  }
};

class ScaleRun {
 public:
  ScaleRun(const Flags& flags, int64_t n)
      : flags_(flags),
        n_(n),
        dir_(flags.dir + "/n" + std::to_string(n)),
        data_(dir_ + "/data"),
        embedder_(embed::NewBuiltinEmbedder(kDim)) {}

  Status Run();
  const Figures& figures() const { return figures_; }

 private:
  bool Want(const char* w) const { return flags_.workloads.count(w) != 0; }
  Status Ingest();
  Status ScratchIngest();
  Status IngestProbe();
  Status CloseAfterLoad();
  std::string LoadApiName() const;
  Status BuildMixed();
  Status Search();
  Status Add();
  Status SizeOnDisk();
  Status Open();
  Status Lifecycle();
  Status Peer();

  Status OpenEngine(Durability d = Durability::kFull) {
    MNEMO_ASSIGN_OR_RETURN(engine_, Engine::Open(data_, EngineOptions(d)));
    return Status::Ok();
  }
  // Closes the engine (each open space snapshots its index) and returns the seconds.
  double CloseEngine() {
    const auto t0 = SteadyClock::now();
    engine_.reset();
    return SecondsSince(t0);
  }
  std::string SpaceDir(const std::string& space) const { return data_ + "/spaces/" + space; }

  const Flags& flags_;
  const int64_t n_;
  const std::string dir_;
  const std::string data_;
  std::shared_ptr<const Embedder> embedder_;
  std::unique_ptr<Engine> engine_;
  Figures figures_;

  Corpus solo_;             // every memory of "solo", in order
  Corpus mixed_user_;       // the memories of the searched user of "mixed"
  int64_t solo_count_ = 0;  // memories in "solo" (grows with the add workload)
  int64_t solo_text_bytes_ = 0;
  int64_t rss_before_ = 0;
  double load_rate_ = 0;  // memories/s of the load of "solo" (acknowledged)
  bool mixed_built_ = false;
  int64_t mixed_n_ = 0;
};

Status ScaleRun::Run() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) return Status::IOError("cannot create " + dir_ + ": " + ec.message());
  MNEMO_RETURN_IF_ERROR(Ingest());
  if (Want("ingest")) MNEMO_RETURN_IF_ERROR(ScratchIngest());
  if (Want("search")) {
    if (flags_.mixed) MNEMO_RETURN_IF_ERROR(BuildMixed());
    MNEMO_RETURN_IF_ERROR(Search());
  }
  if (Want("add")) MNEMO_RETURN_IF_ERROR(Add());
  if (Want("lifecycle")) MNEMO_RETURN_IF_ERROR(Lifecycle());
  if (Want("peer")) MNEMO_RETURN_IF_ERROR(Peer());
  if (Want("ingest") && flags_.probe_batches > 0) MNEMO_RETURN_IF_ERROR(IngestProbe());
  // After add and the probe: a clean close then writes a snapshot of the whole graph
  // (a close writes one only when the index changed since the last).
  if (Want("size") || Want("open")) MNEMO_RETURN_IF_ERROR(SizeOnDisk());
  if (Want("open")) MNEMO_RETURN_IF_ERROR(Open());
  engine_.reset();
  if (!flags_.keep) fs::remove_all(dir_, ec);
  return Status::Ok();
}

std::string ScaleRun::LoadApiName() const {
  return flags_.load_with_ingest ? "Engine::Ingest" : "Engine::AddBatch";
}

Status ScaleRun::Ingest() {
  rss_before_ = ReadMemUsage().rss;
  MNEMO_RETURN_IF_ERROR(OpenEngine());
  MNEMO_RETURN_IF_ERROR(engine_->CreateSpace("solo"));
  ConversationOptions co;
  co.seed = flags_.seed;
  co.users = 1;
  ConversationGenerator gen(co);
  Progress(Fmt("n=%" PRId64 ": load solo with %s (kFull, batches of %zu)", n_,
               LoadApiName().c_str(), kBatch));
  const auto t0 = SteadyClock::now();
  // The texts are regenerated after the memory measurement below, which they would skew.
  MNEMO_ASSIGN_OR_RETURN(IngestFigures f,
                         IngestStream(*engine_, "solo", gen, n_, "", &solo_, /*keep_texts=*/false,
                                      !flags_.load_with_ingest));
  const auto t1 = SteadyClock::now();
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());
  f.catch_up_seconds = SecondsSince(t1);
  const double to_indexed = SecondsSince(t0);
  solo_count_ = f.memories;
  solo_text_bytes_ = solo_.text_bytes;
  load_rate_ = f.rate();
  Progress(Fmt("  load %.1f s (%.0f/s), index catch-up %.1f s", f.call_seconds, f.rate(),
               f.catch_up_seconds));

  const MemUsage mem = ReadMemUsage();
  MNEMO_ASSIGN_OR_RETURN(SpaceStats stats, engine_->Stats("solo"));
  if (Want("ingest")) {
    figures_.Add(Fmt("ingest: %s, 1 user, batches of 1,000, kFull, empty -> n (acknowledged)",
                     LoadApiName().c_str()),
                 Fmt("%s memories/s (%" PRId64 " in %.1f s); per batch %s; first batch %s, "
                     "slowest %s (batch %" PRId64 "), %" PRId64
                     " batches over twice the first; by tenth of the load: %s memories/s",
                     Rate(f.rate()).c_str(), f.memories, f.call_seconds,
                     LatencyText(f.batch, false).c_str(), Ms(f.first_batch).c_str(),
                     Ms(f.max_batch).c_str(), f.max_batch_index + 1, f.over_twice_first,
                     [&] {
                       std::string t;
                       for (double r : f.tenth_rates) t += (t.empty() ? "" : ", ") + Rate(r);
                       return t;
                     }()
                         .c_str()),
                 "FTS5 and embedder rows below");
    figures_.Add("ingest: graph build (HNSW, background indexer thread)",
                 Fmt("%.1f s of catch-up after the last write; %.1f s from the first write to "
                     "all %" PRId64 " vectors in the graph (%s vectors/s)",
                     f.catch_up_seconds, to_indexed, stats.vectors_indexed,
                     Rate(static_cast<double>(stats.vectors_indexed) / to_indexed).c_str()),
                 "hnswlib build row below");
  }
  if (Want("size")) {
    const double per = static_cast<double>(mem.rss - rss_before_) / static_cast<double>(f.memories);
    figures_.Add("size: RSS growth per memory after load + indexing (1 open space)",
                 Fmt("%.0f B/memory (RSS %s, VmHWM %s, before the engine %s)", per,
                     Mb(mem.rss).c_str(), Mb(mem.hwm).c_str(), Mb(rss_before_).c_str()),
                 Fmt("floor: graph node = int8 vector %zu B + level-0 links %d B + id 8 B; "
                     "text %.0f B",
                     index::QuantizedSize(kDim), 4 * 2 * 16 + 4,
                     static_cast<double>(solo_.text_bytes) / static_cast<double>(f.memories)));
  }
  solo_.texts = RegenerateTexts(co, n_);
  solo_.Index();
  if (Want("open") && flags_.close_after_load) MNEMO_RETURN_IF_ERROR(CloseAfterLoad());
  return Status::Ok();
}

// A clean close right after a bulk load, once the graph has caught up: is the snapshot
// on disk the whole graph, or does the next open replay the log and re-index?
Status ScaleRun::CloseAfterLoad() {
  Progress(Fmt("n=%" PRId64 ": clean close right after the load", n_));
  const double close_seconds = CloseEngine();
  const SnapshotHeader snap = ReadSnapshotHeader(SpaceDir("solo") + "/vectors.idx");
  SearchRequest req = MakeRequest(Variant::kHybrid, "what did I say about the garden", "user0");
  const auto t0 = SteadyClock::now();
  MNEMO_RETURN_IF_ERROR(OpenEngine());
  MNEMO_RETURN_IF_ERROR(engine_->Search("solo", req).status());
  const double open_seconds = SecondsSince(t0);
  MNEMO_ASSIGN_OR_RETURN(SpaceStats st, engine_->Stats("solo"));
  std::vector<double> samples;
  for (int i = 0; i < 20; ++i) {
    const auto q0 = SteadyClock::now();
    MNEMO_RETURN_IF_ERROR(engine_->Search("solo", req).status());
    samples.push_back(SecondsSince(q0));
  }
  const Latency during = Summarize(samples, 0);
  const auto c0 = SteadyClock::now();
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());
  const double catch_up = SecondsSince(c0);
  figures_.Add("open: clean close right after the bulk load (graph complete in memory)",
               Fmt("close %.2f s; vectors.idx holds %" PRId64 " of %" PRId64
                   " vectors; reopen + first search %.2f s with %" PRId64
                   " vectors pending; searches meanwhile p50 %s",
                   close_seconds, snap.nodes, solo_count_, open_seconds, st.vectors_pending,
                   Ms(during.p50).c_str()),
               Fmt("graph re-indexing after the reopen: %.1f s", catch_up));
  return Status::Ok();
}

// Engine::Ingest into the loaded space: new sessions continuing the conversation. Runs
// after search, size and add, so that those see exactly the loaded corpus.
Status ScaleRun::IngestProbe() {
  const int64_t size_before = solo_count_;
  ConversationOptions po;
  po.seed = flags_.seed + 2;
  ConversationGenerator probe_gen(po);
  const int64_t m = int64_t{flags_.probe_batches} * static_cast<int64_t>(kBatch);
  Progress(Fmt("n=%" PRId64 ": Engine::Ingest probe, %" PRId64 " messages into solo", n_, m));
  MNEMO_ASSIGN_OR_RETURN(IngestFigures p,
                         IngestStream(*engine_, "solo", probe_gen, m, "", nullptr, false));
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());
  solo_count_ += p.memories;
  solo_text_bytes_ += p.text_bytes;
  figures_.Add(Fmt("ingest: Engine::Ingest (sessions linked), kFull, into the loaded space of "
                   "%" PRId64,
                   size_before),
               Fmt("%s memories/s; per batch of 1,000 %s", Rate(p.rate()).c_str(),
                   LatencyText(p.batch, false).c_str()),
               "AddBatch loading the same space: first ingest row");
  return Status::Ok();
}

// Engine::Ingest from an empty space at kFull and kNormal (min(n, ingest_n) turns), and
// AddBatch at kNormal (min(n, scratch_n)), each in its own data directory so that no
// other space's indexing competes with it.
Status ScaleRun::ScratchIngest() {
  struct Load {
    const char* label;
    Durability durability;
    bool add_batch;
    int64_t count;
  };
  const Load loads[] = {
      {"ingest: Engine::Ingest, batches of 1,000, kFull, empty -> m", Durability::kFull, false,
       std::min(n_, flags_.ingest_n)},
      {"ingest: Engine::Ingest, batches of 1,000, kNormal, empty -> m", Durability::kNormal, false,
       std::min(n_, flags_.ingest_n)},
      {"ingest: Engine::AddBatch, batches of 1,000, kNormal, empty -> m", Durability::kNormal, true,
       std::min(n_, flags_.scratch_n)},
  };
  for (const Load& v : loads) {
    if (v.count <= 0) continue;
    const std::string dir = dir_ + "/scratch";
    std::error_code ec;
    fs::remove_all(dir, ec);
    MNEMO_ASSIGN_OR_RETURN(auto engine, Engine::Open(dir, EngineOptions(v.durability)));
    MNEMO_RETURN_IF_ERROR(engine->CreateSpace("s"));
    ConversationOptions co;
    co.seed = flags_.seed;
    ConversationGenerator gen(co);
    Progress(Fmt("n=%" PRId64 ": %s (m=%" PRId64 ")", n_, v.label, v.count));
    MNEMO_ASSIGN_OR_RETURN(
        IngestFigures f, IngestStream(*engine, "s", gen, v.count, "", nullptr, false, v.add_batch));
    const auto t1 = SteadyClock::now();
    MNEMO_RETURN_IF_ERROR(engine->WaitForIndexing());
    f.catch_up_seconds = SecondsSince(t1);
    engine.reset();
    fs::remove_all(dir, ec);
    // Per-batch latency of the first and last tenth shows how the cost grows with size.
    figures_.Add(Fmt("%s (m=%" PRId64 ")", v.label, v.count),
                 Fmt("%s memories/s; per batch %s", Rate(f.rate()).c_str(),
                     LatencyText(f.batch, false).c_str()),
                 Fmt("first batch %s, last batch %s; index catch-up %.1f s",
                     Ms(f.first_batch).c_str(), Ms(f.last_batch).c_str(), f.catch_up_seconds));
  }
  return Status::Ok();
}

Status ScaleRun::BuildMixed() {
  const int64_t m = flags_.mixed_n > 0 ? flags_.mixed_n : n_;
  MNEMO_RETURN_IF_ERROR(engine_->CreateSpace("mixed"));
  ConversationOptions co;
  co.seed = flags_.seed + 1;
  co.users = flags_.mixed_users;
  ConversationGenerator gen(co);
  Progress(Fmt("n=%" PRId64 ": load mixed with %s (%d users, %" PRId64 " memories)", n_,
               LoadApiName().c_str(), co.users, m));
  const auto t0 = SteadyClock::now();
  MNEMO_ASSIGN_OR_RETURN(IngestFigures f,
                         IngestStream(*engine_, "mixed", gen, m, "user0", &mixed_user_, true,
                                      !flags_.load_with_ingest));
  mixed_user_.Index();
  const auto t1 = SteadyClock::now();
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());
  f.catch_up_seconds = SecondsSince(t1);
  mixed_built_ = true;
  mixed_n_ = m;
  if (Want("ingest")) {
    figures_.Add(Fmt("ingest: %s, %d users (batches of 1,000 per user), kFull, empty -> %" PRId64,
                     LoadApiName().c_str(), co.users, m),
                 Fmt("%s memories/s (%" PRId64 " in %.1f s); per batch %s", Rate(f.rate()).c_str(),
                     f.memories, f.call_seconds, LatencyText(f.batch, false).c_str()),
                 Fmt("index catch-up %.1f s; %.1f s from the first write to indexed",
                     f.catch_up_seconds, SecondsSince(t0)));
  }
  Progress(Fmt("  mixed: user0 owns %zu of %" PRId64 " memories", mixed_user_.texts.size(), m));
  return Status::Ok();
}

std::vector<Query> MakeQueries(uint64_t seed, const std::vector<std::string>* corpus, size_t n) {
  QueryGenerator gen(seed, corpus);
  std::vector<Query> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(gen.Next());
  return out;
}

Status ScaleRun::Lifecycle() {
  const size_t nq = static_cast<size_t>(flags_.queries) + 20;
  const std::vector<Query> queries = MakeQueries(flags_.seed + 9, &solo_.texts, nq);
  // Saved recalls of earlier workloads would be counted below: start from none.
  MNEMO_RETURN_IF_ERROR(engine_->Maintain("solo").status());
  Progress(Fmt("n=%" PRId64 ": lifecycle: searches without and with retention", n_));
  MNEMO_ASSIGN_OR_RETURN(SearchRun off,
                         RunEngineSearches(*engine_, "solo", "user0", queries,
                                           Variant::kHybridNoRetention, 1, flags_, &solo_));
  MNEMO_ASSIGN_OR_RETURN(SearchRun on, RunEngineSearches(*engine_, "solo", "user0", queries,
                                                         Variant::kHybrid, 1, flags_, &solo_));
  figures_.Add(Fmt("lifecycle: hybrid search k=10 with retention (weight %.2g), 1 thread",
                   SearchRequest{}.retention_weight),
               LatencyText(on.lat), "retention off: " + LatencyText(off.lat));
  Progress(Fmt("n=%" PRId64 ": lifecycle: maintenance", n_));
  auto t0 = SteadyClock::now();
  MNEMO_ASSIGN_OR_RETURN(MaintenanceReport saved, engine_->Maintain("solo"));
  const double with_recalls = SecondsSince(t0);
  t0 = SteadyClock::now();
  MNEMO_ASSIGN_OR_RETURN(MaintenanceReport idle, engine_->Maintain("solo"));
  const double scan_only = SecondsSince(t0);
  if (idle.recalls != 0) return Status::Internal("the second maintenance pass saved recalls");
  figures_.Add(
      Fmt("lifecycle: Engine::Maintain saving %" PRId64 " recalled memories (%zu "
          "searches x k=10) + tier scan",
          saved.recalls, on.lat.count + off.lat.count),
      Fmt("%s (%.1f us per saved memory beyond the scan)", Ms(with_recalls).c_str(),
          saved.recalls > 0 ? (with_recalls - scan_only) * 1e6 / static_cast<double>(saved.recalls)
                            : 0.0),
      "tier scan alone: " + Ms(scan_only));
  return Status::Ok();
}

// Runs a command through the shell; its stdout, or an error naming it and its exit code.
Result<std::string> RunCommand(const std::string& cmd) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return Status::IOError("cannot run: " + cmd);
  std::string out;
  char buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  const int rc = pclose(p);
  if (rc != 0) return Status::Internal("`" + cmd + "` failed (status " + std::to_string(rc) + ")");
  return out;
}

// Single-quoted for the shell.
std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Status ScaleRun::Peer() {
  const size_t nq = std::min<size_t>(static_cast<size_t>(flags_.queries), 1000);
  std::vector<Query> queries = MakeQueries(flags_.seed + 7, &solo_.texts, nq + 20);
  queries.resize(nq);  // the same queries as the search workload's, without its warm-up tail
  const std::string texts_path = dir_ + "/peer_texts.jsonl";
  const std::string queries_path = dir_ + "/peer_queries.jsonl";
  {
    std::ofstream texts(texts_path), qs(queries_path);
    for (size_t i = 0; i < solo_.texts.size(); ++i) {
      texts << util::DumpJson(util::Json{{"id", i}, {"text", solo_.texts[i]}}) << '\n';
    }
    for (const auto& q : queries) qs << util::DumpJson(util::Json{{"text", q.text}}) << '\n';
    if (!texts || !qs) return Status::IOError("cannot write the peer's input under " + dir_);
  }
  const std::string peer = flags_.peer_dir;
  if (!fs::exists(peer + "/node_modules/@lancedb/lancedb")) {
    Progress("peer: npm ci --prefix " + peer);
    MNEMO_RETURN_IF_ERROR(
        RunCommand("npm ci --silent --prefix " + ShellQuote(peer) + " >&2").status());
  }
  Progress(
      Fmt("n=%" PRId64 ": peer: LanceDB on %zu texts, %zu queries", n_, solo_.texts.size(), nq));
  MNEMO_ASSIGN_OR_RETURN(
      std::string out,
      // LanceDB 0.31.0's FTS index build hung here at 200,000 rows (no CPU, no output):
      // bounded, so that the rest of the run is kept.
      RunCommand("timeout 600 node " + ShellQuote(peer + "/lancedb_peer.mjs") + " --texts " +
                 ShellQuote(texts_path) + " --queries " + ShellQuote(queries_path) + " --dir " +
                 ShellQuote(dir_ + "/lancedb")));
  MNEMO_ASSIGN_OR_RETURN(util::Json r, util::ParseJson(out));
  if (!r.is_object() || !r.contains("search") || !r.contains("top")) {
    return Status::Corruption("the peer printed no result: " + out.substr(0, 200));
  }
  std::vector<std::vector<uint32_t>> peer_top;
  for (const auto& list : r["top"]) {
    peer_top.emplace_back();
    for (const auto& id : list) peer_top.back().push_back(id.get<uint32_t>());
  }
  // mnemo over the same queries, lexical-only (the peer's index is full-text only).
  Flags one = flags_;
  one.recall_queries = static_cast<int>(nq);
  one.search_seconds = 1e9;  // every query, as the peer runs them all
  MNEMO_ASSIGN_OR_RETURN(SearchRun own, RunEngineSearches(*engine_, "solo", "user0", queries,
                                                          Variant::kLexical, 1, one, &solo_));
  const auto& search = r["search"];
  figures_.Add("peer: LanceDB " + r.value("version", std::string("?")) +
                   " embedded, ingest of the same texts (batches of 1,000, no vectors) + FTS index",
               Fmt("%.0f rows/s; FTS index build %.1f s", r["ingest_rows_per_s"].get<double>(),
                   r["fts_index_seconds"].get<double>()),
               Fmt("mnemo (this run's load): %s memories/s, durable, with vectors, indexed as "
                   "written",
                   Rate(load_rate_).c_str()));
  figures_.Add("peer: LanceDB full-text search, k=10, 1 thread (same queries)",
               Fmt("p50 %.3f ms, p99 %.3f ms, mean %.3f ms (%d); source in top 10: %s",
                   search["p50_ms"].get<double>(), search["p99_ms"].get<double>(),
                   search["mean_ms"].get<double>(), search["queries"].get<int>(),
                   SourceAt10(queries, peer_top).c_str()),
               "mnemo lexical-only: " + LatencyText(own.lat) +
                   "; source in top 10: " + SourceAt10(queries, own.results));
  return Status::Ok();
}

Status ScaleRun::Search() {
  // 20 extra queries at the end serve as warm-up.
  const size_t nq = static_cast<size_t>(flags_.queries) + 20;
  const std::vector<Query> queries = MakeQueries(flags_.seed + 7, &solo_.texts, nq);
  const std::vector<Query> mixed_queries = MakeQueries(flags_.seed + 8, &mixed_user_.texts, nq);
  size_t rare = 0, paraphrase = 0;
  for (size_t i = 0; i < static_cast<size_t>(flags_.queries); ++i) {
    rare += queries[i].has_rare_word;
    paraphrase += queries[i].source >= 0;
  }

  const Variant variants[] = {Variant::kHybrid, Variant::kLexical, Variant::kVector};
  // [space][variant][threads]
  std::map<std::string, SearchRun> runs;
  auto key = [](const std::string& space, const char* v, int t) {
    return space + "/" + v + "/t" + std::to_string(t);
  };
  std::vector<std::string> spaces = {"solo"};
  if (mixed_built_) spaces.push_back("mixed");
  for (const std::string& space : spaces) {
    const bool solo = space == "solo";
    for (const Variant v : variants) {
      for (int t : flags_.threads) {
        Progress(Fmt("n=%" PRId64 ": search %s %s t%d", n_, space.c_str(), VariantName(v), t));
        MNEMO_ASSIGN_OR_RETURN(
            SearchRun r, RunEngineSearches(*engine_, space, "user0", solo ? queries : mixed_queries,
                                           v, t, flags_, solo ? &solo_ : &mixed_user_));
        runs[key(space, VariantName(v), t)] = std::move(r);
      }
    }
  }
  if (Want("size")) {
    const MemUsage mem = ReadMemUsage();
    figures_.Add("size: RSS after the searches (every space of this run open)",
                 Fmt("RSS %s, VmHWM %s", Mb(mem.rss).c_str(), Mb(mem.hwm).c_str()));
  }

  // ---- baselines over the same data ----
  Progress(Fmt("n=%" PRId64 ": baselines: embedding %zu texts", n_, solo_.texts.size()));
  double embed_seconds = 0;
  MNEMO_ASSIGN_OR_RETURN(Vectors vecs, EmbedCorpus(*embedder_, solo_.texts, &embed_seconds));
  std::vector<std::vector<float>> qvecs(queries.size());
  {
    std::vector<std::string_view> views;
    for (const auto& q : queries) views.push_back(q.text);
    MNEMO_RETURN_IF_ERROR(embedder_->Embed(views, &qvecs));
  }
  const size_t total = std::min(queries.size(), static_cast<size_t>(flags_.queries));
  const size_t recall_n = std::min(total, static_cast<size_t>(flags_.recall_queries));

  // (a) exact scan over the same int8 vectors.
  Progress("  exact int8 scan");
  std::vector<std::vector<Scored>> exact_int8(recall_n);
  std::vector<double> exact_samples;
  {
    const auto t0 = SteadyClock::now();
    for (size_t i = 0; i < total; ++i) {
      const auto q0 = SteadyClock::now();
      auto top = ExactInt8TopK(vecs, qvecs[i], kK);
      exact_samples.push_back(SecondsSince(q0));
      if (i < recall_n) exact_int8[i] = std::move(top);
      if (i >= recall_n && SecondsSince(t0) > flags_.search_seconds) break;
    }
  }
  const Latency exact = Summarize(exact_samples, 0);

  // (b) raw FTS5.
  Progress("  raw FTS5 baseline");
  FtsBaseline fts;
  MNEMO_RETURN_IF_ERROR(BuildFtsBaseline(dir_ + "/baseline_fts.db", solo_.texts, &fts));
  const size_t rows = solo_.texts.size();
  MNEMO_ASSIGN_OR_RETURN(FtsRun fts10, RunFtsQueries(fts, queries, 10, 0, rows, flags_));
  MNEMO_ASSIGN_OR_RETURN(FtsRun fts100, RunFtsQueries(fts, queries, 100, 0, rows, flags_));
  MNEMO_ASSIGN_OR_RETURN(FtsRun fts_pruned, RunFtsQueries(fts, queries, 10, 0.01, rows, flags_));

  // (c) raw hnswlib over float vectors.
  Progress(Fmt("  hnswlib baseline build (%d thread(s))", flags_.hnsw_build_threads));
  MNEMO_ASSIGN_OR_RETURN(auto hnsw, HnswlibBaseline::Create(kDim, vecs.n, 16, 100));
  double hnsw_build_seconds = 0;
  {
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    Status err;
    const auto t0 = SteadyClock::now();
    auto build = [&] {
      for (size_t i; (i = next.fetch_add(1)) < vecs.n;) {
        Status s = hnsw->Add(vecs.vec(i), i);
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(err_mu);
          err = s;
          return;
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < flags_.hnsw_build_threads; ++t) pool.emplace_back(build);
    for (auto& th : pool) th.join();
    hnsw_build_seconds = SecondsSince(t0);
    MNEMO_RETURN_IF_ERROR(err);
  }
  hnsw->SetEf(64);
  std::vector<double> hnsw_samples;
  std::vector<std::vector<uint32_t>> hnsw_results(recall_n);
  {
    const auto t0 = SteadyClock::now();
    for (size_t i = 0; i < total; ++i) {
      const auto q0 = SteadyClock::now();
      MNEMO_ASSIGN_OR_RETURN(auto labels, hnsw->Search(qvecs[i].data(), kK));
      hnsw_samples.push_back(SecondsSince(q0));
      if (i < recall_n) {
        for (uint64_t l : labels) hnsw_results[i].push_back(static_cast<uint32_t>(l));
      }
      if (i >= recall_n && SecondsSince(t0) > flags_.search_seconds) break;
    }
  }
  const Latency hnswlat = Summarize(hnsw_samples, 0);
  const MemUsage mem_baselines = ReadMemUsage();

  // Recall@10 against exact search.
  double engine_recall = 0, hnsw_recall = 0;
  {
    const auto& engine_vec = runs[key("solo", "vector-only", 1)].results;
    for (size_t i = 0; i < recall_n; ++i) {
      engine_recall += TieAwareRecall(
          i < engine_vec.size() ? engine_vec[i] : std::vector<uint32_t>{}, exact_int8[i],
          [&](uint32_t idx) { return index::QuantizedDot(qvecs[i], vecs.blob(idx)); });
      const auto truth = ExactFloatTopK(vecs, qvecs[i], kK);
      hnsw_recall += TieAwareRecall(hnsw_results[i], truth, [&](uint32_t idx) {
        return FloatDot(qvecs[i].data(), vecs.vec(idx));
      });
    }
    if (recall_n > 0) {
      engine_recall /= static_cast<double>(recall_n);
      hnsw_recall /= static_cast<double>(recall_n);
    }
  }

  // Exact scan over the 1% user's vectors: the work of the engine's exact path minus SQL.
  double mixed_embed_seconds = 0;
  MNEMO_ASSIGN_OR_RETURN(Vectors mvecs,
                         EmbedCorpus(*embedder_, mixed_user_.texts, &mixed_embed_seconds));
  std::vector<double> mexact_samples;
  if (mixed_built_) {
    std::vector<std::vector<float>> mq;
    std::vector<std::string_view> views;
    for (size_t i = 0; i < total; ++i) views.push_back(mixed_queries[i].text);
    MNEMO_RETURN_IF_ERROR(embedder_->Embed(views, &mq));
    for (const auto& q : mq) {
      const auto q0 = SteadyClock::now();
      (void)ExactInt8TopK(mvecs, q, kK);
      mexact_samples.push_back(SecondsSince(q0));
    }
  }
  const Latency mexact = Summarize(mexact_samples, 0);

  // ---- rows ----
  figures_.Add(
      "ingest baseline: raw SQLite FTS5 insert (unicode61, WAL, synchronous=FULL, "
      "1,000 rows/txn)",
      Fmt("%s rows/s", Rate(static_cast<double>(solo_.texts.size()) / fts.insert_seconds).c_str()));
  figures_.Add("ingest baseline: builtin embedder + int8 quantization alone (1 thread)",
               Fmt("%s texts/s", Rate(static_cast<double>(vecs.n) / embed_seconds).c_str()));
  figures_.Add("ingest baseline: raw hnswlib<float> build, M=16, ef_construction=100",
               Fmt("%.1f s (%s vectors/s, %d thread(s))", hnsw_build_seconds,
                   Rate(static_cast<double>(vecs.n) / hnsw_build_seconds).c_str(),
                   flags_.hnsw_build_threads));
  figures_.Add("search: query mix",
               Fmt("%d queries: %zu paraphrase a stored turn, %zu contain a rare token",
                   flags_.queries, paraphrase, rare));
  for (const std::string& space : spaces) {
    const bool solo = space == "solo";
    const auto scope = static_cast<int64_t>(solo ? solo_count_ : mixed_user_.texts.size());
    const char* path =
        scope > static_cast<int64_t>(Options().exact_scan_limit) ? "HNSW path" : "exact-scan path";
    const std::string where =
        solo ? Fmt("1 user owns all %" PRId64 " (%s)", scope, path)
             : Fmt("user owns %" PRId64 " of %" PRId64 " (%s)", scope, mixed_n_, path);
    for (const Variant v : variants) {
      for (int t : flags_.threads) {
        const SearchRun& r = runs[key(space, VariantName(v), t)];
        std::string baseline =
            v == Variant::kHybrid && t == flags_.threads.front() ? DefaultsText() : "";
        const std::string variant = VariantName(v);
        if (solo && variant == "lexical-only") {
          baseline = "raw FTS5 LIMIT 10: " + LatencyText(fts10.lat, false) + " [p50 ratio " +
                     Ratio(r.lat.p50, fts10.lat.p50) + "]; LIMIT 100: p50 " + Ms(fts100.lat.p50) +
                     ", p99 " + Ms(fts100.lat.p99) +
                     "; LIMIT 10 without words in > 1% of rows: p50 " + Ms(fts_pruned.lat.p50) +
                     ", p99 " + Ms(fts_pruned.lat.p99);
        } else if (solo && variant == "vector-only") {
          baseline = "exact int8 scan: p50 " + Ms(exact.p50) + ", p99 " + Ms(exact.p99) +
                     " [p50 ratio " + Ratio(r.lat.p50, exact.p50) +
                     "]; hnswlib<float> ef=64: p50 " + Ms(hnswlat.p50) + ", p99 " +
                     Ms(hnswlat.p99) + " [p50 ratio " + Ratio(r.lat.p50, hnswlat.p50) + "]";
        } else if (!solo && variant == "vector-only") {
          baseline = "exact int8 scan of the user's vectors: p50 " + Ms(mexact.p50) + ", p99 " +
                     Ms(mexact.p99) + " [p50 ratio " + Ratio(r.lat.p50, mexact.p50) + "]";
        }
        figures_.Add(Fmt("search %s, k=10, %s, %d thread(s)", VariantName(v), where.c_str(), t),
                     LatencyText(r.lat), baseline);
      }
    }
  }
  figures_.Add("search: recall@10 of vector-only (HNSW path) vs exact int8 scan",
               Fmt("%.3f (%zu queries)", engine_recall, recall_n),
               Fmt("hnswlib<float> ef=64 vs exact float: %.3f", hnsw_recall));
  const auto& hyb = runs[key("solo", "hybrid", 1)].results;
  const auto& lex = runs[key("solo", "lexical-only", 1)].results;
  const auto& vec = runs[key("solo", "vector-only", 1)].results;
  figures_.Add(
      "search quality sanity: paraphrase queries whose source turn is in the top 10 "
      "(hybrid / lexical / vector)",
      SourceAt10(queries, hyb) + " / " + SourceAt10(queries, lex) + " / " +
          SourceAt10(queries, vec),
      "raw FTS5: " + SourceAt10(queries, fts10.results) +
          " (pruned to words in <= 1% "
          "of rows: " +
          SourceAt10(queries, fts_pruned.results) +
          "); hnswlib: " + SourceAt10(queries, hnsw_results));
  figures_.Add(
      "search baselines' memory",
      Fmt("RSS with float vectors, FTS5 db and hnswlib built: %s", Mb(mem_baselines.rss).c_str()),
      Fmt("FTS5 baseline db %s (%.0f B/row)", Mb(fts.bytes).c_str(),
          static_cast<double>(fts.bytes) / static_cast<double>(std::max<size_t>(vecs.n, 1))));
  return Status::Ok();
}

Status ScaleRun::SizeOnDisk() {
  Progress(Fmt("n=%" PRId64 ": clean close for the on-disk size", n_));
  const double close_seconds = CloseEngine();
  const std::string dir = SpaceDir("solo");
  const int64_t db = FileBytes(dir + "/space.db");
  const int64_t wal = FileBytes(dir + "/space.db-wal");
  const int64_t idx = FileBytes(dir + "/vectors.idx");
  const int64_t lex = FileBytes(dir + "/lexical.idx");
  const int64_t total = DirBytes(dir);
  const double per = static_cast<double>(total) / static_cast<double>(solo_count_);
  const double text = static_cast<double>(solo_text_bytes_) / static_cast<double>(solo_count_);
  const SnapshotHeader snap = ReadSnapshotHeader(dir + "/vectors.idx");
  if (Want("size")) {
    figures_.Add("size: vectors.idx after the clean close",
                 Fmt("%" PRId64 " graph nodes for %" PRId64 " memories (applied_seq %" PRId64 ")",
                     snap.nodes, solo_count_, snap.applied_seq),
                 snap.nodes >= solo_count_ ? "complete" : "STALE: the close wrote no snapshot");
    figures_.Add("size: disk per memory, solo after a clean close",
                 Fmt("%.0f B total = %.0f B text + %.0f B overhead (space.db %s, WAL %s, "
                     "vectors.idx %s, lexical.idx %s; %" PRId64 " memories)",
                     per, text, per - text, Mb(db).c_str(), Mb(wal).c_str(), Mb(idx).c_str(),
                     Mb(lex).c_str(), solo_count_),
                 "target: overhead <= 1,536 B");
    auto tables = TableBytes(dir + "/space.db");
    if (tables.ok()) {
      std::vector<std::pair<int64_t, std::string>> sorted;
      for (const auto& [name, bytes] : *tables) sorted.push_back({bytes, name});
      std::sort(sorted.rbegin(), sorted.rend());
      std::string parts;
      for (const auto& [bytes, name] : sorted) {
        if (bytes < 4096 * 8) continue;
        if (!parts.empty()) parts += ", ";
        parts += Fmt("%s %.0f", name.c_str(),
                     static_cast<double>(bytes) / static_cast<double>(solo_count_));
      }
      parts += Fmt(", vectors.idx %.0f, lexical.idx %.0f",
                   static_cast<double>(idx) / static_cast<double>(solo_count_),
                   static_cast<double>(lex) / static_cast<double>(solo_count_));
      figures_.Add("size: bytes per memory by table (with its indexes)", parts);
    } else {
      Progress("  dbstat: " + tables.status().ToString());
    }
  }
  if (Want("open")) {
    figures_.Add("open: clean close of the engine (final snapshots)", Fmt("%.2f s", close_seconds));
  }
  return OpenEngine();
}

Status ScaleRun::Add() {
  ConversationOptions co;
  co.seed = flags_.seed + 3;
  ConversationGenerator gen(co);
  std::vector<double> samples;
  Progress(Fmt("n=%" PRId64 ": %d single adds", n_, flags_.adds));
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < flags_.adds; ++i) {
    Turn t = gen.Next();
    MemoryInput in;
    in.user_id = "user0";
    in.session_id = "add-" + t.session;
    in.role = t.role;
    in.speaker = t.speaker;
    in.event_time = t.time_ms;
    in.text = std::move(t.text);
    solo_text_bytes_ += static_cast<int64_t>(in.text.size());
    const auto q0 = SteadyClock::now();
    auto r = engine_->Add("solo", in);
    samples.push_back(SecondsSince(q0));
    if (!r.ok()) return r.status().WithContext("Add");
  }
  const Latency add = Summarize(samples, SecondsSince(t0));
  solo_count_ += flags_.adds;
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());

  // Baseline: the cost of one durable commit of one row on this disk.
  RawDb raw;
  const std::string path = dir_ + "/baseline_commit.db";
  MNEMO_RETURN_IF_ERROR(raw.Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  MNEMO_RETURN_IF_ERROR(
      raw.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, text TEXT)"));
  MNEMO_ASSIGN_OR_RETURN(sqlite3_stmt * ins, raw.Prepare("INSERT INTO t(text) VALUES(?)"));
  std::vector<double> raw_samples;
  for (int i = 0; i < flags_.adds; ++i) {
    const std::string& text = solo_.texts[static_cast<size_t>(i) % solo_.texts.size()];
    const auto q0 = SteadyClock::now();
    sqlite3_bind_text(ins, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    MNEMO_RETURN_IF_ERROR(raw.StepDone(ins));
    raw_samples.push_back(SecondsSince(q0));
  }
  const Latency rawlat = Summarize(raw_samples, 0);
  figures_.Add(Fmt("add: single Engine::Add latency, kFull, on a space of %" PRId64, n_),
               LatencyText(add, false) + Fmt(", %s adds/s", Rate(add.per_second()).c_str()),
               "raw SQLite 1-row INSERT commit (WAL, synchronous=FULL): " +
                   LatencyText(rawlat, false) + " [p50 ratio " + Ratio(add.p50, rawlat.p50) + "]");
  return Status::Ok();
}

// Open + the first search (which opens the space) of "solo", after the engine closed.
struct OpenTiming {
  double open = 0, first_search = 0, second_search = 0;
  double total() const { return open + first_search; }
};

Result<OpenTiming> TimedOpen(const std::string& data, std::unique_ptr<Engine>* engine,
                             const std::string& query) {
  OpenTiming t;
  SearchRequest req;
  req.query = query;
  req.filter.user_id = "user0";
  req.k = kK;
  const auto t0 = SteadyClock::now();
  MNEMO_ASSIGN_OR_RETURN(*engine, Engine::Open(data, EngineOptions(Durability::kFull)));
  t.open = SecondsSince(t0);
  const auto t1 = SteadyClock::now();
  auto r = (*engine)->Search("solo", req);
  if (!r.ok()) return r.status().WithContext("first search");
  t.first_search = SecondsSince(t1);
  const auto t2 = SteadyClock::now();
  r = (*engine)->Search("solo", req);
  if (!r.ok()) return r.status().WithContext("second search");
  t.second_search = SecondsSince(t2);
  return t;
}

std::string OpenText(const OpenTiming& t) {
  return Fmt("%.3f s (Engine::Open %s + first search %s; next search %s)", t.total(),
             Ms(t.open).c_str(), Ms(t.first_search).c_str(), Ms(t.second_search).c_str());
}

Status ScaleRun::Open() {
  const std::string query = "what did I say about the garden in Lisbon";
  const std::string space_dir = SpaceDir("solo");
  // The mixed space would be snapshotted on every close; it plays no part here.
  if (mixed_built_) {
    MNEMO_RETURN_IF_ERROR(engine_->DropSpace("mixed"));
    mixed_built_ = false;
  }
  CloseEngine();

  // Warm page cache: the common case of a restart.
  Progress(Fmt("n=%" PRId64 ": open after a clean close (warm cache)", n_));
  MNEMO_ASSIGN_OR_RETURN(OpenTiming warm, TimedOpen(data_, &engine_, query));
  CloseEngine();
  figures_.Add("open: Engine::Open + first search after a clean close, warm page cache",
               OpenText(warm), "target <= 3 s");

  // Cold: this space's files evicted from the page cache.
  EvictFromPageCache(data_);
  const auto r0 = SteadyClock::now();
  const int64_t bytes = ReadAllFiles(space_dir);
  const double read_seconds = SecondsSince(r0);
  EvictFromPageCache(data_);
  Progress(Fmt("n=%" PRId64 ": open after a clean close (cold cache)", n_));
  MNEMO_ASSIGN_OR_RETURN(OpenTiming cold, TimedOpen(data_, &engine_, query));
  CloseEngine();
  figures_.Add("open: same, cold page cache (files evicted with fadvise)", OpenText(cold),
               Fmt("reading the space's %s once, cold: %.2f s", Mb(bytes).c_str(), read_seconds));

  // kill -9 after writes that no snapshot covers: the log tail is replayed on open.
  const int64_t tail = std::min(flags_.crash_tail, n_);
  Progress(Fmt("n=%" PRId64 ": child writes %" PRId64 " memories, then kill -9", n_, tail));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    // The child: no engine is open in the parent, and it has no other threads.
    auto engine = Engine::Open(data_, EngineOptions(Durability::kFull));
    if (!engine.ok()) {
      std::fprintf(stderr, "child: %s\n", engine.status().ToString().c_str());
      ::_exit(1);
    }
    ConversationOptions co;
    co.seed = flags_.seed + 4;
    ConversationGenerator gen(co);
    auto f =
        IngestStream(**engine, "solo", gen, tail, "", nullptr, false, !flags_.load_with_ingest);
    if (!f.ok()) {
      std::fprintf(stderr, "child: %s\n", f.status().ToString().c_str());
      ::_exit(1);
    }
    ::raise(SIGKILL);
    ::_exit(2);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (!WIFSIGNALED(wstatus) || WTERMSIG(wstatus) != SIGKILL) {
    return Status::Internal("the crash child did not die of SIGKILL");
  }
  solo_count_ += tail;
  MNEMO_ASSIGN_OR_RETURN(OpenTiming crash, TimedOpen(data_, &engine_, query));
  MNEMO_ASSIGN_OR_RETURN(SpaceStats after_crash, engine_->Stats("solo"));
  const auto c0 = SteadyClock::now();
  MNEMO_RETURN_IF_ERROR(engine_->WaitForIndexing());
  const double crash_catch_up = SecondsSince(c0);
  figures_.Add(Fmt("open: after kill -9 with %" PRId64 " un-snapshotted writes (log replay)", tail),
               OpenText(crash),
               Fmt("%" PRId64 " memories active, %" PRId64 " pending after open; graph "
                   "catch-up %.1f s",
                   after_crash.memories_active, after_crash.vectors_pending, crash_catch_up));
  CloseEngine();

  // No snapshot at all: the index is rebuilt from the vectors table.
  std::error_code ec;
  fs::remove(space_dir + "/vectors.idx", ec);
  Progress(Fmt("n=%" PRId64 ": open with vectors.idx deleted (rebuild)", n_));
  MNEMO_ASSIGN_OR_RETURN(OpenTiming rebuild, TimedOpen(data_, &engine_, query));
  // Closing right away interrupts the graph build: does the next open still see every
  // vector?
  const double close_seconds = CloseEngine();
  MNEMO_ASSIGN_OR_RETURN(engine_, Engine::Open(data_, EngineOptions(Durability::kFull)));
  MNEMO_ASSIGN_OR_RETURN(SpaceStats st, engine_->Stats("solo"));
  const int64_t reachable = st.vectors_indexed + st.vectors_pending;
  figures_.Add(
      "open: with vectors.idx deleted (rebuild from the vectors table)", OpenText(rebuild),
      Fmt("closed again after %.2f s; reopened: %" PRId64 " of %" PRId64 " vectors reachable (%s)",
          close_seconds, reachable, st.memories_active,
          reachable >= st.memories_active ? "consistent" : "VECTORS LOST"));
  return Status::Ok();
}

// ---- spaces ------------------------------------------------------------------------

Status RunSpaces(const Flags& flags) {
  Table table("spaces");
  const std::string data = flags.dir + "/spaces-run";
  std::error_code ec;
  fs::remove_all(data, ec);
  MNEMO_ASSIGN_OR_RETURN(auto engine, Engine::Open(data, EngineOptions(Durability::kFull)));
  ConversationOptions co;
  co.seed = flags.seed + 5;
  ConversationGenerator gen(co);
  std::vector<double> per_space;
  const auto t0 = SteadyClock::now();
  auto name = [](int64_t i) { return Fmt("s%06" PRId64, i); };
  Progress(
      Fmt("spaces: creating %" PRId64 " spaces of %d memories", flags.spaces, flags.per_space));
  for (int64_t s = 0; s < flags.spaces; ++s) {
    std::vector<Message> msgs;
    for (int i = 0; i < flags.per_space; ++i) msgs.push_back(ToMessage(gen.Next()));
    const auto s0 = SteadyClock::now();
    MNEMO_RETURN_IF_ERROR(engine->CreateSpace(name(s)));
    auto r = engine->Ingest(name(s), "user0", msgs);
    if (!r.ok()) return r.status();
    per_space.push_back(SecondsSince(s0));
    if ((s + 1) % 1000 == 0) Progress(Fmt("  %" PRId64 " spaces", s + 1));
  }
  const double create_wall = SecondsSince(t0);
  MNEMO_RETURN_IF_ERROR(engine->WaitForIndexing());
  const Latency create = Summarize(per_space, create_wall);
  table.Row(
      Fmt("spaces: CreateSpace + Ingest(%d) each, kFull, %" PRId64 " spaces", flags.per_space,
          flags.spaces),
      Fmt("%s spaces/s = %s memories/s; per space %s", Rate(create.per_second()).c_str(),
          Rate(create.per_second() * flags.per_space).c_str(), LatencyText(create, false).c_str()));

  QueryGenerator qgen(flags.seed + 9, nullptr);  // drawn from the vocabulary alone
  std::vector<std::string> qtexts;
  for (int i = 0; i < flags.queries; ++i) qtexts.push_back(qgen.Next().text);

  auto run = [&](int threads, bool hot) -> Result<Latency> {
    std::vector<std::vector<double>> samples(static_cast<size_t>(threads));
    std::atomic<bool> stop{false};
    std::mutex mu;
    Status err;
    const auto s0 = SteadyClock::now();
    auto worker = [&](int t) {
      Rng rng(flags.seed + 100 + static_cast<uint64_t>(t) + (hot ? 1000 : 0));
      for (size_t i = static_cast<size_t>(t); i < qtexts.size() && !stop;
           i += static_cast<size_t>(threads)) {
        // Hot: 32 spaces, always in the LRU. Cold: uniform over all spaces.
        const int64_t s =
            hot ? static_cast<int64_t>(rng.Uniform(32))
                : static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(flags.spaces)));
        SearchRequest req;
        req.query = qtexts[i];
        req.filter.user_id = "user0";
        req.k = kK;
        const auto q0 = SteadyClock::now();
        auto r = engine->Search(name(s), req);
        samples[static_cast<size_t>(t)].push_back(SecondsSince(q0));
        if (!r.ok()) {
          std::lock_guard<std::mutex> l(mu);
          err = r.status();
          stop = true;
        }
        if (SecondsSince(s0) > flags.search_seconds) stop = true;
      }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
    if (!err.ok()) return err;
    std::vector<double> all;
    for (auto& v : samples) all.insert(all.end(), v.begin(), v.end());
    return Summarize(std::move(all), SecondsSince(s0));
  };
  // Warm the 32 hot spaces.
  for (int i = 0; i < 32; ++i) {
    SearchRequest req;
    req.query = "garden";
    req.filter.user_id = "user0";
    MNEMO_RETURN_IF_ERROR(engine->Search(name(i), req).status());
  }
  for (int t : flags.threads) {
    MNEMO_ASSIGN_OR_RETURN(Latency hot, run(t, true));
    MNEMO_ASSIGN_OR_RETURN(Latency cold, run(t, false));
    table.Row(
        Fmt("spaces: search k=10, uniform random space of %" PRId64 " (LRU of 64), %d thread(s)",
            flags.spaces, t),
        LatencyText(cold), "same 32 spaces (always open): " + LatencyText(hot));
  }
  engine.reset();
  const int64_t disk = DirBytes(data + "/spaces");
  table.Row("spaces: disk after close",
            Fmt("%s total, %.0f KB per space, %.0f B per memory", Mb(disk).c_str(),
                static_cast<double>(disk) / static_cast<double>(flags.spaces) / 1e3,
                static_cast<double>(disk) / static_cast<double>(flags.spaces * flags.per_space)));
  if (!flags.keep) fs::remove_all(data, ec);
  return Status::Ok();
}

std::string ScaleName(int64_t n) {
  if (n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

int Main(int argc, char** argv) {
  Flags flags;
  Status s = ParseFlags(argc, argv, &flags);
  if (!s.ok()) {
    std::fprintf(stderr, "mnemo_bench: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("| n | figure | measured | baseline (same run, same data) |\n|---|---|---|---|\n");
  const bool scale_work = flags.workloads.count("ingest") || flags.workloads.count("add") ||
                          flags.workloads.count("search") || flags.workloads.count("open") ||
                          flags.workloads.count("size") || flags.workloads.count("lifecycle") ||
                          flags.workloads.count("peer");
  if (scale_work) {
    for (int64_t n : flags.ns) {
      ScaleRun run(flags, n);
      const auto t0 = SteadyClock::now();
      const CpuSample c0 = ReadCpu();
      s = run.Run();
      const CpuSample c1 = ReadCpu();
      Table table(ScaleName(n));
      for (const auto& [figure, values] : run.figures().rows) {
        table.Row(figure, values.first, values.second);
      }
      table.Row("machine: CPU use during this scale's run", CpuShare(c0, c1),
                Fmt("wall %.0f s", SecondsSince(t0)));
      Progress(Fmt("n=%" PRId64 " done in %.0f s", n, SecondsSince(t0)));
      if (!s.ok()) {
        std::fprintf(stderr, "mnemo_bench: n=%" PRId64 ": %s\n", n, s.ToString().c_str());
        return 3;
      }
    }
  }
  if (flags.workloads.count("spaces")) {
    const auto t0 = SteadyClock::now();
    const CpuSample c0 = ReadCpu();
    s = RunSpaces(flags);
    Table("spaces").Row("machine: CPU use during the spaces run", CpuShare(c0, ReadCpu()),
                        Fmt("wall %.0f s", SecondsSince(t0)));
    Progress(Fmt("spaces done in %.0f s", SecondsSince(t0)));
    if (!s.ok()) {
      std::fprintf(stderr, "mnemo_bench: spaces: %s\n", s.ToString().c_str());
      return 3;
    }
  }
  return 0;
}

}  // namespace
}  // namespace mnemo::bench

int main(int argc, char** argv) { return mnemo::bench::Main(argc, argv); }
