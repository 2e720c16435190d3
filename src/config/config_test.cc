#include "config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace mnemo::config {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("mnemo-config-" + std::to_string(std::random_device{}())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(dir_ + "/config.json") << text; }
  std::string dir_;
};

TEST_F(ConfigTest, DefaultsWithoutAFile) {
  auto c = Load(dir_, {}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)["embedding"]["provider"], "builtin");
  EXPECT_EQ((*c)["pipeline"]["window_turns"], PipelineOptions{}.window_turns);
  auto o = ToOptions(*c, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->chat_model, nullptr);
  EXPECT_EQ(o->embedder, nullptr);  // the engine's builtin
  EXPECT_TRUE(o->pipeline.enabled);
}

TEST_F(ConfigTest, PrecedenceFileThenEnvironmentThenSet) {
  Write(R"({"chat": {"base_url": "http://file/v1", "model": "file-model"},
            "pipeline": {"window_turns": 10, "daily_token_budget": 5}})");
  Environment env = {{"MNEMO_CHAT_MODEL", "env-model"}, {"MNEMO_PIPELINE_DAILY_TOKEN_BUDGET", "7"}};
  auto c = Load(dir_, {"pipeline.daily_token_budget=9"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)["chat"]["base_url"], "http://file/v1");  // file only
  EXPECT_EQ((*c)["chat"]["model"], "env-model");          // env over file
  EXPECT_EQ((*c)["pipeline"]["window_turns"], 10);        // file over default
  EXPECT_EQ((*c)["pipeline"]["daily_token_budget"], 9);   // --set over env
  auto o = ToOptions(*c, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_NE(o->chat_model, nullptr);
  EXPECT_EQ(o->chat_model->id(), "openai-compatible:env-model");
  EXPECT_EQ(o->pipeline.daily_token_budget, 9);
}

