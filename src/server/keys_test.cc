#include "server/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "engine/engine_test_util.h"
#include "server/rate_limiter.h"

namespace mnemo::server {
namespace {

namespace fs = std::filesystem;

using mnemo::testing::FakeClock;

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (fs::temp_directory_path() /
            ("mnemo-keys-test-" + std::to_string(rd()) + std::to_string(rd())))
               .string();
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<KeyStore> OpenStore() {
    auto s = KeyStore::Open(dir_, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string KeysPath() const { return dir_ + "/keys.json"; }
  std::string ReadKeysFile() const {
    std::ifstream in(KeysPath(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void WriteKeysFile(const std::string& text) const {
    std::ofstream out(KeysPath(), std::ios::binary | std::ios::trunc);
    out << text;
  }
  static Grants G(std::initializer_list<std::pair<const std::string, Role>> g) { return Grants(g); }

  std::string dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(1700000000000);
};

TEST_F(KeysTest, EmptyDirectoryHasNoKeys) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->HasKeys());
  EXPECT_FALSE(store->Configured());
  EXPECT_TRUE(store->List().empty());
  EXPECT_FALSE(store->Authenticate("mnemo_00000000_" + std::string(64, '0')));
  EXPECT_TRUE(store->MaybeReload().ok());
  EXPECT_FALSE(fs::exists(KeysPath())) << "opening must not create the file";
}

TEST_F(KeysTest, OpenMissingDirectoryIsFailedPrecondition) {
  auto s = KeyStore::Open(dir_ + "/nope", clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("init"), std::string::npos) << s.status().message();
}

TEST_F(KeysTest, CreateAuthenticateRevoke) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto key = store->Create("ci bot", G({{"notes", Role::kWrite}, {"*", Role::kRead}}));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(std::regex_match(key->secret, std::regex("mnemo_[0-9a-f]{8}_[0-9a-f]{64}")))
      << key->secret;
  EXPECT_EQ(key->secret.substr(6, 8), key->info.id);
  EXPECT_EQ(key->info.name, "ci bot");
  EXPECT_EQ(key->info.created_at, clock_->NowMillis());
  EXPECT_FALSE(key->info.revoked_at);
  EXPECT_TRUE(store->HasKeys());
  EXPECT_TRUE(store->Configured());

  auto p = store->Authenticate(key->secret);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->key_id, key->info.id);
  EXPECT_FALSE(p->unrestricted);
  EXPECT_EQ(p->RoleFor("notes"), Role::kWrite);
  EXPECT_EQ(p->RoleFor("other"), Role::kRead);

  // Near misses fail: one changed character, truncated, extended, other prefix.
  std::string wrong = key->secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(store->Authenticate(wrong));
  EXPECT_FALSE(store->Authenticate(key->secret.substr(0, key->secret.size() - 1)));
  EXPECT_FALSE(store->Authenticate(key->secret + "0"));
  EXPECT_FALSE(store->Authenticate("x" + key->secret.substr(1)));
  EXPECT_FALSE(store->Authenticate(""));

  // A second key is independent.
  auto other = store->Create("reader", G({{"notes", Role::kRead}}));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->info.id, key->info.id);
  EXPECT_NE(other->secret, key->secret);
  auto q = store->Authenticate(other->secret);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->RoleFor("notes"), Role::kRead);
  EXPECT_EQ(q->RoleFor("other"), Role::kNone);

  clock_->Advance(5000);
  auto revoked = store->Revoke(key->info.id);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  ASSERT_TRUE(revoked->revoked_at);
  EXPECT_EQ(*revoked->revoked_at, clock_->NowMillis());
  EXPECT_FALSE(store->Authenticate(key->secret));
  EXPECT_TRUE(store->Authenticate(other->secret));
  EXPECT_TRUE(store->HasKeys());

  // Revoking twice keeps the first time.
  clock_->Advance(5000);
  auto again = store->Revoke(key->info.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->revoked_at, *revoked->revoked_at);

  ASSERT_TRUE(store->Revoke(other->info.id).ok());
  EXPECT_FALSE(store->HasKeys());
  EXPECT_TRUE(store->Configured()) << "a file of revoked keys is still a configuration";

