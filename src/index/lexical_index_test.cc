#include "index/lexical_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "text/analyzer.h"
#include "util/fs.h"

namespace mnemo::index {
namespace {

// An independent reference: BM25 as documented in lexical_index.h, scored exhaustively.
class Reference {
 public:
  void Put(const Memory& m) {
    docs_[m.id] = m;
    stale_ = true;
  }
  void Erase(MemoryId id) {
    docs_.erase(id);
    stale_ = true;
  }
  const std::map<MemoryId, Memory>& docs() const { return docs_; }

  bool Passes(const Memory& m, const LexicalFilter& f) const {
    if (!f.user.empty() && m.user_id != f.user) return false;
    if (!f.kinds.empty() && std::find(f.kinds.begin(), f.kinds.end(), m.kind) == f.kinds.end())
      return false;
    if (!f.include_retired && m.state == State::kRetired) return false;
    if (!f.include_archived && m.tier == Tier::kArchived) return false;
    if (!f.agent.empty() && m.agent_id != f.agent) return false;
    if (!f.session.empty() && m.session_id != f.session) return false;
    if (f.time_from || f.time_to) {
      if (!m.event_time) return false;
      if (f.time_from && *m.event_time < *f.time_from) return false;
      if (f.time_to && *m.event_time >= *f.time_to) return false;
    }
    if (f.allow && !std::binary_search(f.allow->begin(), f.allow->end(), m.id)) return false;
    return true;
  }

