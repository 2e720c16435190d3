// Filter expressions (Filter::expression, store/filter_expr.h) through the engine's list
// and search over real SQLite: every operator on every kind of field, AND / OR / NOT,
// missing values, scope hoisting and the errors that name the offending path.
#include <algorithm>
#include <set>

#include "engine/engine_test_util.h"
#include "store/filter_expr.h"

namespace mnemo::testing {
namespace {

class FilterExpressionTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_TRUE(engine_->CreateSpace("s").ok());
    // Four memories of two users; c has no metadata, no time and no tags.
    MemoryInput a = Input("Dinner at Luigi's cost 80 EUR", "alice");
    a.metadata = R"({"amount": 80, "cat": "Food", "labels": ["Work", "travel"], "paid": true})";
    a.tags = {"money", "eating"};
    a.event_time = 1'000'000;
    a.importance = 0.9;
    a.agent_id = "planner";
    a_ = MustAdd("s", a);
    clock_->Advance(1000);
    MemoryInput b = Input("Lunch with the team cost 20 EUR", "alice");
    b.metadata = R"({"amount": 20.5, "cat": "food", "note": null, "paid": false})";
    b.tags = {"money"};
    b.event_time = 2'000'000;
    b.session_id = "s1";
    b.importance = 0.3;
    b_ = MustAdd("s", b);
    clock_->Advance(1000);
    MemoryInput c = Input("Bob walked the dog", "bob");
    c.kind = Kind::kFact;
    c_ = MustAdd("s", c);
    MemoryUpdate no_time;  // c's time defaulted to now: clear it
    no_time.event_time = std::optional<TimeMs>();
    EXPECT_TRUE(engine_->Update("s", c_, no_time).ok());
    clock_->Advance(1000);
    MemoryInput d = Input("Bob's rent is 900", "bob");
    d.metadata = R"({"amount": "900", "cat": "Housing"})";
    d.event_time = 3'000'000;
    d_ = MustAdd("s", d);
  }

  // The ids a list with `expression` returns, in id order.
  std::set<MemoryId> Listed(const std::string& expression) {
    ListRequest r;
    r.filter.expression = expression;
    auto page = engine_->List("s", r);
    EXPECT_TRUE(page.ok()) << expression << ": " << page.status().ToString();
    std::set<MemoryId> ids;
    if (page.ok()) {
      for (const auto& m : page->memories) ids.insert(m.id);
    }
    return ids;
  }

  Status ListError(const std::string& expression) {
    ListRequest r;
    r.filter.expression = expression;
    auto page = engine_->List("s", r);
    return page.ok() ? Status::Ok() : page.status();
  }

  MemoryId a_ = 0, b_ = 0, c_ = 0, d_ = 0;
};

TEST_F(FilterExpressionTest, ComparesMemoryFields) {
  using Ids = std::set<MemoryId>;
  EXPECT_EQ(Listed(R"({"user_id": "alice"})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"user": {"ne": "alice"}})"), (Ids{c_, d_}));
  EXPECT_EQ(Listed(R"({"user_id": {"in": ["bob", "nobody"]}})"), (Ids{c_, d_}));
  EXPECT_EQ(Listed(R"({"user_id": {"nin": ["bob"]}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"agent_id": "planner"})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"run_id": "s1"})"), (Ids{b_}));
  EXPECT_EQ(Listed(R"({"session": "*"})"), (Ids{b_}));
  EXPECT_EQ(Listed(R"({"kind": "fact"})"), (Ids{c_}));
  EXPECT_EQ(Listed(R"({"kind": {"nin": ["fact", "summary"]}})"), (Ids{a_, b_, d_}));
  EXPECT_EQ(Listed(R"({"text": {"contains": "EUR"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"memory": {"contains": "eur"}})"), (Ids{}));
  EXPECT_EQ(Listed(R"({"memory": {"icontains": "eur"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"importance": {"gte": 0.5}})"), (Ids{a_, c_, d_}));  // default 0.5
  EXPECT_EQ(Listed(R"({"importance": {"gt": 0.3, "lt": 0.9}})"), (Ids{c_, d_}));
  EXPECT_EQ(Listed(R"({"id": {"in": [)" + std::to_string(a_) + "," + std::to_string(d_) + "]}}"),
            (Ids{a_, d_}));
}

TEST_F(FilterExpressionTest, ComparesTimesAndTreatsAMissingTimeAsUnequal) {
  using Ids = std::set<MemoryId>;
  // event_time 1,000,000 ms = 1970-01-01T00:16:40Z; c has none.
  EXPECT_EQ(Listed(R"({"time": {"gte": "1970-01-01T00:33:20Z"}})"), (Ids{b_, d_}));
  EXPECT_EQ(Listed(R"({"event_time": {"lt": "1970-01-01T00:33:20Z"}})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"time": {"ne": "1970-01-01T00:16:40Z"}})"), (Ids{b_, c_, d_}));
  EXPECT_EQ(Listed(R"({"NOT": {"time": {"lt": "1970-01-01T00:33:20Z"}}})"), (Ids{b_, c_, d_}));
  EXPECT_EQ(Listed(R"({"time": "*"})"), (Ids{a_, b_, d_}));
  EXPECT_EQ(Listed(R"({"created_at": {"gt": "2020-01-01"}})"), (Ids{a_, b_, c_, d_}));
  EXPECT_EQ(Listed(R"({"updated_at": {"lt": "2020-01-01"}})"), (Ids{}));
}

