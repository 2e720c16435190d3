// Pieces shared by the benchmark adapters (locomo.h, longmemeval.h): parse options,
// load statistics, the benchmarks' date formats and small JSON accessors.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/memory.h"
#include "mnemo/status.h"
#include "util/json_codec.h"

namespace mnemo::eval {

struct ParseOptions {
  // A malformed record fails the whole file by default: a silently shrunken benchmark
  // would produce numbers that look comparable but are not. With skip_bad the record is
  // skipped, counted and described in LoadStats::problems.
  bool skip_bad = false;
};

struct LoadStats {
  int64_t skipped_records = 0;   // malformed records skipped under skip_bad
  int64_t dropped_evidence = 0;  // LoCoMo evidence entries that are not D<n>:<m>
  int64_t empty_turns = 0;       // turns without any text: nothing to store
  // LongMemEval haystack sessions whose id repeats one of the same record (taken by
  // position, as the official protocol does; see eval/longmemeval.h)
  int64_t repeated_sessions = 0;
  std::vector<std::string> problems;  // one line per skipped record, naming its position
};

// LoCoMo session time, "1:56 pm on 8 May, 2023" (no zone given; read as UTC).
Result<TimeMs> ParseLocomoDateTime(std::string_view text);
// LongMemEval haystack/question date, "2023/05/20 (Sat) 02:21" (read as UTC; the
// weekday is not checked).
Result<TimeMs> ParseLongMemEvalDate(std::string_view text);

namespace internal {

// The value of `key` in `obj`, or nullptr when it is absent.
const util::Json* Find(const util::Json& obj, std::string_view key);
// A string as itself, a number as its JSON text (2022, 3.5); nullopt for anything else.
std::optional<std::string> ScalarText(const util::Json& v);
// `Status::InvalidArgument(where + ": " + what)`.
Status At(const std::string& where, const std::string& what);
// Records a malformed record: returns `bad` unless skipping, in which case it is counted
// and OK is returned so that the caller moves on to the next record.
Status SkipOrFail(const Status& bad, const ParseOptions& options, LoadStats* stats);

}  // namespace internal
}  // namespace mnemo::eval
