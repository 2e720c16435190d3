// The vocabulary of the write pipeline (episode -> extract -> consolidate -> link):
// what an extractor proposes and what consolidation decides about it.
//
// Thread safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mnemo/memory.h"

namespace mnemo::write {

// One stored episode handed to an extractor.
struct Turn {
  MemoryId id = 0;
  std::string session;
  std::string role;
  std::string speaker;  // may be ""; then the user id (role "user") or the role names who spoke
  std::string text;
  std::optional<TimeMs> time;  // when it was said (reference for "yesterday")
  std::string user;            // the user the conversation belongs to ("" when unknown)
  // The assistant's question this turn answers (the session's previous turn, when the
  // assistant asked one): "Where do you live?" gives "Gothenburg." its meaning.
  std::string asked;
};

// A memory an extractor proposes to derive from one or more turns.
struct Candidate {
  Kind kind = Kind::kFact;  // kFact, kPreference or kProcedure
  // A self-contained statement in the third person where possible, naming its subject:
  // "Caroline is allergic to peanuts", "Melanie went camping on 2023-05-06 (\"last Friday\")".
  std::string text;
  std::string subject;  // who or what it is about ("Caroline", "user"), lower-cased
  // Slot: a normalised attribute key for contradiction detection, "" when the statement
  // is not an attribute. Two candidates with the same subject and slot and a different
  // value (or polarity) contradict each other: the newer supersedes the older.
  //   "home_city", "job", "name", "allergy:peanuts", "likes:sushi", "favorite:color" ...
  std::string slot;
  std::string value;  // normalised value in the slot ("boston"), "" when none
  int polarity = 1;   // +1 asserts, -1 negates ("I love X" +1, "I hate X" -1 on likes:x)
  std::optional<TimeMs> event_time;   // resolved absolute time of what it describes
  std::string time_text;              // the original wording of that time ("last Friday")
  std::vector<std::string> entities;  // proper names, places, things (original case)
  std::vector<std::string> keyphrases;
  double confidence = 0.5;        // 0..1; rules are conservative
  std::vector<MemoryId> sources;  // the turns it came from (at least one)
  // A correction ("Scratch that, I meant Porto, not Lisbon"): `corrects` is the wording
  // taken back ("Lisbon", or "" when only the meant one is said: "I meant Intertech"),
  // `correction` the one meant ("Porto", or "" when something is only taken back: "I left
  // Tilde"); the slot is unknown until ResolveCorrection finds the user's memory that
  // holds the old value.
  std::string corrects;
  std::string correction;
};

// Attributes whose value is yes or no: the thing is in the slot ("likes:cilantro",
// "allergy:peanuts", "eats:meat", "drinks:alcohol"), the value says which way.
bool IsYesNoSlot(std::string_view slot);
// Gives a yes/no slot the value of its polarity ("I hate cilantro": likes:cilantro = no,
// polarity -1), also when a model wrote "yes"/"no"/"true"/"false" or nothing; other slots
// are left as they are. Every extractor's candidates pass through it.
void NormaliseSlotValue(Candidate* candidate);

// True for a yes/no attribute at its default, which a profile does not list: not allergic
// (allergy:x = no), not abstaining (eats:x = yes, drinks:x = yes).
bool IsDefaultValue(std::string_view slot, std::string_view value);

// A slot memory the user already has (for ResolveCorrection), newest first.
struct SlotValue {
  std::string slot;
  std::string value;
  std::string text;
  Kind kind = Kind::kFact;
};

// Turns a correction candidate into what it means, given the user's slot memories:
//  - a value slot holding the old wording ("home_city" = "lisbon"): the same slot with the
//    new value, its text the old memory's with the wording replaced ("Sam moved to Porto");
//  - a yes/no slot about the old thing ("allergy:peanuts"): that slot negated, and the
//    same attribute of the new thing ("allergy:walnuts" = yes).
// With no new wording (`correction` empty: "I left Tilde") the slot is negated only. With
// no old wording (`corrects` empty: "Oops, I meant Intertech") the newest value slot whose
// value is close to the new one (a typo away, or sharing a word: "senior engineer" ->
// "staff engineer") takes it.
// Returns nothing when no memory holds the old wording (there is nothing to correct).
std::vector<Candidate> ResolveCorrection(const Candidate& correction,
                                         const std::vector<SlotValue>& known);

// What consolidation decides for one candidate against what the user already has.
enum class Decision {
  kAdd,        // new information: store it
  kSupersede,  // contradicts `target`: store it, close target's validity, link supersedes
  kMerge,      // same information as `target`, worded better or with more: update target
  kNoop,       // already known (target): store nothing, record the new sources on target
};
std::string_view DecisionName(Decision d);  // "add", "supersede", "merge", "noop"

}  // namespace mnemo::write
