// Profiles (core memory) and context assembly over a real engine with a fake clock.
#include <algorithm>

#include "engine/engine_test_util.h"

namespace mnemo::testing {
namespace {

constexpr TimeMs kMay10 = 1683712800000;  // 2023-05-10T10:00:00Z
constexpr TimeMs kDay = 86400000;

class ContextTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }

  void Say(const std::string& session, TimeMs t, const std::vector<std::string>& texts,
           const std::string& user = "maya") {
    std::vector<Message> msgs;
    for (const auto& text : texts) {
      Message m;
      m.session = session;
      m.role = "user";
      m.speaker = "Maya";
      m.text = text;
      m.time = t;
      t += 60000;
      msgs.push_back(std::move(m));
    }
    ASSERT_TRUE(engine_->Ingest("s", user, msgs).ok());
    ASSERT_TRUE(engine_->RunJobs("s").ok());  // the rules derive the slots
  }

  Profile MustProfile(int limit = 20) {
    auto p = engine_->GetProfile("s", "maya", limit);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : Profile{};
  }

  static const ProfileEntry* Entry(const Profile& p, const std::string& key) {
    for (const auto& e : p.entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

TEST_F(ContextTest, TheProfileHoldsTheCurrentValueOfEachSlotFactsFirst) {
  Say("s1", kMay10, {"I love surfing.", "I moved to Lisbon."});
  Say("s2", kMay10 + 30 * kDay, {"I am allergic to peanuts.", "I moved to Porto."});
  Profile p = MustProfile();
  EXPECT_EQ(p.user, "maya");
  const ProfileEntry* home = Entry(p, "home_city");
  ASSERT_NE(home, nullptr) << ::testing::PrintToString(p.entries.size());
  EXPECT_EQ(home->value, "porto");
  EXPECT_NE(home->text.find("Porto"), std::string::npos) << home->text;
  EXPECT_FALSE(home->edited);
  ASSERT_TRUE(home->since.has_value());
  EXPECT_EQ(*home->since, kMay10 + 30 * kDay + 60000);
  ASSERT_NE(Entry(p, "likes:surfing"), nullptr);
  ASSERT_NE(Entry(p, "allergy:peanuts"), nullptr);
  // One entry per slot, facts before preferences.
  std::set<std::string> keys;
  bool seen_preference = false;
  for (const auto& e : p.entries) {
    EXPECT_TRUE(keys.insert(e.key).second) << e.key;
    if (e.kind == Kind::kPreference) seen_preference = true;
    if (seen_preference) {
      EXPECT_EQ(e.kind, Kind::kPreference) << e.key;
    }
  }
  EXPECT_EQ(MustProfile(1).entries.size(), 1u);
  EXPECT_EQ(engine_->GetProfile("s", "maya", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->GetProfile("s", "", 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->GetProfile("nope", "maya", 5).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine_->GetProfile("s", "sam", 5)->entries.empty());
}

TEST_F(ContextTest, EditingTheProfileSupersedesAndRemovesWithHistory) {
  Say("s1", kMay10, {"I moved to Lisbon.", "I am allergic to peanuts."});
  const MemoryId lisbon = Entry(MustProfile(), "home_city")->memory_id;
  clock_->Advance(kDay);
  ProfileEdit edit;
  edit.user = "maya";
  edit.set = {{"Home_City", "Faro"}, {"job", "marine biologist"}};
  edit.unset = {"allergy:peanuts"};
  edit.reason = "she corrected it";
  auto p = engine_->EditProfile("s", edit);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ProfileEntry* home = Entry(*p, "home_city");
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(home->value, "Faro");
  EXPECT_EQ(home->text, "maya's home city: Faro");
  EXPECT_TRUE(home->edited);
  EXPECT_EQ(Entry(*p, "job")->value, "marine biologist");
  EXPECT_EQ(Entry(*p, "allergy:peanuts"), nullptr);
  // The old value is retired with its validity closed, not deleted.
  auto old = engine_->Get("s", lisbon);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->state, State::kRetired);
  ASSERT_TRUE(old->valid_to.has_value());
  EXPECT_EQ(*old->valid_to, clock_->NowMillis());
  auto history = engine_->History("s", lisbon);
  ASSERT_TRUE(history.ok());
  EXPECT_NE(history->back().reason.find("superseded by profile edit (memory " +
                                        std::to_string(home->memory_id) + "): she corrected it"),
            std::string::npos)
      << history->back().reason;

  // Bad edits are refused before anything is written.
  const int64_t before = ActiveCount("s");
  ProfileEdit bad;
  bad.user = "maya";
  bad.set = {{"job", "nurse"}, {"bad\x01key", "x"}};
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad.set = {{"job", ""}};
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad.set.clear();
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ActiveCount("s"), before);
  EXPECT_EQ(Entry(MustProfile(), "job")->value, "marine biologist");
  bad.unset = {"diet"};
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kNotFound);
  // A missing key to unset refuses the whole edit, its sets included.
  bad.set = {{"job", "nurse"}};
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kNotFound);
  bad.unset = {"job"};
  EXPECT_EQ(engine_->EditProfile("s", bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ActiveCount("s"), before);
  EXPECT_EQ(Entry(MustProfile(), "job")->value, "marine biologist");
}

// Issue 17: a derived key such as "favorite:programming language" could not be unset
// ("invalid profile key"). Every key the profile shows can be set and unset.
TEST_F(ContextTest, EveryDerivedProfileKeyCanBeSetAndUnset) {
  Say("s1", kMay10, {"My favorite programming language is Rust."});
  const Profile p = MustProfile();
  const ProfileEntry* fav = nullptr;
  for (const auto& e : p.entries) {
    if (e.key.find(' ') != std::string::npos) fav = &e;
  }
  ASSERT_NE(fav, nullptr) << "the rules derive a slot with a space";
  const std::string key = fav->key;
  ProfileEdit set;
  set.user = "maya";
  set.set = {{key, "Go"}};
  auto edited = engine_->EditProfile("s", set);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  const Profile after = MustProfile();
  const ProfileEntry* now = Entry(after, key);
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->value, "Go");
  ProfileEdit unset;
  unset.user = "maya";
  unset.unset = {key};
  edited = engine_->EditProfile("s", unset);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_EQ(Entry(MustProfile(), key), nullptr);
}

TEST_F(ContextTest, TheContextIsTheProfileThenMemoriesBySessionWithinTheBudget) {
  Say("s1", kMay10, {"I moved to Lisbon.", "The surf school in Lisbon starts in June."});
  Say("s2", kMay10 + 7 * kDay, {"I booked a surf lesson for Saturday."});
  Say("s3", kMay10 + 40 * kDay, {"The surf lesson was cancelled because of the storm."});
  ContextRequest r;
  r.user = "maya";
  r.query = "surf lesson";
  r.budget_tokens = 1000;
  auto c = engine_->BuildContext("s", r);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string& t = c->text;
  EXPECT_EQ(t.rfind("# Memory of maya (now: ", 0), 0u) << t;
  const size_t profile = t.find("## Profile\n- Maya moved to Lisbon (since 2023-05-10)");
  const size_t memories = t.find("## Relevant memories");
  ASSERT_NE(profile, std::string::npos) << t;
  ASSERT_NE(memories, std::string::npos) << t;
  EXPECT_LT(profile, memories);
  const size_t s1 = t.find("### Session s1 (2023-05-10)");
  const size_t s2 = t.find("### Session s2 (2023-05-17)");
  const size_t s3 = t.find("### Session s3 (2023-06-19)");
  ASSERT_NE(s2, std::string::npos) << t;
  ASSERT_NE(s3, std::string::npos) << t;
  EXPECT_LT(s2, s3);  // sessions in time order
  if (s1 != std::string::npos) {
    EXPECT_LT(s1, s2);
  }
  EXPECT_NE(t.find("- [2023-05-17 10:00] Maya: I booked a surf lesson for Saturday."),
            std::string::npos)
      << t;
  EXPECT_EQ(c->tokens, static_cast<int64_t>((t.size() + 3) / 4));
  EXPECT_LE(c->tokens, r.budget_tokens);
  EXPECT_FALSE(c->memories.empty());
  EXPECT_EQ(c->omitted, 0);
  ASSERT_FALSE(c->profile.entries.empty());

  // A tight budget keeps the most relevant memories and says how many it left out.
  r.budget_tokens = 60;
  auto tight = engine_->BuildContext("s", r);
  ASSERT_TRUE(tight.ok());
  EXPECT_LE(tight->tokens, 60);
  EXPECT_GT(tight->omitted, 0);
  EXPECT_LT(tight->memories.size(), c->memories.size());

  // --now: what was known and true then; the later session is left out.
  r.budget_tokens = 1000;
  r.now = kMay10 + 10 * kDay;
  auto then = engine_->BuildContext("s", r);
  ASSERT_TRUE(then.ok());
  EXPECT_NE(then->text.find("(now: 2023-05-20 10:00 UTC)"), std::string::npos) << then->text;
  EXPECT_EQ(then->text.find("cancelled"), std::string::npos) << then->text;
  EXPECT_NE(then->text.find("booked a surf lesson"), std::string::npos) << then->text;

  // Errors name what to fix.
  ContextRequest bad = r;
  bad.query = "";
  EXPECT_EQ(engine_->BuildContext("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad = r;
  bad.budget_tokens = 10;
  EXPECT_EQ(engine_->BuildContext("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad = r;
  bad.user = "";
  EXPECT_EQ(engine_->BuildContext("s", bad).status().code(), StatusCode::kInvalidArgument);
  bad = r;
  bad.k = 0;
  EXPECT_EQ(engine_->BuildContext("s", bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, RelativeDatesInTheQueryAreResolvedAgainstNow) {
  Say("s1", kMay10, {"We went hiking with Ana in the hills."});
  Say("s2", kMay10 + 30 * kDay, {"We went hiking with Tom in the hills."});
  SearchRequest r;
  r.query = "who went hiking last week";
  r.filter.user_id = "maya";
  r.filter.kinds = {Kind::kEpisode};
  r.k = 2;
  auto top = [&](std::optional<TimeMs> now) {
    r.now = now;
    auto hits = engine_->Search("s", r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    return hits.ok() && !hits->empty() ? (*hits)[0].memory.text : std::string();
  };
  // A week after each hike, "last week" names that hike's week.
  EXPECT_EQ(top(kMay10 + 7 * kDay), "We went hiking with Ana in the hills.");
  EXPECT_EQ(top(kMay10 + 37 * kDay), "We went hiking with Tom in the hills.");
  r.date_weight = 0;  // off: the two tie on text and the order no longer follows the date
  const std::string a = top(kMay10 + 7 * kDay);
  const std::string b = top(kMay10 + 37 * kDay);
  EXPECT_EQ(a, b);
}

TEST_F(ContextTest, AsOfAndValidAtAnswerFromThePast) {
  const TimeMs t0 = clock_->NowMillis();
  MemoryInput a = Input("Maya lives in Lisbon", "maya");
  a.kind = Kind::kFact;
  a.valid_from = t0;
  const MemoryId lisbon = MustAdd("s", a);
  const MemoryId rumour = MustAdd("s", Input("Maya owns a boat", "maya"));
  clock_->Advance(kDay);  // t1: the text is refined, the rumour retracted
  const TimeMs t1 = clock_->NowMillis();
  MemoryUpdate u;
  u.text = "Maya lives in Lisbon, Portugal";
  ASSERT_TRUE(engine_->Update("s", lisbon, u).ok());
  ASSERT_TRUE(engine_->Remove("s", rumour, "it was a rumour").ok());
  clock_->Advance(kDay);  // t2: she moves; Lisbon is superseded (validity closed, retired)
  const TimeMs t2 = clock_->NowMillis();
  MemoryInput b = Input("Maya lives in Porto", "maya");
  b.kind = Kind::kFact;
  b.valid_from = t2;
  const MemoryId porto = MustAdd("s", b);
  MemoryUpdate close;
  close.valid_to = std::optional<TimeMs>(t2);
  ASSERT_TRUE(engine_->Update("s", lisbon, close).ok());
  ASSERT_TRUE(engine_->Remove("s", lisbon, "superseded").ok());
  clock_->Advance(kDay);

  auto list = [&](Filter f) {
    ListRequest r;
    f.user_id = "maya";
    r.filter = f;
    auto page = engine_->List("s", r);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> texts;
    if (page.ok()) {
      for (const auto& m : page->memories) texts.push_back(m.text);
    }
    return texts;
  };
  using Texts = std::vector<std::string>;
  EXPECT_EQ(list({}), Texts{"Maya lives in Porto"});  // valid and current
  Filter f;
  f.include_retired = true;  // --include-history
  EXPECT_EQ(list(f),
            (Texts{"Maya lives in Lisbon, Portugal", "Maya owns a boat", "Maya lives in Porto"}));
  f = {};
  f.as_of = t0 + 1000;  // as mnemo knew it then: both, in their first version
  EXPECT_EQ(list(f), (Texts{"Maya lives in Lisbon", "Maya owns a boat"}));
  f.as_of = t1 + 1000;  // after the refinement and the retraction
  EXPECT_EQ(list(f), Texts{"Maya lives in Lisbon, Portugal"});
  f = {};
  f.valid_at = t1;  // true then: Lisbon (superseded since), not the retracted rumour
  EXPECT_EQ(list(f), Texts{"Maya lives in Lisbon, Portugal"});
  f.valid_at = t2 + 1000;
  EXPECT_EQ(list(f), Texts{"Maya lives in Porto"});

  SearchRequest s;
  s.query = "where does Maya live";
  s.filter.user_id = "maya";
  s.filter.as_of = t0 + 1000;
  auto hits = engine_->Search("s", s);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].memory.id, lisbon);
  EXPECT_EQ((*hits)[0].memory.text, "Maya lives in Lisbon");
  for (const auto& h : *hits) EXPECT_NE(h.memory.id, porto);
}

}  // namespace
}  // namespace mnemo::testing
