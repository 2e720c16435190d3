// The lifecycle over a real engine with a fake clock (docs/lifecycle.md): recalls and
// retention, expiry and the purge policy, tiers (working set, heat, capacity, archive).
#include <algorithm>
#include <cmath>

#include "engine/engine_test_util.h"

namespace mnemo::testing {
namespace {

constexpr TimeMs kHour = 3600000;
constexpr TimeMs kDay = 24 * kHour;

class LifecycleTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
  }

  void ReopenWith(const LifecycleOptions& l) {
    engine_.reset();
    Options o = MakeOptions();
    o.lifecycle = l;
    o.pipeline.enabled = false;  // only the memories the test writes
    auto e = Engine::Open(dir_.path(), o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  Memory MustGet(MemoryId id) {
    auto m = engine_->Get("s", id);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : Memory{};
  }

  MaintenanceReport MustMaintain() {
    auto r = engine_->Maintain("s");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : MaintenanceReport{};
  }

  SearchRequest Query(const std::string& q, double retention_weight = 0.1) {
    SearchRequest r;
    r.query = q;
    r.filter.user_id = "u1";
    r.retention_weight = retention_weight;
    r.explain = true;
    return r;
  }

  static double RetentionOf(const SearchHit& h) {
    for (const auto& e : h.explanation) {
      if (e.signal == "retention") return e.raw;
    }
    return -1;
  }

  std::vector<Memory> ListAll(bool archived, bool retired = false) {
    ListRequest req;
    req.filter.user_id = "u1";
    req.filter.include_archived = archived;
    req.filter.include_retired = retired;
    auto page = engine_->List("s", req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->memories : std::vector<Memory>{};
  }
};

TEST_F(LifecycleTest, RecallsAreCountedInMemoryAndSavedInOneBatchWithoutNewVersions) {
  ReopenWith(LifecycleOptions{});
  const MemoryId gate = MustAdd("s", Input("The gate code is 4821"));
  const MemoryId cat = MustAdd("s", Input("My cat is called Miso"));
  SearchRequest q = Query("gate code");
  q.k = 1;  // the results are the recalls
  for (int i = 0; i < 3; ++i) ASSERT_EQ(SearchIds("s", q), std::vector<MemoryId>{gate});
  EXPECT_EQ(MustGet(gate).access_count, 0);  // not on the search path
  clock_->Advance(kHour);
  const MaintenanceReport r = MustMaintain();
  EXPECT_EQ(r.recalls, 1);
  const Memory g = MustGet(gate);
  EXPECT_EQ(g.access_count, 3);
  EXPECT_DOUBLE_EQ(g.strength, 4.0);  // 1 + one per recall
  ASSERT_TRUE(g.last_access.has_value());
  EXPECT_EQ(*g.last_access, clock_->NowMillis() - kHour);
  EXPECT_EQ(g.version, 1);  // bookkeeping, not a new version
  EXPECT_EQ(engine_->History("s", gate)->size(), 1u);
  const Memory c = MustGet(cat);
  EXPECT_EQ(c.access_count, 0);
  EXPECT_FALSE(c.last_access.has_value());
  EXPECT_EQ(MustMaintain().recalls, 0);  // nothing new
}

TEST_F(LifecycleTest, RecallsStillPendingAtCloseAreSaved) {
  ReopenWith(LifecycleOptions{});
  const MemoryId gate = MustAdd("s", Input("The gate code is 4821"));
  ASSERT_EQ(SearchIds("s", Query("gate code")).front(), gate);
  ReopenWith(LifecycleOptions{});
  EXPECT_EQ(MustGet(gate).access_count, 1);
}

TEST_F(LifecycleTest, RetentionDecaysWithTimeAndRecallRestoresIt) {
  LifecycleOptions l;  // half-life 30 days
  ReopenWith(l);
  const MemoryId old_code = MustAdd("s", Input("The garage door code is 1111"));
  clock_->Advance(60 * kDay);
  const MemoryId new_code = MustAdd("s", Input("The garage door code is 2222"));
  // Off: the ranking is the fused one (equal texts; the older id first), no retention entry.
  auto off = engine_->Search("s", Query("garage door code", 0));
  ASSERT_TRUE(off.ok());
  ASSERT_EQ(off->size(), 2u);
  EXPECT_EQ((*off)[0].memory.id, old_code);
  EXPECT_EQ(RetentionOf((*off)[0]), -1);
  // On: the forgotten memory (two half-lives: R = 0.25) sinks below the fresh one.
  auto on = engine_->Search("s", Query("garage door code", 0.5));
  ASSERT_TRUE(on.ok());
  ASSERT_EQ(on->size(), 2u);
  EXPECT_EQ((*on)[0].memory.id, new_code);
  EXPECT_NEAR(RetentionOf((*on)[0]), 1.0, 1e-9);
  EXPECT_NEAR(RetentionOf((*on)[1]), 0.25, 1e-9);
  EXPECT_NEAR((*on)[1].score, (*off)[0].score * (0.5 + 0.5 * 0.25), 1e-12);
  // Recalling the old one (a search that finds only it) resets its clock and
  // strengthens it.
  SearchRequest only_old = Query("1111", 0.5);
  only_old.k = 1;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(SearchIds("s", only_old).front(), old_code);
  MustMaintain();
  clock_->Advance(30 * kDay);
  auto later = engine_->Search("s", Query("garage door code", 0.5));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].memory.id, old_code);
  // Both were recalled 30 days ago (the searches above); the old one more often:
  // 2 + 3 recalls, strength 6, against 2 recalls, strength 3.
  const Memory o = MustGet(old_code);
  const Memory n = MustGet(new_code);
  EXPECT_DOUBLE_EQ(o.strength, 6.0);
  EXPECT_DOUBLE_EQ(n.strength, 3.0);
  EXPECT_NEAR(RetentionOf((*later)[0]), std::exp2(-30.0 / (30 * 6)), 1e-9);
  EXPECT_NEAR(RetentionOf((*later)[1]), std::exp2(-30.0 / (30 * 3)), 1e-9);
  // A weight outside [0, 1] is refused.
  auto bad = engine_->Search("s", Query("garage", 1.5));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("retention_weight"), std::string::npos);
}

}  // namespace
}  // namespace mnemo::testing

