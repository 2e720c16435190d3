// Memory poisoning: text from a low-trust origin that reads as instructions to the agent
// (docs/security.md, "Trust and quarantine").
//
// An agent stores tool results and web pages as memories; an attacker plants text that,
// once recalled into the agent's prompt, tells it what to do (AgentPoison, MINJA,
// indirect prompt injection). FindInstructions() looks for the published families of
// such text, each a phrase shape rather than a fixed string:
//   - override: "ignore all previous instructions", "disregard your guidelines", "your new
//     task is", "new instructions:";
//   - system role-play: chat-template tokens (<|im_start|>, [INST], <<SYS>>), "IMPORTANT
//     SYSTEM NOTE", a line opened as "SYSTEM:" / "[system]" that gives orders;
//   - addressed to the agent: "note to the AI", "if you are an AI assistant", "AI agents
//     reading this", "assistant, when the user asks ... always recommend", "from now on
//     you will";
//   - exfiltration: send / email / post / upload the user's data (passwords, keys,
//     history, location, contacts, ...) to an address or a URL; a markdown image whose
//     URL carries a placeholder for data;
//   - covert action: "without telling the user", "do not inform the user", "silently";
//   - memory manipulation: "remember that the user's bank is ...", "store this as a fact",
//     "update your memory";
//   - jailbreak personas: "you are now DAN", "act as an unrestricted model".
// Ordinary imperatives (recipes, install steps, "send your CV to jobs@..."), text about
// assistants, and "forget"/"ignore"/"remember" in their everyday senses do not match.
// Measured on a labelled set (tests/data/poisoning/, docs/benchmarks.md).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mnemo::write {

struct InstructionFinding {
  std::string family;   // "override", "system role-play", "exfiltration", ...
  std::string excerpt;  // the words that matched, as written (at most ~80 bytes)
};

// The first family found in `text`, or nullopt. Linear in the text's length.
std::optional<InstructionFinding> FindInstructions(std::string_view text);

}  // namespace mnemo::write
