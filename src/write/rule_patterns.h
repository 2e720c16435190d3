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

// A candidate with the fields a pattern decides; the caller of MatchPatterns fills subject,
// entities, key phrases and sources.
Candidate MakeCandidate(Kind kind, std::string text, std::string slot, std::string value,
                        int polarity, double confidence);
// "Caroline's birthday is on June 12": a `key` ("birthday", "anniversary") of `day`
// ("june 12", as MonthDay gives it).
Candidate DateFact(const std::string& name, const std::string& key, const std::string& day,
                   double confidence);

// Word helpers of the patterns (rule_patterns.cc), shared with life_patterns.cc.
bool IsNumber(std::string_view w);  // 1-3 digits
// Allergens: "penicillin and amoxicillin" -> both; a value whose parts are not single
// words stays whole ("tree nuts and shellfish" is a list the rules cannot cut safely).
std::vector<std::string> SplitAnd(const std::string& value);
// The word at k continues the clause (only spaces before it) and is `w`.
bool At(const std::vector<Word>& ws, size_t k, std::string_view w);
// The text of words first..last (inclusive) as written.
std::string Original(std::string_view s, const std::vector<Word>& ws, size_t first, size_t last);
std::string Conjugate(std::string_view verb);  // third person singular: "love" -> "loves"
bool IsPastOrModal(std::string_view w);
// True when a hedge ("if", "wish", "hope") precedes word k in its clause, or when k starts
// an embedded clause ("what I like to hear").
bool Hedged(const std::vector<Word>& ws, size_t k);

// Adverbs and negations after a subject: "really", "don't", "no longer", "never".
struct Modifiers {
  size_t next = 0;       // the first word after them
  std::string negation;  // "don't", "no longer", "never", "not" or ""
  std::string adverbs;   // the kept adverbs, original wording, with a trailing space
  bool always = false;   // "always" or "never" seen (habits)
};
Modifiers ReadModifiers(std::string_view s, const std::vector<Word>& ws, size_t k);

struct Phrase {
  size_t first = 0;
  size_t last = 0;       // inclusive
  size_t head_last = 0;  // the head ends here (before a preposition)
  bool ok = false;
};
// The object phrase starting at word j: up to the end of the clause, at most `max` words.
Phrase ObjectAt(const std::vector<Word>& ws, size_t j, size_t max = 12);
// True if the object is about the listener, someone else's, a bare pronoun or no noun
// phrase at all.
bool BadObject(const std::vector<Word>& ws, const Phrase& p);
// The normalised head of an object, "" when it has no content word.
std::string HeadValue(std::string_view s, const std::vector<Word>& ws, const Phrase& p);
// A capitalised name after "to"/"in"/"from"/"at": "Boston", "the UK", "New York City".
Phrase PlaceAt(const std::vector<Word>& ws, size_t j);

// Relationships, pets, birthdays and anniversaries, jobs taken and left, corrections
// (life_patterns.cc); same contract as MatchPatterns. `clause_first` is the index in *out
// of the clause's first candidate (those of the other patterns come first).
void MatchLifeEvents(const Clause& clause, std::vector<Candidate>* out, size_t clause_first);
// The relation a word names, normalised ("hubby" -> "husband", "mom" -> "mother"), or "".
std::string_view RelationOf(std::string_view lowercase_word);
// The species a word names ("puppy" -> "dog"), or "".
std::string_view SpeciesOf(std::string_view lowercase_word);
// "june 12" from words naming a month and a day ("June 12th", "the 12th of June"), or "".
std::string MonthDay(const std::vector<Word>& ws, size_t first, size_t last);

// A short reply to the assistant's `question` about the user ("Where do you live?" -
// "Gothenburg.", "Do you like jazz?" - "Nope"): the slot the question asked for
// (answer_patterns.cc); same contract as MatchPatterns.
void MatchAnswer(std::string_view question, const Clause& reply, std::vector<Candidate>* out);

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
