#include "embed/builtin_embedder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "text/analyzer.h"

namespace mnemo::embed {
namespace {

// Feature weights, relative to a stemmed term. First guesses, to be tuned by measuring
// retrieval recall; changing any of them changes the vectors and so must bump the "v1"
// in the id.
// A stemmed term ("running" -> "run"): the main lexical signal, as in BM25.
constexpr double kTermWeight = 1.0;
// Two consecutive terms, stop words skipped: rewards shared phrases and word order.
constexpr double kBigramWeight = 0.5;
// L2 norm of the block of character 3- and 4-grams of one word ("<ru", "run", "un>", ...).
// It is a norm, not a per-gram weight, so long and short words count alike; the grams let
// "mountian" and "mountain" or "hiking" and "hikers" share part of their vectors.
constexpr double kCharGramBlockNorm = 0.3;

// The bigram separator cannot occur in UTF-8, so ("ab", "c") and ("a", "bc") differ.
constexpr unsigned char kBigramSeparator = 0xFF;

enum class FeatureKind : uint64_t { kTerm = 1, kBigram = 2, kCharGram = 3 };

// FNV-1a 64 seeded by the feature kind, then the splitmix64 finaliser because FNV alone
// leaves the high bits (used for the sign) and short inputs poorly mixed. Written here,
// not taken from std::hash, so vectors are identical on every platform and release.
class FeatureHash {
 public:
  explicit FeatureHash(FeatureKind kind)
      : state_((kFnvOffset ^ static_cast<uint64_t>(kind)) * kFnvPrime) {}

  void Add(std::string_view bytes) {
    for (char c : bytes) AddByte(static_cast<unsigned char>(c));
  }
  void AddByte(unsigned char b) {
    state_ ^= b;
    state_ *= kFnvPrime;
  }
  uint64_t Finish() const {
    uint64_t z = state_ + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  static constexpr uint64_t kFnvOffset = 0xCBF29CE484222325ULL;
  static constexpr uint64_t kFnvPrime = 0x100000001B3ULL;
  uint64_t state_;
};

struct Feature {
  uint64_t hash;
  double weight;
};

uint64_t HashOf(FeatureKind kind, std::string_view bytes) {
  FeatureHash h(kind);
  h.Add(bytes);
  return h.Finish();
}

// Character 3- and 4-grams of "<word>", over code points so that a gram never splits a
// UTF-8 sequence. Words are at most text::kMaxTermBytes, so the boundaries fit on the stack.
void AddCharGrams(std::string_view word, std::vector<Feature>* features) {
  std::array<char, text::kMaxTermBytes + 2> padded;
  padded[0] = '<';
  std::copy(word.begin(), word.end(), padded.begin() + 1);
  padded[word.size() + 1] = '>';
  const std::string_view s(padded.data(), word.size() + 2);

  std::array<uint8_t, text::kMaxTermBytes + 3> starts;  // code point starts, then the end
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
      starts[count++] = static_cast<uint8_t>(i);
  }
  starts[count] = static_cast<uint8_t>(s.size());

  const size_t num_grams = (count - 2) + (count >= 4 ? count - 3 : 0);  // count >= 3
  const double weight = kCharGramBlockNorm / std::sqrt(static_cast<double>(num_grams));
  for (size_t n = 3; n <= 4; ++n) {
    for (size_t first = 0; first + n <= count; ++first) {
      const std::string_view gram = s.substr(starts[first], starts[first + n] - starts[first]);
      features->push_back({HashOf(FeatureKind::kCharGram, gram), weight});
    }
  }
}

class BuiltinEmbedder final : public Embedder {
 public:
  explicit BuiltinEmbedder(int dimension)
      : dimension_(dimension), id_("builtin-v1-" + std::to_string(dimension)) {}

  std::string id() const override { return id_; }
  int dimension() const override { return dimension_; }

  Status Embed(const std::vector<std::string_view>& texts,
               std::vector<std::vector<float>>* out) const override {
    if (out == nullptr) return Status::InvalidArgument("Embed: null output");
    out->resize(texts.size());
    std::vector<Feature> features;
    for (size_t i = 0; i < texts.size(); ++i) {
      Extract(texts[i], &features);
      Project(&features, &(*out)[i]);
    }
    return Status::Ok();
  }

 private:
  static void Extract(std::string_view text, std::vector<Feature>* features) {
    features->clear();
    std::string previous_term;
    bool has_previous = false;
    text::ForEachWordTerm(text, [&](std::string_view word, std::string_view term, size_t, size_t) {
      features->push_back({HashOf(FeatureKind::kTerm, term), kTermWeight});
      if (has_previous) {
        FeatureHash bigram(FeatureKind::kBigram);
        bigram.Add(previous_term);
        bigram.AddByte(kBigramSeparator);
        bigram.Add(term);
        features->push_back({bigram.Finish(), kBigramWeight});
      }
      previous_term.assign(term);
      has_previous = true;
      AddCharGrams(word, features);
    });
  }

  // Sublinear TF per feature, signed hashing into the dimensions, then L2 normalisation.
  // A stable sort and double sums keep the result independent of the sort implementation.
  void Project(std::vector<Feature>* features, std::vector<float>* out) const {
    std::stable_sort(features->begin(), features->end(),
                     [](const Feature& a, const Feature& b) { return a.hash < b.hash; });
    std::vector<double> acc(static_cast<size_t>(dimension_), 0.0);
    for (size_t i = 0; i < features->size();) {
      const uint64_t hash = (*features)[i].hash;
      double sum = 0.0;
      size_t count = 0;
      for (; i < features->size() && (*features)[i].hash == hash; ++i, ++count) {
        sum += (*features)[i].weight;
      }
      // Mean weight times (1 + ln tf): exactly weight * (1 + ln tf) when every occurrence
      // has the same weight, which holds for all but char grams shared by different words.
      const double value =
          sum / static_cast<double>(count) * (1.0 + std::log(static_cast<double>(count)));
      const double sign = (hash >> 63) != 0 ? -1.0 : 1.0;
      acc[hash % static_cast<uint64_t>(dimension_)] += sign * value;
    }
    double norm = 0.0;
    for (double v : acc) norm += v * v;
    norm = std::sqrt(norm);
    out->assign(acc.size(), 0.0F);
    if (norm == 0.0) return;  // no features (or exact cancellation): the zero vector
    for (size_t d = 0; d < acc.size(); ++d) (*out)[d] = static_cast<float>(acc[d] / norm);
  }

  const int dimension_;
  const std::string id_;
};

}  // namespace

std::shared_ptr<const Embedder> NewBuiltinEmbedder(int dimension) {
  return std::make_shared<const BuiltinEmbedder>(
      std::clamp(dimension, kMinBuiltinDimension, kMaxBuiltinDimension));
}

}  // namespace mnemo::embed