namespace mnemo::testing {
namespace {

TEST_F(LifecycleTest, AnExpiredMemoryLeavesEveryReadAtOnceAndIsPurgedLater) {
  LifecycleOptions l;
  l.purge_expired_after_ms = kDay;
  ReopenWith(l);
  MemoryInput temp = Input("The wifi guest password is tulip77");
  temp.ttl_ms = kHour;
  const TimeMs written = clock_->NowMillis();
  const MemoryId id = MustAdd("s", temp);
  const MemoryId keep = MustAdd("s", Input("The wifi router is in the hallway"));
  EXPECT_EQ(MustGet(id).expires_at, written + kHour);
  EXPECT_FALSE(MustGet(keep).expires_at.has_value());
  clock_->Advance(kHour - 1);
  EXPECT_EQ(SearchIds("s", Query("wifi password", 0)).front(), id);
  clock_->Advance(1);  // the expiry: no maintenance needed, reads retire it first
  auto ids = SearchIds("s", Query("wifi password", 0));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), id), 0);
  EXPECT_EQ(ListAll(false).size(), 1u);
  const Memory m = MustGet(id);
  EXPECT_EQ(m.state, State::kRetired);
  EXPECT_EQ(m.expired_at, written + kHour);
  auto h = engine_->History("s", id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].op, HistoryOp::kRemove);
  EXPECT_EQ((*h)[1].actor, "lifecycle");
  EXPECT_NE((*h)[1].reason.find("expired at"), std::string::npos);
  EXPECT_EQ(ListAll(false, /*retired=*/true).size(), 2u);  // --include-history shows it
  // As mnemo knew it before the expiry, it was there.
  ListRequest before;
  before.filter.user_id = "u1";
  before.filter.as_of = written + kHour - 1;
  EXPECT_EQ(engine_->List("s", before)->memories.size(), 2u);
  // The purge policy: a day after the expiry, erased (text gone, the purge on record).
  clock_->Advance(kDay - 1);
  EXPECT_EQ(MustMaintain().purged, 0);
  clock_->Advance(1);
  EXPECT_EQ(MustMaintain().purged, 1);
  EXPECT_EQ(engine_->Get("s", id).status().code(), StatusCode::kNotFound);
  h = engine_->History("s", id);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->back().op, HistoryOp::kPurge);
  EXPECT_FALSE(AnyFileContains(dir_.path(), "tulip77"));
  EXPECT_EQ(MustGet(keep).state, State::kActive);
}