  auto unknown = store->Revoke("deadbeef");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("deadbeef"), std::string::npos);
}

TEST_F(KeysTest, ListAndReopenKeepEveryField) {
  TimeMs revoked_time = 0;
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Create("first", G({{"a", Role::kAdmin}})).ok());
    clock_->Advance(1234);
    auto second = store->Create("zweite Schlüssel", G({{"*", Role::kWrite}, {"b.c", Role::kRead}}));
    ASSERT_TRUE(second.ok());
    clock_->Advance(1);
    ASSERT_TRUE(store->Revoke(second->info.id).ok());
    revoked_time = clock_->NowMillis();
  }
  auto store = OpenStore();
  const auto keys = store->List();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "first");
  EXPECT_EQ(keys[0].created_at, 1700000000000);
  EXPECT_FALSE(keys[0].revoked_at);
  EXPECT_EQ(keys[0].grants, G({{"a", Role::kAdmin}}));
  EXPECT_EQ(keys[1].name, "zweite Schlüssel");
  EXPECT_EQ(keys[1].created_at, 1700000001234);
  ASSERT_TRUE(keys[1].revoked_at);
  EXPECT_EQ(*keys[1].revoked_at, revoked_time);
  EXPECT_EQ(keys[1].grants, G({{"*", Role::kWrite}, {"b.c", Role::kRead}}));
}

// An end-user key carries its user through the file and into the principal; a key
// without one covers every user (and writes no "user" field, as before).
TEST_F(KeysTest, EndUserKeyKeepsItsUser) {
  std::string bound_secret, open_secret;
  {
    auto store = OpenStore();
    auto bound = store->Create("alice's app", G({{"a", Role::kWrite}}), "alice");
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    EXPECT_EQ(bound->info.user, "alice");
    bound_secret = bound->secret;
    auto open = store->Create("ops", G({{"*", Role::kAdmin}}));
    ASSERT_TRUE(open.ok());
    open_secret = open->secret;
    for (const std::string& bad :
         {std::string(257, 'u'), std::string("a\nb"), std::string("\xff")}) {
      auto refused = store->Create("x", G({{"a", Role::kRead}}), bad);
      ASSERT_FALSE(refused.ok());
      EXPECT_EQ(refused.status().field(), "user") << refused.status().ToString();
    }
    EXPECT_EQ(store->List().size(), 2u);
  }
  const std::string file = ReadKeysFile();
  EXPECT_EQ(file.find("\"user\""), file.rfind("\"user\"")) << "one key has a user: " << file;
  auto store = OpenStore();
  EXPECT_EQ(store->List()[0].user, "alice");
  EXPECT_EQ(store->List()[1].user, "");
  auto p = store->Authenticate(bound_secret);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->RoleFor("a"), Role::kWrite);
  EXPECT_EQ(store->Authenticate(open_secret)->user, "");
}

// Reset forgets revoked keys once none is active: the directory is keyless again.
TEST_F(KeysTest, ResetAfterTheLastRevokeReturnsToNoKeys) {
  auto store = OpenStore();
  auto a = store->Create("a", G({{"*", Role::kAdmin}}));
  auto b = store->Create("b", G({{"s", Role::kRead}}));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(store->Revoke(a->info.id).ok());
  auto refused = store->Reset();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(b->info.id), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(store->List().size(), 2u);
  ASSERT_TRUE(store->Revoke(b->info.id).ok());
  EXPECT_TRUE(store->Configured()) << "revoked keys keep a server closed until reset";
  auto forgotten = store->Reset();
  ASSERT_TRUE(forgotten.ok()) << forgotten.status().ToString();
  EXPECT_EQ(*forgotten, 2u);
  EXPECT_FALSE(store->Configured());
  EXPECT_FALSE(store->Authenticate(a->secret));
  // Another process (a server) sees the reset at its next reload.
  auto other = OpenStore();
  EXPECT_FALSE(other->Configured());
  EXPECT_TRUE(store->Create("again", G({{"s", Role::kRead}})).ok());
  clock_->Advance(2000);
  ASSERT_TRUE(other->MaybeReload().ok());
  EXPECT_TRUE(other->Configured());
}

