// The phrase patterns of write/injection.h's detector, by family (internal to
// src/write). Each pattern is a sequence of slots within one sentence: a slot lists
// alternatives separated by '|', an alternative is one or more words (a trailing '*'
// matches any word with that prefix, a lone "*" any word), and `gap` is how many words
// may come between the previous slot's match and this one's.
//
// Thread safety: the table is built once, then only read.
#pragma once

#include <string_view>
#include <vector>

namespace mnemo::write {

struct Slot {
  std::string_view alts;
  int gap = 0;
};

struct Pattern {
  std::string_view family;
  int weight;  // 2: enough alone; 1: needs another pattern
  std::vector<Slot> slots;
  // Every slot somewhere in one sentence, in any order (gaps ignored).
  bool any_order = false;
};

// The patterns; a finding is quarantined when the weights of the distinct patterns (and
// the detector's other checks) that match add up to 2.
const std::vector<Pattern>& InjectionPatterns();

}  // namespace mnemo::write