TEST_F(LifecycleTest, AKindTtlIsStampedAtWriteAndNeverExpiresExistingMemories) {
  ReopenWith(LifecycleOptions{});
  const MemoryId before = MustAdd("s", Input("We met at the harbour cafe"));  // no TTL then
  LifecycleOptions l;
  l.ttl_ms[Kind::kEpisode] = 7 * kDay;
  l.purge_expired_after_ms = -1;  // never
  ReopenWith(l);
  const MemoryId episode = MustAdd("s", Input("We met at the harbour bar"));
  MemoryInput fact = Input("Maya likes the harbour");
  fact.kind = Kind::kFact;
  const MemoryId kept = MustAdd("s", fact);
  const MemoryId forever = MustAdd("s", Input("The harbour opens at six"));
  EXPECT_EQ(MustGet(episode).expires_at, clock_->NowMillis() + 7 * kDay);
  EXPECT_FALSE(MustGet(kept).expires_at.has_value());
  EXPECT_FALSE(MustGet(before).expires_at.has_value());
  MemoryUpdate never;  // null: never, whatever the kind's TTL
  never.expires_at = std::optional<TimeMs>();
  ASSERT_TRUE(engine_->Update("s", forever, never).ok());
  clock_->Advance(7 * kDay);
  const MaintenanceReport r = MustMaintain();
  EXPECT_EQ(r.expired, 1);  // the episode written under the TTL, only
  EXPECT_EQ(MustGet(episode).state, State::kRetired);
  EXPECT_EQ(MustGet(before).state, State::kActive);
  EXPECT_EQ(MustGet(forever).state, State::kActive);
  EXPECT_EQ(MustGet(kept).state, State::kActive);
  clock_->Advance(3650 * kDay);
  EXPECT_EQ(MustMaintain().purged, 0);
  EXPECT_EQ(MustGet(episode).state, State::kRetired);
}

TEST_F(LifecycleTest, ThePurgeGraceCountsFromTheRetirementNotFromAnOldExpiry) {
  LifecycleOptions l;
  l.purge_expired_after_ms = 30 * kDay;
  ReopenWith(l);
  MemoryInput temp = Input("A note that expires in a day");
  temp.ttl_ms = kDay;
  const MemoryId id = MustAdd("s", temp);
  // Nobody reads the space for a year: it is retired only then, and keeps its grace.
  clock_->Advance(365 * kDay);
  MaintenanceReport r = MustMaintain();
  EXPECT_EQ(r.expired, 1);
  EXPECT_EQ(r.purged, 0);
  EXPECT_EQ(MustGet(id).state, State::kRetired);
  clock_->Advance(30 * kDay - 1);
  EXPECT_EQ(MustMaintain().purged, 0);
  clock_->Advance(1);
  EXPECT_EQ(MustMaintain().purged, 1);
}

TEST_F(LifecycleTest, OverlongDurationsAreRefused) {
  ReopenWith(LifecycleOptions{});
  MemoryInput in = Input("forever and a day");
  in.ttl_ms = 101LL * 366 * kDay;
  auto r = engine_->Add("s", in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("100 years"), std::string::npos);
  in.ttl_ms.reset();
  in.expires_at = clock_->NowMillis() + 101LL * 366 * kDay;
  EXPECT_FALSE(engine_->Add("s", in).ok());
  EXPECT_EQ(ActiveCount("s"), 0);
}

TEST_F(LifecycleTest, BadExpiriesAreRefusedAndChangeNothing) {
  ReopenWith(LifecycleOptions{});
  MemoryInput past = Input("old news");
  past.expires_at = clock_->NowMillis() - 1;
  auto r = engine_->Add("s", past);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expires_at"), std::string::npos) << r.status().ToString();
  MemoryInput both = Input("both");
  both.expires_at = clock_->NowMillis() + kDay;
  both.ttl_ms = kDay;
  EXPECT_FALSE(engine_->Add("s", both).ok());
  MemoryInput zero = Input("zero");
  zero.ttl_ms = 0;
  EXPECT_FALSE(engine_->Add("s", zero).ok());
  EXPECT_EQ(ActiveCount("s"), 0);
  const MemoryId id = MustAdd("s", Input("a memory"));
  MemoryUpdate u;
  u.expires_at = std::optional<TimeMs>(clock_->NowMillis());
  EXPECT_FALSE(engine_->Update("s", id, u).ok());
  EXPECT_EQ(MustGet(id).version, 1);
  // A later expiry is a new version; clearing it again too.
  u.expires_at = std::optional<TimeMs>(clock_->NowMillis() + kDay);
  ASSERT_TRUE(engine_->Update("s", id, u).ok());
  u.expires_at = std::optional<TimeMs>();
  ASSERT_TRUE(engine_->Update("s", id, u).ok());
  clock_->Advance(2 * kDay);
  EXPECT_EQ(MustGet(id).state, State::kActive);
  EXPECT_EQ(MustGet(id).version, 3);
}

TEST_F(LifecycleTest, ASessionsWorkingSetIsBoundedAndEndsWhenItGoesQuiet) {
  LifecycleOptions l;
  l.working_capacity = 3;
  l.working_idle_ms = kHour;
  ReopenWith(l);
  std::vector<Message> msgs;
  for (int i = 0; i < 5; ++i) {
    Message m;
    m.session = "a";
    m.role = "user";
    m.text = "turn number " + std::to_string(i);
    msgs.push_back(m);
  }
  auto ids = engine_->Ingest("s", "u1", msgs);
  ASSERT_TRUE(ids.ok());
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(MustGet(ids->ids[i]).tier, i < 2 ? Tier::kShortTerm : Tier::kWorking) << i;
  }
  const MemoryId loose = MustAdd("s", Input("no session"));
  EXPECT_EQ(MustGet(loose).tier, Tier::kShortTerm);
  clock_->Advance(kHour - 1);
  EXPECT_EQ(MustMaintain().to_short_term, 0);
  clock_->Advance(1);
  EXPECT_EQ(MustMaintain().to_short_term, 3);
  for (MemoryId id : ids->ids) EXPECT_EQ(MustGet(id).tier, Tier::kShortTerm);
  auto stats = engine_->Stats("s");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->by_tier["short_term"], 6);
  EXPECT_EQ(stats->by_tier.count("working"), 0u);
}