  std::vector<LexicalHit> Search(const std::vector<std::string>& terms, const LexicalFilter& f,
                                 size_t k) {
    if (stale_) Recount();
    const double n = static_cast<double>(docs_.size());
    const double avg = n > 0 ? total_len_ / n : 1;
    auto& freq = freq_;
    auto& len = len_;
    auto& df = df_;
    std::vector<LexicalHit> out;
    for (const auto& [id, m] : docs_) {
      if (!Passes(m, f)) continue;
      double score = 0;
      bool any = false;
      for (const auto& t : terms) {
        auto it = freq[id].find(t);
        if (it == freq[id].end()) continue;
        any = true;
        double idf = std::log((n - df[t] + 0.5) / (df[t] + 0.5));
        if (idf <= 0) idf = 1e-6;
        const double fr = std::min(it->second, 127.5);
        score += idf * fr * 2.2 / (fr + 1.2 * (0.25 + 0.75 * len[id] / avg));
      }
      if (any) out.push_back({id, score});
    }
    std::sort(out.begin(), out.end(), [](const LexicalHit& a, const LexicalHit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    if (out.size() > k) out.resize(k);
    return out;
  }

 private:
  // Statistics over every document.
  void Recount() {
    df_.clear();
    freq_.clear();
    len_.clear();
    total_len_ = 0;
    for (const auto& [id, m] : docs_) {
      auto& fr = freq_[id];
      double l = 1;  // lexical_index.h: one more than the tokens
      for (const auto& t : text::Terms(m.text)) {
        fr[t] += 1.0;
        ++l;
      }
      for (const auto& t : text::Terms(m.speaker)) {
        fr[t] += 0.5;
        ++l;
      }
      for (const auto& [t, x] : fr) df_[t] += 1;
      len_[id] = std::min(l, 65535.0);
      total_len_ += len_[id];
    }
    stale_ = false;
  }

  std::map<MemoryId, Memory> docs_;
  bool stale_ = true;
  std::unordered_map<std::string, double> df_;
  double total_len_ = 0;
  std::map<MemoryId, std::unordered_map<std::string, double>> freq_;
  std::map<MemoryId, double> len_;
};

// Same ids, or ids that differ only where scores tie (within rounding).
void ExpectSameTop(const std::vector<LexicalHit>& got, const std::vector<LexicalHit>& want,
                   const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, 1e-9 * std::max(1.0, want[i].score))
        << what << " rank " << i;
    if (got[i].id != want[i].id) {
      EXPECT_NEAR(got[i].score, want[i].score, 1e-12 * std::max(1.0, want[i].score))
          << what << " rank " << i << ": id " << got[i].id << " instead of " << want[i].id;
    }
  }
}

class Corpus {
 public:
  explicit Corpus(uint64_t seed) : rng_(seed) {
    // A Zipf-like vocabulary: a few very common words and a long tail.
    for (int i = 0; i < 600; ++i) words_.push_back("w" + std::to_string(i) + "x");
  }
  std::string Word() {
    std::uniform_real_distribution<double> u(0, 1);
    const double r = std::pow(u(rng_), 3.0);
    return words_[static_cast<size_t>(r * static_cast<double>(words_.size()))];
  }
  std::string Text(int min_words, int max_words) {
    std::uniform_int_distribution<int> len(min_words, max_words);
    std::string s;
    for (int i = len(rng_); i > 0; --i) s += Word() + (i % 7 == 0 ? " " + Word() + " " : " ");
    return s;
  }
  Memory Make(MemoryId id) {
    Memory m;
    m.id = id;
    m.user_id = "u" + std::to_string(Pick(4));
    m.kind = static_cast<Kind>(Pick(10) < 7 ? 0 : Pick(5));
    m.text = Text(3, 40);
    m.speaker = Pick(3) == 0 ? "" : "speaker" + std::to_string(Pick(3)) + " " + words_[Pick(50)];
    m.session_id = Pick(4) == 0 ? "" : "s" + std::to_string(Pick(20));
    m.agent_id = Pick(3) == 0 ? "a" + std::to_string(Pick(2)) : "";
    m.state = Pick(10) == 0 ? State::kRetired : State::kActive;
    m.tier = Pick(12) == 0 ? Tier::kArchived : Tier::kShortTerm;
    if (Pick(8) != 0) m.event_time = 1000000 + static_cast<TimeMs>(id) * 10 + Pick(5000);
    return m;
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::vector<std::string> Query() {
    std::vector<std::string> q;
    std::set<std::string> seen;
    for (size_t i = 1 + Pick(6); i > 0; --i) {
      for (const auto& t : text::Terms(Word())) {
        if (seen.insert(t).second) q.push_back(t);
      }
    }
    if (Pick(5) == 0) q.push_back("absentterm");
    return q;
  }
  std::mt19937_64 rng_;
  std::vector<std::string> words_;
};

LexicalFilter RandomFilter(Corpus& c, std::vector<MemoryId>* allow_storage,
                           const Reference& ref) {  // NOLINT: ref only lists ids
  LexicalFilter f;
  if (c.Pick(3) != 0) f.user = "u" + std::to_string(c.Pick(5));  // u4 does not exist
  if (c.Pick(4) == 0) f.kinds = {static_cast<Kind>(c.Pick(5)), static_cast<Kind>(c.Pick(5))};
  f.include_retired = c.Pick(4) == 0;
  f.include_archived = c.Pick(4) == 0;
  if (c.Pick(8) == 0) f.agent = "a" + std::to_string(c.Pick(2));
  if (c.Pick(8) == 0) f.session = "s" + std::to_string(c.Pick(20));
  if (c.Pick(5) == 0) {
    const TimeMs from = 1000000 + static_cast<TimeMs>(c.Pick(40000));
    f.time_from = from;
    f.time_to = from + 1 + static_cast<TimeMs>(c.Pick(8000));
  }
  if (c.Pick(8) == 0) {
    allow_storage->clear();
    for (const auto& [id, m] : ref.docs()) {
      if (c.Pick(3) == 0) allow_storage->push_back(id);
    }
    f.allow = allow_storage;
  }
  return f;
}

TEST(LexicalIndexTest, TopKEqualsExhaustiveScoringOnAThousandQueries) {
  Corpus c(42);
  Reference ref;
  auto index = LexicalIndex::Create();
  std::vector<LexicalDoc> batch;
  for (MemoryId id = 1; id <= 4000; ++id) {
    Memory m = c.Make(id);
    ref.Put(m);
    batch.push_back(AnalyzeMemory(m, 0));
    if (batch.size() == 500) {
      index->Apply(id, std::move(batch), {});
      batch.clear();
    }
  }
  std::vector<MemoryId> allow;
  auto view = index->Read();
  for (int q = 0; q < 1000; ++q) {
    const auto terms = c.Query();
    const LexicalFilter f = RandomFilter(c, &allow, ref);
    const size_t k = q % 3 == 0 ? 100 : 10;
    ExpectSameTop(view.Search(terms, f, k), ref.Search(terms, f, k), "query " + std::to_string(q));
  }
}

TEST(LexicalIndexTest, UpdatesAndErasuresKeepTheRankingExact) {
  Corpus c(7);
  Reference ref;
  auto index = LexicalIndex::Create();
  int64_t seq = 0;
  for (MemoryId id = 1; id <= 1500; ++id) {
    Memory m = c.Make(id);
    ref.Put(m);
    index->Apply(++seq, {AnalyzeMemory(m, 0)}, {});
  }
  // Change texts, kinds, users, states, times; erase some; add more.
  for (int round = 0; round < 600; ++round) {
    const MemoryId id = 1 + static_cast<MemoryId>(c.Pick(1500));
    if (!ref.docs().count(id)) continue;
    if (c.Pick(4) == 0) {
      ref.Erase(id);
      index->Apply(++seq, {}, {id});
      continue;
    }
    Memory m = ref.docs().at(id);
    switch (c.Pick(4)) {
      case 0:
        m.text = c.Text(2, 30);
        break;
      case 1:
        m.state = m.state == State::kActive ? State::kRetired : State::kActive;
        break;
      case 2:
        m.kind = static_cast<Kind>(c.Pick(5));
        break;
      default:
        m.user_id = "u" + std::to_string(c.Pick(4));
        break;
    }
    ref.Put(m);
    index->Apply(++seq, {AnalyzeMemory(m, 0)}, {});
  }
  for (MemoryId id = 1501; id <= 1800; ++id) {
    Memory m = c.Make(id);
    ref.Put(m);
    index->Apply(++seq, {AnalyzeMemory(m, 0)}, {});
  }
  EXPECT_EQ(index->doc_count(), ref.docs().size());
  EXPECT_EQ(index->applied_seq(), seq);
  std::vector<MemoryId> allow;
  auto view = index->Read();
  for (int q = 0; q < 300; ++q) {
    const auto terms = c.Query();
    const LexicalFilter f = RandomFilter(c, &allow, ref);
    ExpectSameTop(view.Search(terms, f, 20), ref.Search(terms, f, 20),
                  "query " + std::to_string(q));
  }
}

TEST(LexicalIndexTest, ScoreGivesTheSameValuesAsSearch) {
  Corpus c(3);
  auto index = LexicalIndex::Create();
  std::vector<LexicalDoc> batch;
  for (MemoryId id = 1; id <= 800; ++id) batch.push_back(AnalyzeMemory(c.Make(id), 0));
  index->Apply(1, std::move(batch), {});
  auto view = index->Read();
  LexicalFilter all;
  all.include_retired = all.include_archived = true;
  for (int q = 0; q < 50; ++q) {
    const auto terms = c.Query();
    const auto hits = view.Search(terms, all, 30);
    std::vector<MemoryId> ids;
    for (const auto& h : hits) ids.push_back(h.id);
    const auto scored = view.Score(terms, ids);
    ASSERT_EQ(scored.size(), hits.size());
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(scored[i].id, hits[i].id);
      EXPECT_NEAR(scored[i].score, hits[i].score, 1e-9);
    }
  }
}

TEST(LexicalIndexTest, SessionLinksFollowWritesAndErasures) {
  auto index = LexicalIndex::Create();
  auto turn = [](MemoryId id, const std::string& session) {
    Memory m;
    m.id = id;
    m.user_id = "u";
    m.session_id = session;
    m.text = "turn " + std::to_string(id);
    return m;
  };
  index->Apply(1,
               {AnalyzeMemory(turn(1, "s"), 0), AnalyzeMemory(turn(2, "s"), 1),
                AnalyzeMemory(turn(3, "s"), 2), AnalyzeMemory(turn(4, "t"), 0)},
               {});
  {
    auto v = index->Read();
    EXPECT_EQ(v.Previous(2), 1);
    EXPECT_EQ(v.Next(2), 3);
    EXPECT_EQ(v.Next(3), 0);
    EXPECT_EQ(v.SessionKey(1), v.SessionKey(3));
    EXPECT_NE(v.SessionKey(1), v.SessionKey(4));
    EXPECT_NE(v.SessionKey(4), 0u);
  }
  index->Apply(2, {}, {2});
  auto v = index->Read();
  EXPECT_EQ(v.Next(1), 0);
  EXPECT_EQ(v.Previous(3), 0);
  EXPECT_FALSE(v.Contains(2));
}

class LexicalSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mnemo_lexical_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "lexical.idx").string(); }
  std::filesystem::path dir_;
};

