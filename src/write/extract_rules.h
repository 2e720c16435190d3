// Model-free extraction: sentences, first-person preferences and profile facts, entities,
// key phrases, and relative time expressions resolved against the message time.
//
// Deterministic and fast (microseconds per turn); no I/O.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "write/derived.h"

namespace mnemo::write {

// Splits text into sentences (".", "!", "?", newlines; abbreviations such as "Dr." and
// "e.g.", decimals and initials do not split). Returns trimmed, non-empty sentences.
std::vector<std::string> SplitSentences(std::string_view text);

// A time expression found in text and the absolute period it denotes.
struct TimeMention {
  size_t begin = 0;  // byte offsets of the wording in the text
  size_t end = 0;
  std::string text;  // the original wording ("last Friday", "two weeks ago")
  TimeMs start = 0;  // the period it names, [start, end_time), UTC
  TimeMs end_time = 0;
};

// Relative and absolute time expressions ("yesterday", "last Friday", "two weeks ago",
// "next month", "this weekend", "in May 2023", "on 3 June") resolved against
// `reference` (the message time, UTC).
std::vector<TimeMention> ResolveTimes(std::string_view text, TimeMs reference);

// Proper names and other entities (capitalised word runs that do not start a sentence,
// known patterns), in order of appearance, deduplicated.
std::vector<std::string> ExtractEntities(std::string_view text);
// Up to `max` key phrases (content-word runs ranked by informativeness), lower-cased.
std::vector<std::string> ExtractKeyphrases(std::string_view text, size_t max = 5);

// Everything the rules derive from one turn: preferences ("I love / hate / prefer X",
// "my favourite X is Y"), profile facts ("I am allergic to X", "my X is Y", "I moved to
// X", "I live in X", "I work as X", "I'm N years old", "my name is X") and dated events
// (a sentence with a resolved time expression). The subject is the turn's speaker (or
// "user" when it has none); texts name it ("Caroline loves hiking").
std::vector<Candidate> ExtractFromTurn(const Turn& turn);

// The profile slot of a statement about a user in the third person, as an agent saves
// one ("Maya is allergic to peanuts", "The user prefers dark mode", "sam's favorite color
// is blue"): its subject (the user id, the speaker, "the user", or a name that starts it)
// is put in the first person and the text read as ExtractFromTurn reads a turn. The first
// candidate with a slot (value normalised), or none.
std::optional<Candidate> SlotOfStatement(std::string_view text, std::string_view user,
                                         std::string_view speaker);

}  // namespace mnemo::write
