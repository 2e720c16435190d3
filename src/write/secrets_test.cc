// Secrets found at write (write/secrets.h): what is masked, what is left alone, and the
// way back.
#include "write/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mnemo::write {
namespace {

TEST(SecretsTest, MasksCredentialsByTheirShapes) {
  const std::string gh = "ghp_" + std::string(36, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"my github token is " + gh + ".", "my github token is [secret 1: github token]."},
      {"use sk-proj-abcdefghijklmnopqrstuvwx123 for that", "use [secret 1: openai key] for that"},
      {"key sk-ant-api03-abcdefghijklmnopqrstuv", "key [secret 1: anthropic key]"},
      {"aws AKIAIOSFODNN7EXAMPLE ok", "aws [secret 1: aws access key] ok"},
      {"jwt "
       "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
       "XgL0n3I9PlFUP0THsR8U",
       "jwt [secret 1: json web token]"},
      {"my password is hunter2!", "my password is [secret 1: password]!"},
      {"Password: 'c0rrect horse'", "Password: '[secret 1: password] horse'"},
      {"the door PIN 4471, thanks", "the door PIN [secret 1: pin], thanks"},
      {"api key = AbCdEf123456", "api key = [secret 1: api key]"},
      {"card 4111 1111 1111 1111 expires soon", "card [secret 1: card number] expires soon"},
      {"amex 3782-822463-10005", "amex [secret 1: card number]"},
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nafter",
       "[secret 1: private key]\nafter"},
      {"two: password is abc123 and pin is 9876",
       "two: password is [secret 1: password] and pin is [secret 2: pin]"},
  };
  for (const auto& [in, want] : cases) {
    const MaskedText m = MaskSecrets(in);
    EXPECT_EQ(m.text, want) << in;
    EXPECT_EQ(RevealSecrets(m.text, m.secrets), in) << in;
    for (const HiddenSecret& s : m.secrets) {
      EXPECT_EQ(m.text.find(s.value), std::string::npos) << in;
    }
  }
}

TEST(SecretsTest, LeavesOrdinaryTextAlone) {
  for (const std::string text : {
           "Maya moved to Lisbon in 2024 for a new job",
           "the secret is out and everyone knows",       // prose, not a credential
           "a task-force meeting on 2024-05-08",         // sk- inside a word, a date
           "memory 7359143412473856 was superseded",     // an id, no card prefix
           "card 4111 1111 1111 1112 has a typo",        // fails Luhn
           "I spin 1234 times; the token economy grew",  // spin, token without a value
           "my pin is 12",                               // too short for a PIN
           "call me at +1 555 123 4567",
       }) {
    const MaskedText m = MaskSecrets(text);
    EXPECT_EQ(m.text, text);
    EXPECT_TRUE(m.secrets.empty()) << text;
  }
}

}  // namespace
}  // namespace mnemo::write
