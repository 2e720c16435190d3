// Credentials in memory text: found at write, kept out of the text every face shows, the
// indexes and what a model provider is sent (docs/security.md, "Secrets").
//
// What counts as a secret (each a span of the text):
//   - API tokens by their published shapes: GitHub (ghp_, gho_, ghu_, ghs_, ghr_,
//     github_pat_), OpenAI / Anthropic (sk-..., sk-proj-..., sk-ant-...), Stripe
//     (sk_live_, rk_live_), AWS access key ids (AKIA..., ASIA...), Slack (xox?-...),
//     Google API keys (AIza...), JSON web tokens (eyJ...x.y), mnemo's own keys;
//   - PEM private keys (-----BEGIN ... PRIVATE KEY----- through its END line);
//   - a value introduced as one: "password is ...", "passcode: ...", "PIN 4471",
//     "api key = ...", "token is ...", "secret: ..." (the keyword stays, the value goes);
//   - payment card numbers: 13-19 digits (spaces or dashes between groups) with a card
//     network's prefix that pass the Luhn check.
// Each becomes "[secret N: KIND]" (N counts from 1 in the text), e.g. "my github token is
// [secret 1: github token]".
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mnemo::write {

struct HiddenSecret {
  std::string kind;   // "github token", "password", "card number", ...
  std::string value;  // the text it replaced
};

struct MaskedText {
  std::string text;                   // the input with each secret replaced
  std::vector<HiddenSecret> secrets;  // in order: secret N is secrets[N-1]
};

MaskedText MaskSecrets(std::string_view text);

// The text with each "[secret N: KIND]" placeholder of `secrets` put back.
std::string RevealSecrets(std::string_view masked, const std::vector<HiddenSecret>& secrets);

}  // namespace mnemo::write
