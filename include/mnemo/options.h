// mnemo/options.h — how an Engine is opened. Every field documents its default.
//
// Thread safety: plain values, no internal synchronization.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mnemo/chat_model.h"
#include "mnemo/embedder.h"
#include "mnemo/memory.h"

namespace mnemo {

// Source of time. Tests substitute a fake clock so that time-dependent behaviour is
// deterministic. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs NowMillis() const = 0;
};

// The wall clock (std::chrono::system_clock).
std::shared_ptr<Clock> SystemClock();

enum class LogLevel { kDebug, kInfo, kWarning, kError };
using Logger = std::function<void(LogLevel, std::string_view message)>;

enum class Durability {
  kFull,    // every acknowledged write is fsynced (SQLite synchronous=FULL): survives power loss
  kNormal,  // survives a process crash; the last writes may roll back on power loss
};

// The background pipeline that derives facts, preferences and procedures from episodes
// (docs/pipeline.md). Every default is what `mnemo config show` prints.
struct PipelineOptions {
  // Derive memories from new episodes. Default true.
  bool enabled = true;
  // Use Options::chat_model when one is set; false keeps the rules even with a model.
  bool use_model = true;
  // A model call covers up to this many turns of one session (the session window).
  // Default 40: with LoCoMo's turn lengths, 0.025 calls and ~150 prompt tokens per turn.
  int window_turns = 40;
  // A partial window waits this long for more turns of its session before it is sent
  // anyway (model only; rules run at once). Default 30 s.
  int64_t window_wait_ms = 30000;
  // A failing job is retried with exponential backoff (with jitter) from
  // retry_initial_ms up to retry_max_ms; after max_attempts it is dead (dead letter,
  // with the reason) until `mnemo jobs retry`. Defaults 5, 2 s, 10 min.
  int max_attempts = 5;
  int64_t retry_initial_ms = 2000;
  int64_t retry_max_ms = 600000;
  // Prompt + completion tokens a space may spend per UTC day; when spent, model jobs
  // wait for the next day (episodes stay stored and searchable). 0: no limit. Default 2M.
  int64_t daily_token_budget = 2000000;
  // A new derived memory is linked ("related", weight = cosine) to at most link_k of the
  // user's derived memories with similarity >= link_min_similarity. Defaults 3, 0.5.
  int link_k = 3;
  double link_min_similarity = 0.5;
};

struct Options {
  // Create the data directory if it does not exist. Default false: opening a directory
  // that was never initialised is an error that says how to initialise it.
  bool create_if_missing = false;

  // Default kFull. See Durability.
  Durability durability = Durability::kFull;

  // The embedder for new spaces and queries. Default (nullptr): the builtin embedder.
  // A space remembers the embedder id its vectors came from; opening it with another
  // embedder starts a background re-embed (see reembed_on_embedder_change).
  std::shared_ptr<const Embedder> embedder;

  // Opening a space whose vectors come from another embedder than `embedder` re-embeds
  // it in the background (reembed jobs; searches keep using the old vectors, or lexical
  // search alone when the old embedder cannot be built here, until every memory has its
  // new vector, then switch at once). false: such a space is refused with an error naming
  // both embedders. Default true (config key embedding.reembed).
  bool reembed_on_embedder_change = true;

  // Time source. Default (nullptr): SystemClock().
  std::shared_ptr<Clock> clock;

  // Receives warnings such as "index snapshot corrupt, rebuilt from SQLite". Default
  // (empty): warnings and errors go to stderr.
  Logger logger;

  // Limits. Requests beyond them are rejected with kTooLarge / kInvalidArgument.
  size_t max_text_bytes = 64 * 1024;      // per memory text; default 64 KiB
  size_t max_metadata_bytes = 16 * 1024;  // per metadata object; default 16 KiB
  size_t max_batch = 10000;               // memories per add_batch / ingest call
  int max_list_limit = 1000;              // page size of list
  int max_k = 1000;                       // results of one search

  // A search whose scope (after filters on user) holds at most this many memories
  // scores their vectors exactly; larger scopes go through the HNSW graph with an
  // over-fetch. Exact is both cheaper and exact at this size. Default 20,000.
  size_t exact_scan_limit = 20000;

  // Spaces kept open at once; the least recently used beyond this are closed (their
  // vector index is snapshotted first). Default 64.
  size_t max_open_spaces = 64;

  // A vector index snapshot is written after this many index changes since the last
  // one (and when the space closes). Default 50,000.
  size_t snapshot_every = 50000;

  // The chat model of the pipeline. Default (nullptr): none; the pipeline uses rules.
  std::shared_ptr<const ChatModel> chat_model;
  PipelineOptions pipeline;
  // Run the open spaces' ready pipeline jobs on a background thread. Default true. false
  // leaves them queued until Engine::RunJobs: short-lived processes (the CLI's one-shot
  // commands) and tests that want every job run at a point they choose.
  bool background_jobs = true;
  // Per-space overrides of `pipeline`, by space name.
  std::map<std::string, PipelineOptions> space_pipeline;
};

}  // namespace mnemo
