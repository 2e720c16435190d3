// Internal to src/write: the first-person patterns of ExtractFromTurn (preferences,
// profile facts, habits and procedures) and the rewriting of a first-person sentence into
// the third person.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "write/derived.h"
#include "write/rule_text.h"

namespace mnemo::write::internal {

// Who spoke: "Caroline" / "caroline", or "The user" / "user".
struct Names {
  std::string display;
  std::string subject;
};

// One sentence of a turn, split into words.
struct Clause {
  std::string_view sentence;
  std::vector<Word> words;
  const Names* names = nullptr;
};

// Appends the preference, profile and procedure candidates of `clause`, with kind, text,
// slot, value, polarity and confidence set; the caller fills subject, entities, key
// phrases and sources.
void MatchPatterns(const Clause& clause, std::vector<Candidate>* out);

// sentence[ws[from].begin, end) with "I", "me", "my", "I'm", "I've"... replaced by the
// speaker's name and the verb after "I" put in the third person: "I love my dog" ->
// "Caroline loves Caroline's dog".
std::string ToThirdPerson(std::string_view sentence, const std::vector<Word>& ws, size_t from,
                          size_t end, const Names& names);

// Lower-case words joined by single spaces, without leading articles and determiners or
// trailing fillers ("so much", "a lot"): the normalised form of a slot value.
std::string NormaliseValue(std::string_view phrase);

}  // namespace mnemo::write::internal
