#include "text/fts5_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "text/analyzer.h"

namespace mnemo::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

class Fts5TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
    db_.reset(raw);
    ASSERT_TRUE(RegisterFts5Tokenizer(db_.get()).ok());
  }

  int Exec(const std::string& sql) {
    return sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr);
  }

  void CreateTable(const std::vector<std::string>& docs) {
    ASSERT_EQ(Exec("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='mnemo')"), SQLITE_OK)
        << sqlite3_errmsg(db_.get());
    for (const std::string& doc : docs) {
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(
          sqlite3_prepare_v2(db_.get(), "INSERT INTO t(text) VALUES (?1)", -1, &stmt, nullptr),
          SQLITE_OK);
      sqlite3_bind_text(stmt, 1, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_finalize(stmt);
    }
  }

  // The first column of every row of `sql`, with `arg` bound to ?1 when given.
  std::vector<std::string> Column(const std::string& sql, const std::string& arg = "") {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_.get()) << " in " << sql;
      return out;
    }
    if (!arg.empty()) sqlite3_bind_text(stmt, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out.emplace_back(text == nullptr ? "" : text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  std::vector<std::string> Match(const std::string& query) {
    return Column("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", query);
  }

  fts5_api* Api() {
    fts5_api* api = nullptr;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT fts5(?1)", -1, &stmt, nullptr), SQLITE_OK);
    sqlite3_bind_pointer(stmt, 1, &api, "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return api;
  }

  Db db_;
};

TEST_F(Fts5TokenizerTest, RejectsNullConnection) {
  EXPECT_EQ(RegisterFts5Tokenizer(nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(Fts5TokenizerTest, StemmedQueryTermsMatchInflectedForms) {
  CreateTable({"The runners were running quickly", "She runs every morning", "Cats sleep all day"});
  EXPECT_THAT(Match("\"run\""), ElementsAre("1", "2"));
  EXPECT_THAT(Match("\"runner\""), ElementsAre("1"));
  EXPECT_THAT(Match("\"cat\" \"sleep\""), ElementsAre("3"));
  // Query text is lower-cased but not stemmed: the caller passes terms.
  EXPECT_THAT(Match("\"RUN\""), ElementsAre("1", "2"));
  EXPECT_THAT(Match("\"running\""), IsEmpty());
}

TEST_F(Fts5TokenizerTest, QueriesBuiltFromTermsFindTheirDocuments) {
  CreateTable({"Caroline's support group met on Tuesday", "Melanie painted a sunset"});
  std::string query;
  for (const std::string& term : Terms("caroline supported")) query += "\"" + term + "\" ";
  EXPECT_THAT(Match(query), ElementsAre("1"));
}

TEST_F(Fts5TokenizerTest, StopWordsAreNotIndexed) {
  CreateTable({"The cat is on the mat", "Where is it?"});
  ASSERT_EQ(Exec("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')"), SQLITE_OK);
  EXPECT_THAT(Column("SELECT term FROM v ORDER BY term"), ElementsAre("cat", "mat"));
  EXPECT_THAT(Match("\"the\""), IsEmpty());
}

TEST_F(Fts5TokenizerTest, Bm25RanksDenserMatchesFirst) {
  CreateTable({"We went hiking once", "Hiking, hikers and hikes: hiking every weekend",
               "Nothing related here at all"});
  EXPECT_THAT(Column("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t)", "\"hike\""),
              ElementsAre("2", "1"));
}

TEST_F(Fts5TokenizerTest, PrefixQueriesWork) {
  CreateTable({"runner", "running", "rugby"});
  EXPECT_THAT(Match("\"run\"*"), ElementsAre("1", "2"));
  EXPECT_THAT(Match("ru*"), ElementsAre("1", "2", "3"));
}

TEST_F(Fts5TokenizerTest, OffsetsDriveHighlight) {
  CreateTable({"The runners were running, École\u2019s"});
  EXPECT_THAT(Column("SELECT highlight(t, 0, '[', ']') FROM t WHERE t MATCH ?1",
                     "\"runner\" OR \"run\" OR \"" + Stem("école") + "\""),
              ElementsAre("The [runners] were [running], [École]\u2019s"));
}

TEST_F(Fts5TokenizerTest, NonAsciiTermsAreSearchable) {
  CreateTable({"Une ÉCOLE à Zürich", "東京タワー"});
  EXPECT_THAT(Match("\"" + Stem("école") + "\""), ElementsAre("1"));
  EXPECT_THAT(Match("\"ZÜRICH\""), ElementsAre("1"));
  EXPECT_THAT(Match("\"東京\""), ElementsAre("2"));  // a phrase of two unigrams
}

TEST_F(Fts5TokenizerTest, RefusesTokenizerArguments) {
  EXPECT_NE(Exec("CREATE VIRTUAL TABLE u USING fts5(text, tokenize='mnemo porter')"), SQLITE_OK);
}

struct Collected {
  std::vector<std::string> tokens;
  int fail_after = -1;  // return an error once this many tokens were taken
};

int Collect(void* ctx, int /*tflags*/, const char* token, int len, int /*begin*/, int /*end*/) {
  auto* c = static_cast<Collected*>(ctx);
  if (c->fail_after >= 0 && static_cast<int>(c->tokens.size()) >= c->fail_after) {
    return SQLITE_NOMEM;
  }
  c->tokens.emplace_back(token, static_cast<size_t>(len));
  return SQLITE_OK;
}

TEST_F(Fts5TokenizerTest, ModesAndErrorPropagationThroughTheRawApi) {
  fts5_api* api = Api();
  ASSERT_NE(api, nullptr);
  void* context = nullptr;
  fts5_tokenizer tok{};
  ASSERT_EQ(api->xFindTokenizer(api, "mnemo", &context, &tok), SQLITE_OK);
  Fts5Tokenizer* handle = nullptr;
  ASSERT_EQ(tok.xCreate(context, nullptr, 0, &handle), SQLITE_OK);

  const std::string text = "The Runners' RUNNING";
  Collected doc;
  EXPECT_EQ(tok.xTokenize(handle, &doc, FTS5_TOKENIZE_DOCUMENT, text.data(),
                          static_cast<int>(text.size()), Collect),
            SQLITE_OK);
  EXPECT_THAT(doc.tokens, ElementsAre("runner", "run"));

  Collected query;
  EXPECT_EQ(tok.xTokenize(handle, &query, FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX, text.data(),
                          static_cast<int>(text.size()), Collect),
            SQLITE_OK);
  EXPECT_THAT(query.tokens, ElementsAre("the", "runners", "running"));

  Collected failing;
  failing.fail_after = 1;
  EXPECT_EQ(tok.xTokenize(handle, &failing, FTS5_TOKENIZE_DOCUMENT, text.data(),
                          static_cast<int>(text.size()), Collect),
            SQLITE_NOMEM);
  EXPECT_THAT(failing.tokens, ElementsAre("runner"));

  Collected empty;
  EXPECT_EQ(tok.xTokenize(handle, &empty, FTS5_TOKENIZE_AUX, "", 0, Collect), SQLITE_OK);
  EXPECT_THAT(empty.tokens, IsEmpty());
  tok.xDelete(handle);
}

}  // namespace
}  // namespace mnemo::text
