// Deterministic synthetic chat data for benchmarks: conversations (users, sessions of
// 10-30 turns, event times) and queries drawn from the same distribution.
//
// Why synthetic: scale benchmarks need millions of turns with the statistics that drive
// the engine's costs (a Zipf-like term distribution, so that FTS5 posting lists have
// realistic lengths; names, places, dates and numbers; a long tail of rare words), and
// they must be reproducible bit for bit on any machine. Everything here derives from
// one seed through our own PRNG (std:: distributions differ between standard libraries).
//
// Thread safety: generators are single-threaded objects; the shared Vocabulary is
// immutable after construction and safe to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mnemo::bench {

// splitmix64: one 64-bit state word, every seed is a good seed, and each output is a
// full avalanche of the state, which is all a workload generator needs.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n); n > 0. Plain modulo: for the n used here (at most millions) its
  // bias is below 2^-40.
  uint64_t Uniform(uint64_t n);
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi);
  double UnitDouble();  // [0, 1)
  bool Chance(double p) { return UnitDouble() < p; }

 private:
  uint64_t state_;
};

// Ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^exponent.
class ZipfSampler {
 public:
  ZipfSampler(size_t n, double exponent);
  size_t Sample(Rng& rng) const;

 private:
  std::vector<double> cdf_;
};

// The words of the synthetic language, most frequent first: English function words,
// then common English content words, then made-up words for the long tail.
class Vocabulary {
 public:
  // Built once (from a fixed seed) and shared.
  static const Vocabulary& Get();

  size_t size() const { return words_.size(); }
  const std::string& word(size_t rank) const { return words_[rank]; }
  // Rank of `word`, or -1 when it is not a vocabulary word (a name, place, number or
  // rare token).
  int64_t RankOf(std::string_view word) const;
  // A person's, place's, month's or weekday's name, lower-cased ("lisbon").
  bool IsProperName(std::string_view lowercase_word) const;
  // A fixed word of a sentence template ("named", "cost"), as common as a function word.
  bool IsTemplateGlue(std::string_view lowercase_word) const;
  bool IsFunctionWord(size_t rank) const { return rank < function_words_; }
  // Zipf sample over the whole vocabulary (exponent 1.0).
  size_t SampleRank(Rng& rng) const { return zipf_.Sample(rng); }
  // Zipf sample over content words only.
  size_t SampleContentRank(Rng& rng) const { return function_words_ + content_zipf_.Sample(rng); }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<std::string>& places() const { return places_; }
  const std::vector<std::string>& nouns() const { return nouns_; }
  const std::vector<std::string>& verbs_past() const { return verbs_past_; }
  const std::vector<std::string>& adjectives() const { return adjectives_; }

 private:
  Vocabulary();
  std::vector<std::string> words_;
  size_t function_words_ = 0;
  std::unordered_map<std::string, size_t> rank_of_;
  ZipfSampler zipf_;
  ZipfSampler content_zipf_;
  std::vector<std::string> names_, places_, nouns_, verbs_past_, adjectives_;
  std::unordered_set<std::string> proper_;
  std::unordered_set<std::string> glue_;
};

// A made-up word of 2-4 syllables, e.g. "velomira": used for rare tokens (pet names,
// products, street names) that occur in very few turns.
std::string RareToken(Rng& rng);

struct Turn {
  std::string user;     // "user0", "user1", ...
  std::string session;  // "user3-s17": unique per user
  std::string role;     // "user" or "assistant"
  std::string speaker;  // the user's persona name, or "Assistant"
  std::string text;
  int64_t time_ms = 0;  // event time, Unix epoch milliseconds
};

struct ConversationOptions {
  uint64_t seed = 42;
  int users = 1;  // each session belongs to one user; users take turns in random order
  int64_t start_time_ms = 1672531200000;  // 2023-01-01T00:00:00Z
  int min_session_turns = 10;
  int max_session_turns = 30;
};

// An endless stream of turns, session after session.
class ConversationGenerator {
 public:
  explicit ConversationGenerator(const ConversationOptions& options);
  Turn Next();

 private:
  void StartSession();
  std::string Sentence();
  std::string TurnText();

  ConversationOptions options_;
  const Vocabulary& vocab_;
  Rng rng_;
  std::vector<int64_t> user_time_;      // last event time per user
  std::vector<int64_t> user_sessions_;  // sessions started per user
  std::vector<std::string> personas_;   // persona name per user
  std::vector<int> round_;              // users still to start a session in this round
  int current_user_ = 0;
  std::string session_;
  int turns_left_ = 0;
  int turn_in_session_ = 0;
};

struct Query {
  std::string text;
  // Index (into the corpus the generator was given) of the turn the query was drawn
  // from, or -1 for a query drawn from the word distribution alone.
  int64_t source = -1;
  // Contains a rare made-up token (a pet's or product's name) that occurs in the data.
  bool has_rare_word = false;
};

// Queries from the same distribution as the conversations: about half paraphrase a
// stored turn (two to four of its content words, its rarest first, so many contain a
// rare word that exists in the data), the rest are questions or keyword lists drawn from
// the Zipf distribution.
class QueryGenerator {
 public:
  // `corpus` (may be null: queries from the vocabulary alone) must outlive the generator.
  QueryGenerator(uint64_t seed, const std::vector<std::string>* corpus);
  Query Next();

 private:
  const Vocabulary& vocab_;
  Rng rng_;
  const std::vector<std::string>* corpus_;
};

}  // namespace mnemo::bench