TEST_F(KeysTest, FileHoldsOnlyTheHashAndIsPrivate) {
  auto store = OpenStore();
  auto key = store->Create("k", G({{"s", Role::kRead}}));
  ASSERT_TRUE(key.ok());
  const std::string text = ReadKeysFile();
  EXPECT_EQ(text.find(key->secret), std::string::npos) << "the secret must never be stored";
  // Not even the random part on its own.
  EXPECT_EQ(text.find(key->secret.substr(15)), std::string::npos);
  EXPECT_NE(text.find("\"hash\""), std::string::npos);
  EXPECT_NE(text.find("\"format\": \"mnemo-keys\""), std::string::npos) << text;
  EXPECT_NE(text.find(key->info.id), std::string::npos);

  struct stat st;
  ASSERT_EQ(::stat(KeysPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/keys.lock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(KeysPath() + ".tmp"));

  // A rewrite keeps the mode even when the file was made readable by others.
  ASSERT_EQ(::chmod(KeysPath().c_str(), 0644), 0);
  ASSERT_TRUE(store->Revoke(key->info.id).ok());
  ASSERT_EQ(::stat(KeysPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(KeysTest, ReloadSeesOtherWritersAfterOneSecond) {
  auto server = OpenStore();
  auto cli = OpenStore();
  auto key = cli->Create("k", G({{"s", Role::kWrite}}));
  ASSERT_TRUE(key.ok());

  // Throttled: within the second, the file is not even looked at.
  EXPECT_TRUE(server->MaybeReload().ok());
  EXPECT_FALSE(server->Authenticate(key->secret));
  EXPECT_FALSE(server->HasKeys());

  clock_->Advance(1000);
  EXPECT_TRUE(server->MaybeReload().ok());
  EXPECT_TRUE(server->Authenticate(key->secret));
  EXPECT_TRUE(server->HasKeys());

  ASSERT_TRUE(cli->Revoke(key->info.id).ok());
  clock_->Advance(999);
  EXPECT_TRUE(server->MaybeReload().ok());
  EXPECT_TRUE(server->Authenticate(key->secret)) << "checked at most once per second";
  clock_->Advance(1);
  EXPECT_TRUE(server->MaybeReload().ok());
  EXPECT_FALSE(server->Authenticate(key->secret)) << "revocation takes effect";

  // The writer starts from the file, not from its own stale view.
  auto second = server->Create("second", G({{"s", Role::kRead}}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(server->List().size(), 2u);
  auto third = cli->Create("third", G({{"s", Role::kRead}}));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(cli->List().size(), 3u);
}

TEST_F(KeysTest, FailedReloadKeepsPreviousKeys) {
  auto server = OpenStore();
  auto key = server->Create("k", G({{"s", Role::kWrite}}));
  ASSERT_TRUE(key.ok());
  const std::string good = ReadKeysFile();

  WriteKeysFile("{ not json");
  clock_->Advance(1000);
  Status s = server->MaybeReload();
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("keys.json"), std::string::npos) << s.message();
  EXPECT_TRUE(server->Authenticate(key->secret)) << "a bad reload keeps the loaded keys";
  // A writer refuses to overwrite a file it cannot read.
  auto refused = server->Create("x", G({{"s", Role::kRead}}));
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);

  // Removing the file does not open the server either.
  fs::remove(KeysPath());
  clock_->Advance(1000);
  s = server->MaybeReload();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("removed"), std::string::npos) << s.message();
  EXPECT_TRUE(server->HasKeys());
  EXPECT_TRUE(server->Authenticate(key->secret));

  WriteKeysFile(good);
  clock_->Advance(1000);
  EXPECT_TRUE(server->MaybeReload().ok());
  EXPECT_TRUE(server->Authenticate(key->secret));
}

TEST_F(KeysTest, MalformedFileIsCorruptionNamingTheProblem) {
  const std::string hash(64, 'a');
  auto record = [&](const std::string& fields) {
    return R"({"format":"mnemo-keys","version":1,"keys":[{)" + fields + "}]}";
  };
  const std::string good_fields = R"("id":"0011aabb","name":"n","hash":")" + hash +
                                  R"(","created_at":"2024-01-01T00:00:00Z","revoked_at":null,)"
                                  R"("grants":{"s":"read"})";
  WriteKeysFile(record(good_fields));
  {
    auto ok = KeyStore::Open(dir_, clock_);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ((*ok)->List().size(), 1u);
  }
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string f = good_fields;
    const size_t at = f.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return record(f.replace(at, from.size(), to));
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "malformed JSON"},
      {"[]", "JSON object"},
      {"{ \"format\": \"mnemo-keys\", \"version\": 1, ", "malformed JSON"},
      {R"({"format":"other","version":1,"keys":[]})", "format"},
      {R"({"format":"mnemo-keys","version":2,"keys":[]})", "version 2"},
      {R"({"format":"mnemo-keys","version":1,"keys":{}})", "\"keys\""},
      {R"({"format":"mnemo-keys","version":1,"keys":[],"extra":1})", "extra"},
      {R"({"format":"mnemo-keys","version":1,"keys":[1]})", "key 1"},
      {replace(R"("id":"0011aabb")", R"("id":"0011AABB")"), "\"id\""},
      {replace(R"("id":"0011aabb")", R"("id":7)"), "\"id\""},
      {replace(R"("hash":")" + hash, R"("hash":")" + hash.substr(1)), "\"hash\""},
      {replace(R"("created_at":"2024-01-01T00:00:00Z")", R"("created_at":"yesterday")"),
       "created_at"},
      {replace(R"("revoked_at":null)", R"("revoked_at":5)"), "revoked_at"},
      {replace(R"("grants":{"s":"read"})", R"("grants":{})"), "at least one grant"},
      {replace(R"("grants":{"s":"read"})", R"("grants":{"s":"owner"})"), "\"s\""},
      {replace(R"("grants":{"s":"read"})", R"("grants":{"../x":"read"})"), "../x"},
      {replace(R"("name":"n",)", ""), "missing field \"name\""},
      {replace(R"("name":"n")", R"("name":"n","extra":true)"), "unknown field \"extra\""},
      {replace(R"("name":"n")", R"("name":"n","user":"")"), "\"user\""},
      {replace(R"("name":"n")", R"("name":"n","user":7)"), "\"user\""},
      {R"({"format":"mnemo-keys","version":1,"keys":[{)" + good_fields + "},{" + good_fields +
           "}]}",
       "duplicate id"},
  };
  for (const auto& [text, needle] : cases) {
    SCOPED_TRACE(text);
    WriteKeysFile(text);
    auto s = KeyStore::Open(dir_, clock_);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kCorruption) << s.status().ToString();
    EXPECT_NE(s.status().message().find(needle), std::string::npos) << s.status().message();
    EXPECT_NE(s.status().message().find("keys.json"), std::string::npos) << s.status().message();
  }
}

