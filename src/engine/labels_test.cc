// Sensitivity labels (docs/security.md): found at write, given by the caller, inherited
// by derived memories, filterable in lists, searches, context and profiles.
#include <zlib.h>

#include <algorithm>
#include <sstream>

#include "engine/engine_test_util.h"

namespace mnemo {
namespace {

using testing::EngineTest;

class LabelsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }

  std::vector<MemoryId> Found(const std::string& query, LabelSet any, LabelSet none) {
    SearchRequest r;
    r.query = query;
    r.filter.user_id = "maya";
    r.filter.labels = any;
    r.filter.exclude_labels = none;
    return SearchIds("s", r);
  }

  std::vector<MemoryId> Listed(LabelSet any, LabelSet none) {
    ListRequest r;
    r.filter.user_id = "maya";
    r.filter.labels = any;
    r.filter.exclude_labels = none;
    auto page = engine_->List("s", r);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<MemoryId> ids;
    for (const auto& m : page->memories) ids.push_back(m.id);
    return ids;
  }
};

constexpr LabelSet kHealth = LabelBit(Label::kHealth);
constexpr LabelSet kFinance = LabelBit(Label::kFinance);

TEST_F(LabelsTest, FoundAtWriteGivenByTheCallerAndFiltered) {
  const MemoryId asthma = MustAdd("s", Input("Maya was diagnosed with asthma", "maya"));
  MemoryInput given = Input("Maya keeps her notes in a blue box", "maya");
  given.labels = kFinance;
  const MemoryId box = MustAdd("s", given);
  const MemoryId city = MustAdd("s", Input("Maya lives in Oslo near the box factory", "maya"));
  const MemoryId token =
      MustAdd("s", Input("Maya's password is Hunter2-box, and her salary is fine", "maya"));
  EXPECT_EQ(engine_->Get("s", asthma)->labels, kHealth);
  EXPECT_EQ(engine_->Get("s", box)->labels, kFinance);
  EXPECT_EQ(engine_->Get("s", city)->labels, 0u);
  EXPECT_EQ(engine_->Get("s", token)->labels, LabelBit(Label::kCredentials) | kFinance);

  EXPECT_EQ(Listed(kHealth, 0), std::vector<MemoryId>{asthma});
  EXPECT_EQ(Listed(0, kHealth | kFinance), std::vector<MemoryId>{city});
  EXPECT_EQ(Found("box Maya asthma", kFinance, 0).size(), 2u);
  const auto none = Found("box Maya asthma", 0, kHealth | kFinance);
  EXPECT_EQ(none, std::vector<MemoryId>{city});

  // An update replaces the caller's labels; the rules' stay.
  MemoryUpdate u;
  u.labels = LabelBit(Label::kReligion);
  EXPECT_EQ(engine_->Update("s", asthma, u)->labels, kHealth | LabelBit(Label::kReligion));
  MemoryUpdate text;
  text.text = "Maya lives in Bergen, by the box shop";
  EXPECT_EQ(engine_->Update("s", city, text)->labels, 0u);
  text.text = "Maya moved to 12 Elm Street";
  EXPECT_EQ(engine_->Update("s", city, text)->labels, LabelBit(Label::kLocation));

  // The index keeps them across a reopen.
  Reopen();
  EXPECT_EQ(Found("box Maya asthma", 0, kHealth | kFinance), std::vector<MemoryId>{city});
  EXPECT_EQ(Found("box Maya asthma Elm", kHealth, 0), std::vector<MemoryId>{asthma});
}

TEST_F(LabelsTest, DerivedMemoriesInheritTheirSourcesLabels) {
  MemoryInput in = Input("I moved to Lisbon in March", "maya");
  in.speaker = "Maya";
  in.labels = kFinance;  // the caller knows better than the rules
  const MemoryId said = MustAdd("s", in);
  ASSERT_TRUE(engine_->RunJobs("s").ok());
  ListRequest r;
  r.filter.user_id = "maya";
  r.filter.kinds = {Kind::kFact, Kind::kPreference, Kind::kProcedure, Kind::kSummary};
  auto derived = engine_->List("s", r);
  ASSERT_TRUE(derived.ok());
  ASSERT_FALSE(derived->memories.empty()) << "nothing derived: the test proves nothing";
  for (const auto& m : derived->memories) {
    EXPECT_TRUE(std::find(m.sources.begin(), m.sources.end(), said) != m.sources.end());
    EXPECT_EQ(m.labels & kFinance, kFinance) << m.text;
  }
}

// An export made before labels existed has none: the import finds them again.
TEST_F(LabelsTest, AnImportLabelsWhatAnOldExportLeftUnlabelled) {
  const MemoryId id = MustAdd("s", Input("Maya was diagnosed with asthma", "maya"));
  std::ostringstream out;
  ASSERT_TRUE(engine_->Export("s", out).ok());
  std::istringstream lines(out.str());
  std::string old_export, line;
  uLong crc = crc32_z(0L, Z_NULL, 0);
  while (std::getline(lines, line)) {
    const std::string key = R"("labels":["health"],)";
    if (const size_t at = line.find(key); at != std::string::npos) line.erase(at, key.size());
    if (line.starts_with(R"({"type":"end")")) {  // the file's checksum, of the lines before
      const size_t at = line.find("\"crc32\":");
      line = line.substr(0, at) + "\"crc32\":" + std::to_string(crc) + "}";
    }
    old_export += line + "\n";
    const std::string with_newline = line + "\n";
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(with_newline.data()), with_newline.size());
  }
  ASSERT_EQ(old_export.find("labels"), std::string::npos) << old_export;
  ASSERT_TRUE(engine_->CreateSpace("t").ok());
  std::istringstream in(old_export);
  auto imported = engine_->Import("t", in);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(engine_->Get("t", id)->labels, kHealth);
}

TEST_F(LabelsTest, ContextAndProfileLeaveExcludedLabelsOut) {
  MemoryInput fact = Input("Maya has asthma", "maya");
  fact.kind = Kind::kFact;
  fact.metadata = R"({"slot":"condition","value":"asthma"})";
  MustAdd("s", fact);
  MemoryInput city = Input("Maya lives in Oslo", "maya");
  city.kind = Kind::kFact;
  city.metadata = R"({"slot":"home_city","value":"oslo"})";
  MustAdd("s", city);
  EXPECT_EQ(engine_->GetProfile("s", "maya", 10)->entries.size(), 2u);
  auto p = engine_->GetProfile("s", "maya", 10, kHealth);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->entries.size(), 1u);
  EXPECT_EQ(p->entries[0].key, "home_city");
  ContextRequest c;
  c.user = "maya";
  c.query = "how is Maya's asthma?";
  EXPECT_NE(engine_->BuildContext("s", c)->text.find("asthma"), std::string::npos);
  c.exclude_labels = kHealth;
  auto ctx = engine_->BuildContext("s", c);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->text.find("asthma"), std::string::npos) << ctx->text;
  EXPECT_NE(ctx->text.find("Oslo"), std::string::npos) << ctx->text;
}

}  // namespace
}  // namespace mnemo
