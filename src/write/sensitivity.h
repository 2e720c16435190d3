// Sensitivity labels found in a memory's text at write (docs/security.md, "Sensitivity
// labels"): the categories that data-protection law treats as special, so that a key or
// a request can keep them out.
//
// Rules, by label:
//   - health: conditions, treatments and care ("diagnosed", "allergic", "asthma",
//     "therapist", "medication", "pregnant", "hospital", ...);
//   - sexuality: sexual orientation and sex life ("gay", "bisexual", "transgender",
//     "came out", "sex life", ...);
//   - religion: faiths, their places and practice ("muslim", "church", "pray", "kosher");
//   - politics: parties, votes, activism ("voted for", "republican", "labour", "protest");
//   - ethnicity: "ethnicity", "hispanic", "indigenous", "my heritage", "racial", ...;
//   - finance: income, debts, accounts ("salary", "mortgage", "credit score", "iban");
//   - location: a precise location, a street address ("12 Elm Street", "rue des Lilas 4")
//     or coordinates ("48.8584, 2.2945"), not a city;
//   - identity: identity numbers (a US social security number's shape, "passport
//     number", "driver's license", "national insurance", "tax id");
//   - credentials: set by the caller when write/secrets.h found any.
// Words match whole and lower-cased; a rule never matches inside another word.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "mnemo/memory.h"

namespace mnemo::write {

// The labels the rules find in `text` (credentials aside).
LabelSet FindLabels(std::string_view text);

}  // namespace mnemo::write