TEST_F(FilterExpressionTest, ComparesTags) {
  using Ids = std::set<MemoryId>;
  EXPECT_EQ(Listed(R"({"tags": "eating"})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"tags": {"contains": "money"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"tags": {"icontains": "MONEY"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"tags": {"ne": "eating"}})"), (Ids{b_, c_, d_}));
  EXPECT_EQ(Listed(R"({"tags": {"in": ["eating", "x"]}})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"tags": {"nin": ["money"]}})"), (Ids{c_, d_}));
  EXPECT_EQ(Listed(R"({"tags": "*"})"), (Ids{a_, b_}));
}

TEST_F(FilterExpressionTest, ComparesMetadataByJsonType) {
  using Ids = std::set<MemoryId>;
  // d's amount is the string "900": numbers compare with numbers only.
  EXPECT_EQ(Listed(R"({"metadata.amount": {"gt": 50}})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": {"lte": 20.5}})"), (Ids{b_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": {"gt": "5"}})"), (Ids{d_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": 80})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": 80.0})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": "900"})"), (Ids{d_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": {"in": [20.5, "900"]}})"), (Ids{b_, d_}));
  EXPECT_EQ(Listed(R"({"metadata.amount": {"nin": [20.5, "900"]}})"), (Ids{a_, c_}));
  EXPECT_EQ(Listed(R"({"meta.paid": true})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"meta.paid": false})"), (Ids{b_}));
  EXPECT_EQ(Listed(R"({"metadata.paid": {"ne": true}})"), (Ids{b_, c_, d_}));
  // null: the key holds null or is missing; "*": the key is present (even as null).
  EXPECT_EQ(Listed(R"({"metadata.note": null})"), (Ids{a_, b_, c_, d_}));
  EXPECT_EQ(Listed(R"({"metadata.note": "*"})"), (Ids{b_}));
  EXPECT_EQ(Listed(R"({"NOT": {"metadata.amount": "*"}})"), (Ids{c_}));
  // Text: a substring; an array: an element (icontains: ignoring case).
  EXPECT_EQ(Listed(R"({"metadata.cat": {"contains": "ood"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"metadata.cat": {"icontains": "FOOD"}})"), (Ids{a_, b_}));
  EXPECT_EQ(Listed(R"({"metadata.labels": {"contains": "travel"}})"), (Ids{a_}));
  EXPECT_EQ(Listed(R"({"metadata.labels": {"contains": "trav"}})"), (Ids{}));
  EXPECT_EQ(Listed(R"({"metadata.labels": {"icontains": "work"}})"), (Ids{a_}));
}

TEST_F(FilterExpressionTest, CombinesWithAndOrNot) {
  using Ids = std::set<MemoryId>;
  EXPECT_EQ(Listed(R"({"OR": [{"kind": "fact"}, {"metadata.amount": {"gt": 50}}]})"),
            (Ids{a_, c_}));
  EXPECT_EQ(Listed(R"({"AND": [{"user_id": "alice"}, {"NOT": {"tags": "eating"}}]})"), (Ids{b_}));
  // Keys of one object are ANDed; NOT over an array negates their conjunction.
  EXPECT_EQ(Listed(R"({"user_id": "bob", "kind": "episode"})"), (Ids{d_}));
  EXPECT_EQ(Listed(R"({"NOT": [{"user_id": "bob"}, {"kind": "episode"}]})"), (Ids{a_, b_, c_}));
  EXPECT_EQ(Listed(R"({"OR": [{"AND": [{"user_id": "bob"}, {"metadata.cat": "Housing"}]},
                              {"NOT": {"OR": [{"user_id": "bob"}, {"tags": "eating"}]}}]})"),
            (Ids{b_, d_}));
  EXPECT_EQ(Listed("{}"), (Ids{a_, b_, c_, d_}));
}

TEST_F(FilterExpressionTest, AppliesToSearchAndSatisfiesTheScopeRule) {
  SearchRequest q;
  q.query = "cost EUR";
  q.vector_weight = 0;
  // Two users: a search must name one; the expression's user_id does.
  q.filter.expression = R"({"AND": [{"user_id": "alice"}, {"metadata.amount": {"lt": 50}}]})";
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{b_});
  q.filter.expression = R"({"metadata.amount": {"lt": 50}})";
  auto unscoped = engine_->Search("s", q);
  ASSERT_FALSE(unscoped.ok());
  EXPECT_EQ(unscoped.status().code(), StatusCode::kInvalidArgument);
  q.filter.all_users = true;
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{b_});
  // With all_users the user condition stays a condition.
  q.filter.expression = R"({"user_id": "bob"})";
  q.query = "rent";
  EXPECT_EQ(SearchIds("s", q), std::vector<MemoryId>{d_});
  q.filter.all_users = false;
  q.filter.user_id = "alice";
  auto contradiction = engine_->Search("s", q);
  ASSERT_FALSE(contradiction.ok());
  EXPECT_EQ(contradiction.status().field(), "filters.user_id");
  EXPECT_NE(contradiction.status().message().find("contradicts"), std::string::npos);
}