TEST_F(LifecycleTest, HeatPromotesToLongTermAndCoolingDemotes) {
  LifecycleOptions l;
  l.promote_heat = 3.0;  // log2(1 + 4 recalls) + R(1) = 3.32
  l.demote_heat = 2.5;
  ReopenWith(l);
  const MemoryId hot = MustAdd("s", Input("The boiler manual is in the attic"));
  const MemoryId cold = MustAdd("s", Input("The spare keys are with Ana"));
  SearchRequest q = Query("boiler manual", 0);
  q.k = 1;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(SearchIds("s", q).front(), hot);
  EXPECT_EQ(MustMaintain().to_long_term, 0);  // 3 recalls: heat 3.0 minus its size
  ASSERT_EQ(SearchIds("s", q).front(), hot);
  EXPECT_EQ(MustMaintain().to_long_term, 1);
  EXPECT_EQ(MustGet(hot).tier, Tier::kLongTerm);
  EXPECT_EQ(MustGet(cold).tier, Tier::kShortTerm);
  clock_->Advance(3650 * kDay);  // R ~ 0: heat 2.32 < 2.5
  EXPECT_EQ(MustMaintain().to_short_term, 1);
  EXPECT_EQ(MustGet(hot).tier, Tier::kShortTerm);
}

TEST_F(LifecycleTest, ASessionsWorkingSetDoesNotCountAgainstTheCapacity) {
  LifecycleOptions l;
  l.user_capacity = 2;
  ReopenWith(l);
  std::vector<Message> msgs(5);
  for (size_t i = 0; i < msgs.size(); ++i) {
    msgs[i].session = "live";
    msgs[i].role = "user";
    msgs[i].text = "a turn of the live conversation " + std::to_string(i);
  }
  ASSERT_TRUE(engine_->Ingest("s", "u1", msgs).ok());
  MustAdd("s", Input("first note"));
  MustAdd("s", Input("second note"));
  EXPECT_EQ(MustMaintain().archived, 0);
  MustAdd("s", Input("third note"));
  EXPECT_EQ(MustMaintain().archived, 1);
}

TEST_F(LifecycleTest, CapacityArchivesTheColdestAndARecallBringsOneBack) {
  LifecycleOptions l;
  l.user_capacity = 3;
  ReopenWith(l);
  std::vector<MemoryId> ids;
  for (const char* text :
       {"Note one about apples", "Note two about pears", "Note three about plums",
        "Note four about figs", "Note five about kiwis"}) {
    ids.push_back(MustAdd("s", Input(text)));
  }
  SearchRequest q = Query("figs", 0);
  q.k = 1;
  ASSERT_EQ(SearchIds("s", q).front(), ids[3]);
  q.query = "kiwis";
  ASSERT_EQ(SearchIds("s", q).front(), ids[4]);
  q.query = "plums";
  ASSERT_EQ(SearchIds("s", q).front(), ids[2]);
  clock_->Advance(kDay);
  const MaintenanceReport r = MustMaintain();
  EXPECT_EQ(r.archived, 2);  // the two never recalled (oldest first among equals)
  EXPECT_EQ(MustGet(ids[0]).tier, Tier::kArchived);
  EXPECT_EQ(MustGet(ids[1]).tier, Tier::kArchived);
  EXPECT_EQ(ListAll(false).size(), 3u);
  EXPECT_EQ(ListAll(true).size(), 5u);  // never deleted
  q.query = "apples";
  auto found = SearchIds("s", q);  // by vector similarity, perhaps, but not the archived one
  EXPECT_EQ(std::count(found.begin(), found.end(), ids[0]), 0);
  q.filter.include_archived = true;
  ASSERT_EQ(SearchIds("s", q).front(), ids[0]);  // a recall
  clock_->Advance(kDay);
  const MaintenanceReport back = MustMaintain();
  EXPECT_EQ(back.unarchived, 1);
  EXPECT_EQ(back.archived, 1);  // the capacity still holds: the next coldest goes
  EXPECT_EQ(MustGet(ids[0]).tier, Tier::kShortTerm);
  EXPECT_EQ(ListAll(false).size(), 3u);
}

}  // namespace
}  // namespace mnemo::testing