TEST_F(KeysTest, GrantsAndNamesAreValidated) {
  EXPECT_TRUE(ValidateGrants(G({{"notes", Role::kRead}})).ok());
  EXPECT_TRUE(ValidateGrants(G({{"*", Role::kAdmin}, {std::string(64, 'x'), Role::kWrite}})).ok());
  EXPECT_TRUE(ValidateGrants(G({{"A-b_c.9", Role::kRead}})).ok());
  for (const std::string bad : {"", ".hidden", "a/b", "has space", "**", "naïve"}) {
    SCOPED_TRACE(bad);
    Status s = ValidateGrants(G({{bad, Role::kRead}}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(ValidateGrants(G({{std::string(65, 'x'), Role::kRead}})).ok());
  EXPECT_FALSE(ValidateGrants(G({{"s", Role::kNone}})).ok());
  EXPECT_FALSE(ValidateGrants({}).ok());

  Grants g;
  EXPECT_TRUE(ParseGrant("notes:write", &g).ok());
  EXPECT_TRUE(ParseGrant("*:read", &g).ok());
  EXPECT_EQ(g, G({{"notes", Role::kWrite}, {"*", Role::kRead}}));
  EXPECT_EQ(GrantsToString(g), "*:read,notes:write");
  for (const char* bad : {"notes", "notes:", ":read", "notes:owner", "no/pe:read", "notes:READ"}) {
    SCOPED_TRACE(bad);
    Grants h;
    Status s = ParseGrant(bad, &h);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_TRUE(h.empty());
  }
  Status dup = ParseGrant("notes:read", &g);
  EXPECT_EQ(dup.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dup.message().find("twice"), std::string::npos);

  auto store = OpenStore();
  EXPECT_EQ(store->Create("k", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create("", G({{"s", Role::kRead}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create(std::string(101, 'n'), G({{"s", Role::kRead}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create("tab\there", G({{"s", Role::kRead}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create("bad\xff", G({{"s", Role::kRead}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(KeysPath())) << "rejected creates write nothing";
}

TEST_F(KeysTest, BearerToken) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(BearerToken("  Bearer\tabc"), "abc");
  EXPECT_FALSE(BearerToken("Bearer"));
  EXPECT_FALSE(BearerToken("Bearer "));
  EXPECT_FALSE(BearerToken("Bearerabc"));
  EXPECT_FALSE(BearerToken("Basic abc"));
  EXPECT_FALSE(BearerToken("Bearer a b"));
  EXPECT_FALSE(BearerToken(""));
}

TEST_F(KeysTest, ConcurrentAuthenticateDuringReloads) {
  auto server = OpenStore();
  auto cli = OpenStore();
  auto key = cli->Create("k", G({{"s", Role::kRead}}));
  ASSERT_TRUE(key.ok());
  clock_->Advance(1000);
  ASSERT_TRUE(server->MaybeReload().ok());
  std::string wrong = key->secret;
  wrong[20] = wrong[20] == 'a' ? 'b' : 'a';

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3000; ++i) {
        if (!server->Authenticate(key->secret)) ++failures;
        if (server->Authenticate(wrong)) ++failures;
        if (!server->MaybeReload().ok()) ++failures;
      }
    });
  }
  // Meanwhile another writer keeps adding keys, and time moves so reloads happen.
  std::thread writer([&] {
    for (int i = 0; i < 20 && !stop; ++i) {
      if (!cli->Create("more" + std::to_string(i), G({{"s", Role::kRead}})).ok()) ++failures;
      clock_->Advance(1000);
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  clock_->Advance(1000);
  ASSERT_TRUE(server->MaybeReload().ok());
  EXPECT_EQ(server->List().size(), cli->List().size());
}

TEST_F(KeysTest, ConcurrentWritersLoseNoKey) {
  constexpr int kWriters = 4, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Separate stores: separate flock descriptions, like separate processes.
      auto store = KeyStore::Open(dir_, clock_);
      if (!store.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        auto k = (*store)->Create("w" + std::to_string(w) + "-" + std::to_string(i),
                                  G({{"s", Role::kRead}}));
        if (!k.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto store = OpenStore();
  EXPECT_EQ(store->List().size(), size_t{kWriters * kEach});
}

// --- RateLimiter ---------------------------------------------------------------------

TEST(RateLimiterTest, BurstThenRefill) {
  auto clock = std::make_shared<FakeClock>(1000);
  RateLimiter rl(10, 5, clock);  // 10/s: one token per 100 ms
  int64_t retry = -1;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(rl.Acquire("k", &retry)) << i;
    EXPECT_EQ(retry, 0);
  }
  EXPECT_FALSE(rl.Acquire("k", &retry));
  EXPECT_EQ(retry, 100);
  clock->Advance(40);
  EXPECT_FALSE(rl.Acquire("k", &retry));
  EXPECT_EQ(retry, 60);
  clock->Advance(60);
  EXPECT_TRUE(rl.Acquire("k", &retry));
  EXPECT_FALSE(rl.Acquire("k", &retry));
  // A long idle period refills up to the burst, not beyond.
  clock->Advance(60'000);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl.Acquire("k", nullptr)) << i;
  EXPECT_FALSE(rl.Acquire("k", nullptr));
}

TEST(RateLimiterTest, KeysAreIndependent) {
  auto clock = std::make_shared<FakeClock>(0);
  RateLimiter rl(1, 2, clock);
  EXPECT_TRUE(rl.Acquire("a", nullptr));
  EXPECT_TRUE(rl.Acquire("a", nullptr));
  EXPECT_FALSE(rl.Acquire("a", nullptr));
  EXPECT_TRUE(rl.Acquire("b", nullptr));
  EXPECT_TRUE(rl.Acquire("b", nullptr));
  int64_t retry = 0;
  EXPECT_FALSE(rl.Acquire("b", &retry));
  EXPECT_EQ(retry, 1000);
  EXPECT_EQ(rl.TrackedKeys(), 2u);
}

TEST(RateLimiterTest, SlowRateRetryAfterRoundsUp) {
  auto clock = std::make_shared<FakeClock>(0);
  RateLimiter rl(0.3, 1, clock);  // one token every 3333.3 ms
  EXPECT_TRUE(rl.Acquire("k", nullptr));
  int64_t retry = 0;
  EXPECT_FALSE(rl.Acquire("k", &retry));
  EXPECT_EQ(retry, 3334);
  clock->Advance(3333);
  EXPECT_FALSE(rl.Acquire("k", &retry));
  EXPECT_EQ(retry, 1);
  clock->Advance(1);
  EXPECT_TRUE(rl.Acquire("k", &retry));
}

TEST(RateLimiterTest, ZeroRateIsUnlimited) {
  auto clock = std::make_shared<FakeClock>(0);
  RateLimiter rl(0, 0, clock);
  EXPECT_TRUE(rl.unlimited());
  int64_t retry = -1;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(rl.Acquire("k", &retry));
  EXPECT_EQ(retry, 0);
  EXPECT_EQ(rl.TrackedKeys(), 0u);
}

TEST(RateLimiterTest, BurstBelowOneStillAdmits) {
  auto clock = std::make_shared<FakeClock>(0);
  RateLimiter rl(5, 0, clock);
  EXPECT_TRUE(rl.Acquire("k", nullptr));
  EXPECT_FALSE(rl.Acquire("k", nullptr));
  clock->Advance(200);
  EXPECT_TRUE(rl.Acquire("k", nullptr));
}

TEST(RateLimiterTest, ClockGoingBackRefillsNothing) {
  auto clock = std::make_shared<FakeClock>(10'000);
  RateLimiter rl(1, 1, clock);
  EXPECT_TRUE(rl.Acquire("k", nullptr));
  clock->Advance(-5000);
  EXPECT_FALSE(rl.Acquire("k", nullptr));
  clock->Advance(5000);
  EXPECT_FALSE(rl.Acquire("k", nullptr));
  clock->Advance(1000);
  EXPECT_TRUE(rl.Acquire("k", nullptr));
}

TEST(RateLimiterTest, MemoryIsBounded) {
  auto clock = std::make_shared<FakeClock>(0);
  constexpr size_t kMax = 256;
  RateLimiter rl(1, 3, clock, kMax);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(rl.Acquire("key-" + std::to_string(i), nullptr)) << "new keys start full";
    clock->Advance(10);
  }
  EXPECT_LE(rl.TrackedKeys(), kMax);
  EXPECT_GE(rl.TrackedKeys(), kMax / 2) << "eviction must not empty the table";

  // A key in active use survives a flood of idle keys: it stays recently used.
  RateLimiter hot(1, 2, clock, kMax);
  EXPECT_TRUE(hot.Acquire("hot", nullptr));
  EXPECT_TRUE(hot.Acquire("hot", nullptr));
  for (int i = 0; i < 10000; ++i) {
    hot.Acquire("cold-" + std::to_string(i), nullptr);
    if (i % 8 == 0) {
      EXPECT_FALSE(hot.Acquire("hot", nullptr)) << i;
    }
  }
  EXPECT_LE(hot.TrackedKeys(), kMax);
}

TEST(RateLimiterTest, ConcurrentAcquireGrantsExactlyTheBurst) {
  auto clock = std::make_shared<FakeClock>(0);  // frozen: no refill
  RateLimiter rl(1, 1000, clock);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (rl.Acquire("shared", nullptr)) ++granted;
        rl.Acquire("own-" + std::to_string(t), nullptr);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_EQ(rl.TrackedKeys(), 9u);
}

}  // namespace
}  // namespace mnemo::server
