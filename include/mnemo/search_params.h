// mnemo/search_params.h — the tuning parameters of a search, each described once.
//
// Every face reads this table instead of repeating it: the JSON codec (HTTP, the Python
// package) parses these keys, the CLI's `search` and `mnemo eval`'s flags are made from
// it, the OpenAPI document is checked against it, and the engine validates a request
// with CheckSearchParams. A new query signal adds its weight here (and to
// SearchRequest) and nowhere else. Defaults are SearchRequest's own initialisers.
//
// Thread safety: immutable data and pure functions.
#pragma once

#include <span>
#include <string>

#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo {

struct SearchParam {
  const char* name;  // the JSON key; the CLI flag is "--" + name with '_' written '-'
  // The field it sets: a real number or an integer (exactly one is set).
  double SearchRequest::*number = nullptr;
  int SearchRequest::*integer = nullptr;
  double min = 0;  // inclusive bounds
  double max = 0;
  const char* help = "";

  double Default() const;  // SearchRequest{}'s value
  double Get(const SearchRequest& r) const;
  void Set(SearchRequest* r, double v) const;  // no range check
  std::string Flag() const;                    // "--context-weight"
};

std::span<const SearchParam> SearchParams();
const SearchParam* FindSearchParam(std::string_view name);

// kInvalidArgument naming the first parameter of `r` that is not finite or out of its
// range ("context_weight must be between 0 and 1000, got -1"), else OK. Also checks that
// a signal is on (lexical_weight or vector_weight > 0).
Status CheckSearchParams(const SearchRequest& r);

}  // namespace mnemo