TEST_F(LexicalSnapshotTest, RoundTripKeepsResultsAndSeq) {
  Corpus c(11);
  Reference ref;
  auto index = LexicalIndex::Create();
  std::vector<LexicalDoc> batch;
  for (MemoryId id = 1; id <= 1200; ++id) {
    Memory m = c.Make(id);
    ref.Put(m);
    batch.push_back(AnalyzeMemory(m, id > 1 && id % 5 != 0 ? id - 1 : 0));
  }
  index->Apply(77, std::move(batch), {});
  index->Apply(78, {}, {5, 6, 7});
  for (MemoryId id : {5, 6, 7}) ref.Erase(id);
  auto saved = index->Save(Path());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(*saved, 78);
  auto loaded = LexicalIndex::Load(Path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->applied_seq(), 78);
  EXPECT_EQ((*loaded)->doc_count(), ref.docs().size());
  {
    auto a = index->Read();
    auto b = (*loaded)->Read();
    std::vector<MemoryId> allow;
    for (int q = 0; q < 200; ++q) {
      const auto terms = c.Query();
      const LexicalFilter f = RandomFilter(c, &allow, ref);
      ExpectSameTop(b.Search(terms, f, 10), a.Search(terms, f, 10), "query " + std::to_string(q));
    }
    EXPECT_EQ(b.Next(3), 4);
    EXPECT_EQ(b.Previous(9), 8);
  }
  // A loaded index takes further writes.
  Memory m = c.Make(5000);
  m.text = "zebracorn unique";
  (*loaded)->Apply(79, {AnalyzeMemory(m, 0)}, {});
  LexicalFilter any;
  any.include_retired = any.include_archived = true;
  EXPECT_EQ((*loaded)->Read().Search({"zebracorn"}, any, 5).size(), 1u);
}