TEST_F(ConfigTest, PerSpaceOverridesInheritTheDataDirectoryPipeline) {
  Write(R"({"pipeline": {"window_turns": 12},
            "spaces": {"team": {"pipeline": {"enabled": false}}}})");
  auto c = Load(dir_, {"spaces.lab.pipeline.link_k=5"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto o = ToOptions(*c, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(o->space_pipeline.count("team"), 1u);
  EXPECT_FALSE(o->space_pipeline["team"].enabled);
  EXPECT_EQ(o->space_pipeline["team"].window_turns, 12);
  EXPECT_EQ(o->space_pipeline["lab"].link_k, 5);
  EXPECT_TRUE(o->pipeline.enabled);
}

TEST_F(ConfigTest, LifecycleSettingsAndTheirPerSpaceOverrides) {
  Write(R"({"lifecycle": {"half_life_days": 10, "ttl_ms": {"episode": 86400000}},
            "spaces": {"team": {"lifecycle": {"user_capacity": 50}}}})");
  auto c =
      Load(dir_,
           {"spaces.lab.lifecycle.ttl_ms.fact=3600000", "lifecycle.purge_expired_after_ms=-1"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)["lifecycle"]["working_capacity"], 20);  // defaults are filled in
  auto o = ToOptions(*c, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_DOUBLE_EQ(o->lifecycle.half_life_days, 10);
  EXPECT_EQ(o->lifecycle.ttl_ms.at(Kind::kEpisode), 86400000);
  EXPECT_EQ(o->lifecycle.ttl_ms.count(Kind::kFact), 0u);  // 0: none
  EXPECT_EQ(o->lifecycle.purge_expired_after_ms, -1);
  EXPECT_EQ(o->space_lifecycle["team"].user_capacity, 50);
  EXPECT_DOUBLE_EQ(o->space_lifecycle["team"].half_life_days, 10);  // inherited
  EXPECT_EQ(o->space_lifecycle["lab"].ttl_ms.at(Kind::kFact), 3600000);
  EXPECT_EQ(o->space_lifecycle["lab"].ttl_ms.at(Kind::kEpisode), 86400000);

  for (const char* bad :
       {"lifecycle.half_life_days=0", "lifecycle.ttl_ms.episode=-5", "lifecycle.demote_heat=9",
        "lifecycle.maintenance_interval_ms=1", "lifecycle.purge_expired_after_ms=-2"}) {
    auto r = Load(dir_, {bad}, {});
    ASSERT_FALSE(r.ok()) << bad;
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(r.status().message().find(key.substr(key.rfind('.') + 1)), std::string::npos)
        << r.status().ToString();
  }
  EXPECT_FALSE(Load(dir_, {"lifecycle.ttl_ms.memo=5"}, {}).ok());
}

TEST_F(ConfigTest, StorageSettingsReachTheOptions) {
  auto c = Load(dir_, {"storage.mmap_mb=0"}, {{"MNEMO_STORAGE_CACHE_MB", "128"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto o = ToOptions(*c, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->sqlite_mmap_bytes, 0);
  EXPECT_EQ(o->sqlite_cache_bytes, int64_t{128} << 20);
  auto d = Load(dir_, {}, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["storage"]["mmap_mb"], Options{}.sqlite_mmap_bytes >> 20);
  for (const char* bad : {"storage.mmap_mb=-1", "storage.cache_mb=0", "storage.cache_mb=1e9"}) {
    auto r = Load(dir_, {bad}, {});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string(bad).substr(0, std::string(bad).find('='))),
              std::string::npos)
        << r.status().ToString();
  }
}

TEST_F(ConfigTest, ErrorsNameTheSourceAndKey) {
  Write(R"({"pipeline": {"window_turn": 10}})");
  auto c = Load(dir_, {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("config.json"), std::string::npos);
  EXPECT_NE(c.status().message().find("pipeline.window_turn"), std::string::npos);

  Write(R"({"pipeline": {"window_turns": "ten"}})");
  c = Load(dir_, {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("must be an integer"), std::string::npos);

  Write("{not json");
  EXPECT_FALSE(Load(dir_, {}, {}).ok());

  std::filesystem::remove(dir_ + "/config.json");
  c = Load(dir_, {"pipeline.window_turns=0"}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("window_turns"), std::string::npos);
  c = Load(dir_, {"chat.modle=x"}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown configuration key chat.modle"), std::string::npos);
  c = Load(dir_, {"nonsense"}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("KEY=VALUE"), std::string::npos);
  c = Load(dir_, {"embedding.provider=magic"}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("builtin"), std::string::npos);
}

TEST_F(ConfigTest, SecretsAreReadFromTheNamedVariableAndNeverShown) {
  Write(R"({"chat": {"base_url": "http://127.0.0.1:9/v1", "model": "m",
                     "api_key_env": "MY_KEY"}})");
  Environment env = {{"MY_KEY", "sk-secret-value"}};
  auto c = Load(dir_, {}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string shown = Masked(*c, env).dump();
  EXPECT_EQ(shown.find("sk-secret-value"), std::string::npos);
  EXPECT_NE(shown.find("set (hidden)"), std::string::npos);
  EXPECT_NE(Masked(*c, {}).dump().find("not set"), std::string::npos);
}

// Audit finding (issue 17): credentials in a provider's base_url showed in config show.
TEST_F(ConfigTest, AuditCredentialsInBaseUrlAreNeverShown) {
  Write(R"({"chat": {"base_url": "http://bob:hunter2pw@127.0.0.1:9/v1?key=sekrit123",
                     "model": "m"}})");
  auto c = Load(dir_, {}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string shown = Masked(*c, {}).dump();
  EXPECT_EQ(shown.find("hunter2pw"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("sekrit123"), std::string::npos) << shown;
  EXPECT_NE(shown.find("http://[redacted]@127.0.0.1:9/v1?key=[redacted]"), std::string::npos)
      << shown;
}

TEST_F(ConfigTest, AnEmbeddingProviderNeedsItsDimensions) {
  auto c = Load(dir_,
                {"embedding.provider=openai", "embedding.base_url=http://127.0.0.1:9/v1",
                 "embedding.model=e"},
                {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto o = ToOptions(*c, {});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("dimensions"), std::string::npos);
  (*c)["embedding"]["dimensions"] = 64;
  o = ToOptions(*c, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->embedder->dimension(), 64);
}

}  // namespace
}  // namespace mnemo::config
