// Sensitivity labels found at write (write/sensitivity.h).
#include "write/sensitivity.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mnemo::write {
namespace {

std::vector<std::string> Names(std::string_view text) { return LabelNames(FindLabels(text)); }

TEST(SensitivityTest, FindsEachLabel) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"I was diagnosed with asthma last spring", {"health"}},
      {"Maya is allergic to peanuts", {"health"}},
      {"My sister came out as bisexual", {"sexuality"}},
      {"We go to the mosque on Fridays", {"religion"}},
      {"I voted for the Green Party", {"politics"}},
      {"Her family is of Hispanic heritage", {"ethnicity"}},
      {"My salary went up and the mortgage is paid", {"finance"}},
      {"Send it to 221b Baker Street please", {"location"}},
      {"we met at 48.8584, 2.2945 by the tower", {"location"}},
      {"my SSN is 123-45-6789", {"identity"}},
      {"His passport number starts with X", {"identity"}},
      {"I'm Jewish and my therapist is great", {"health", "religion"}},
  };
  for (const auto& [text, labels] : cases) EXPECT_EQ(Names(text), labels) << text;
}

TEST(SensitivityTest, LeavesOrdinaryTextAlone) {
  for (const char* text :
       {"Sam moved to Munich in March", "I love hiking and coffee",
        "The meeting is at 3pm in room 12", "We ran a 5k race on Sunday",
        "Version 2.0.1 shipped; build 12.345 passed", "I like trans-atlantic flights",
        "Call me at 555-0100", "She works at 12 Monkeys Studio"}) {
    EXPECT_EQ(FindLabels(text), 0u) << text << ": " << ::testing::PrintToString(Names(text));
  }
}

}  // namespace
}  // namespace mnemo::write