// Past 65,536 documents the id map splits into shards and the columns pass 2 MiB (their
// memory then comes from large_alloc): every document stays findable across the split,
// erasures, growth in several applies and a snapshot round trip.
TEST_F(LexicalSnapshotTest, LargeIndexKeepsEveryDocumentAcrossGrowthAndReload) {
  constexpr MemoryId kDocs = 150000;
  auto index = LexicalIndex::Create();
  auto make = [](MemoryId id) {
    Memory m;
    m.id = id * 7919;  // not dense: the map hashes
    m.user_id = "u";
    m.text = "common words plus tag" + std::to_string(id);
    return AnalyzeMemory(m, 0);
  };
  for (MemoryId from = 1; from <= kDocs; from += 30000) {
    std::vector<LexicalDoc> batch;
    for (MemoryId id = from; id < from + 30000; ++id) batch.push_back(make(id));
    index->Apply(from, std::move(batch), {});
  }
  std::vector<MemoryId> erased;
  for (MemoryId id = 3; id <= kDocs; id += 3) erased.push_back(id * 7919);
  index->Apply(kDocs + 1, {}, erased);
  auto check = [&](const LexicalIndex& ix, const std::string& when) {
    EXPECT_EQ(ix.doc_count(), kDocs - erased.size()) << when;
    const auto view = ix.Read();
    for (MemoryId id = 1; id <= kDocs; ++id) {
      ASSERT_EQ(view.Contains(id * 7919), id % 3 != 0) << when << ": memory " << id;
    }
    LexicalFilter any;
    for (MemoryId id : {MemoryId{1}, MemoryId{65537}, MemoryId{149999}}) {
      const auto hits = view.Search({"tag" + std::to_string(id)}, any, 3);
      ASSERT_EQ(hits.size(), 1u) << when;
      EXPECT_EQ(hits[0].id, id * 7919) << when;
    }
  };
  check(*index, "built");
  ASSERT_TRUE(index->Save(Path()).ok());
  auto loaded = LexicalIndex::Load(Path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  check(**loaded, "loaded");
}

TEST_F(LexicalSnapshotTest, DamagedSnapshotsAreCorruptionNeverACrash) {
  Corpus c(5);
  auto index = LexicalIndex::Create();
  std::vector<LexicalDoc> batch;
  for (MemoryId id = 1; id <= 300; ++id) batch.push_back(AnalyzeMemory(c.Make(id), 0));
  index->Apply(1, std::move(batch), {});
  ASSERT_TRUE(index->Save(Path()).ok());
  auto good = util::ReadFile(Path());
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(LexicalIndex::Load((dir_ / "missing.idx").string()).status().code(),
            StatusCode::kNotFound);
  std::mt19937 rng(1);
  for (int trial = 0; trial < 60; ++trial) {
    std::string bad = *good;
    if (trial % 3 == 0) {
      bad.resize(std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng));
    } else {
      const size_t at = std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng);
      bad[at] = static_cast<char>(bad[at] ^ (1 + trial % 255));
    }
    ASSERT_TRUE(util::WriteFileAtomic(Path(), bad).ok());
    auto r = LexicalIndex::Load(Path());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << "trial " << trial;
  }
}

TEST_F(LexicalSnapshotTest, AnErasedMemorysWordsLeaveTheSnapshot) {
  auto index = LexicalIndex::Create();
  Memory keep;
  keep.id = 1;
  keep.user_id = "u";
  keep.text = "ordinary words here";
  Memory secret = keep;
  secret.id = 2;
  secret.text = "the vault code is quasarzebra";
  secret.session_id = "secretsession";
  index->Apply(1, {AnalyzeMemory(keep, 0), AnalyzeMemory(secret, 0)}, {});
  index->Apply(2, {}, {2});
  ASSERT_TRUE(index->Save(Path()).ok());
  auto bytes = util::ReadFile(Path());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->find("quasarzebra"), std::string::npos);
  EXPECT_EQ(bytes->find("vault"), std::string::npos);
  EXPECT_EQ(bytes->find("secretsession"), std::string::npos);
  EXPECT_NE(bytes->find("ordinari"), std::string::npos);  // the stem of what stays
}

}  // namespace
}  // namespace mnemo::index