TEST_F(FilterExpressionTest, ErrorsNameThePathAndChangeNothing) {
  struct Case {
    const char* expression;
    StatusCode code;
    const char* field;
    const char* says;
  };
  const Case cases[] = {
      {R"({"metadata.amount": {"gtt": 5}})", StatusCode::kInvalidArgument,
       "filters.metadata.amount.gtt", "unknown operator"},
      {R"({"amount": 5})", StatusCode::kInvalidArgument, "filters.amount", "metadata.amount"},
      {R"({"and": [{"kind": "fact"}]})", StatusCode::kInvalidArgument, "filters.and",
       "written AND"},
      {R"({"OR": [{"kind": "fact"}, {"kind": "nope"}]})", StatusCode::kInvalidArgument,
       "filters.OR[1].kind", "kind"},
      {R"({"OR": []})", StatusCode::kInvalidArgument, "filters.OR", "non-empty array"},
      {R"({"OR": [{}]})", StatusCode::kInvalidArgument, "filters.OR[0]", "empty"},
      {R"({"NOT": 3})", StatusCode::kInvalidArgument, "filters.NOT", "NOT takes"},
      {R"({"user_id": {"gt": "a"}})", StatusCode::kInvalidArgument, "filters.user_id.gt",
       "does not apply"},
      {R"({"time": {"in": ["2024-01-01"]}})", StatusCode::kInvalidArgument, "filters.time.in",
       "does not apply"},
      {R"({"created_at": {"gt": "yesterday"}})", StatusCode::kInvalidArgument,
       "filters.created_at.gt", ""},
      {R"({"importance": "high"})", StatusCode::kInvalidArgument, "filters.importance", "number"},
      {R"({"id": {"in": [1, 2.5]}})", StatusCode::kInvalidArgument, "filters.id.in[1]", "integer"},
      {R"({"metadata.x": {"gt": true}})", StatusCode::kInvalidArgument, "filters.metadata.x.gt",
       "string or a number"},
      {R"({"metadata.x": {"eq": {"a": 1}}})", StatusCode::kInvalidArgument, "filters.metadata.x.eq",
       "string, number, boolean or null"},
      {R"({"metadata.x": {"icontains": 3}})", StatusCode::kInvalidArgument,
       "filters.metadata.x.icontains", "string"},
      {R"({"tags": ["a", "b"]})", StatusCode::kInvalidArgument, "filters.tags", "in"},
      {R"({"tags": {}})", StatusCode::kInvalidArgument, "filters.tags", "needs an operator"},
      {R"([1])", StatusCode::kInvalidArgument, "filters", "must be an object"},
      {R"({"kind": "fact")", StatusCode::kInvalidArgument, "filters", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expression);
    const Status s = ListError(c.expression);
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_EQ(s.field(), c.field) << s.ToString();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
  }
  EXPECT_EQ(ActiveCount("s"), 4);
}

TEST_F(FilterExpressionTest, RefusesOversizeExpressions) {
  std::string many = "{\"OR\": [";
  for (size_t i = 0; i <= store::kMaxFilterConditions; ++i) {
    many += (i ? ",{\"tags\": \"t" : "{\"tags\": \"t") + std::to_string(i) + "\"}";
  }
  many += "]}";
  EXPECT_EQ(ListError(many).code(), StatusCode::kTooLarge);
  std::string deep = R"({"kind": "fact"})";
  for (int i = 0; i <= store::kMaxFilterDepth; ++i) deep = "{\"NOT\": " + deep + "}";
  EXPECT_EQ(ListError(deep).code(), StatusCode::kTooLarge);
  std::string list = "{\"user_id\": {\"in\": [";
  for (size_t i = 0; i <= store::kMaxFilterValues; ++i)
    list += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  list += "]}}";
  EXPECT_EQ(ListError(list).code(), StatusCode::kTooLarge);
  // Within the limits: one short of each passes.
  std::string depth_ok = R"({"kind": "fact"})";
  for (int i = 0; i < store::kMaxFilterDepth; ++i) depth_ok = "{\"NOT\": " + depth_ok + "}";
  EXPECT_TRUE(ListError(depth_ok).ok()) << ListError(depth_ok).ToString();
}

TEST(FilterExpressionText, RoundTripsThroughJson) {
  const char* text =
      R"({"AND":[{"metadata.amount":{"gt":5}},{"OR":[{"tags":"*"},{"NOT":{"kind":{"in":["fact"]}}}]}]})";
  auto e = store::FilterExpression::Parse(text);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto again = store::FilterExpression::Parse(e->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), e->ToJson());
  store::SqlWhere w;
  again->AppendSql(&w);
  EXPECT_FALSE(w.cacheable);
  EXPECT_TRUE(store::FilterExpression::Parse("{}")->empty());
}

}  // namespace
}  // namespace mnemo::testing
