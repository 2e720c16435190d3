#include "write/injection.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "write/injection_patterns.h"

namespace mnemo::write {
namespace {

// ---- words ----------------------------------------------------------------------------

// A lower-cased word of the text, or "<addr>" for a URL or an e-mail address.
struct Word {
  std::string w;
  size_t begin = 0, end = 0;  // in the text
  uint32_t sentence = 0;
  bool line_start = false;  // the first word of its line (markers aside)
};

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The run of non-space bytes at `pos` is an address: a URL ("scheme://", "www.") or an
// e-mail address (local@domain.tld). Returns its end, or npos.
size_t AddressEnd(std::string_view t, size_t pos) {
  size_t end = pos;
  while (end < t.size() && !IsSpace(t[end]) && t[end] != '"' && t[end] != '\'' && t[end] != ')' &&
         t[end] != '>' && t[end] != ']' && t[end] != ',') {
    ++end;
  }
  const std::string_view run = t.substr(pos, end - pos);
  const size_t at = run.find('@');
  const bool url = run.find("://") != std::string_view::npos || run.substr(0, 4) == "www.";
  const bool mail = at != std::string_view::npos && at > 0 &&
                    run.find('.', at) != std::string_view::npos && run.size() - at > 3;
  if (!url && !mail) return std::string_view::npos;
  while (end > pos && (t[end - 1] == '.' || t[end - 1] == ';' || t[end - 1] == ':')) --end;
  return end;
}

// Two-word names in which an agent word names a person's job, not a model.
constexpr std::array<std::string_view, 16> kJobCompounds = {
    "manager",   "director",       "professor", "coach",    "editor", "principal",
    "secretary", "teacher",        "producer",  "engineer", "vice",   "general",
    "chief",     "superintendent", "dean",      "registrar"};

std::vector<Word> Words(std::string_view t) {
  std::vector<Word> out;
  uint32_t sentence = 0;
  bool line_start = true;
  for (size_t i = 0; i < t.size();) {
    const char c = t[i];
    if (c == '\n') {
      // A blank line ends a sentence; every line break starts a line.
      size_t j = i + 1;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r')) ++j;
      if (j < t.size() && t[j] == '\n') ++sentence;
      line_start = true;
      i = j;
      continue;
    }
    if ((c == '.' || c == '!' || c == '?' || c == ';') &&
        (i + 1 == t.size() || IsSpace(t[i + 1]) || t[i + 1] == '"')) {
      ++sentence;
      ++i;
      continue;
    }
    if (!IsWordByte(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    // An address starts at a word byte (a scheme, "www", a mailbox's first letter).
    if (const size_t end = AddressEnd(t, i); end != std::string_view::npos) {
      out.push_back({"<addr>", i, end, sentence, line_start});
      line_start = false;
      i = end;
      continue;
    }
    size_t end = i;
    std::string w;
    while (end < t.size()) {
      const char d = t[end];
      if (IsWordByte(static_cast<unsigned char>(d))) {
        w.push_back(Lower(d));
        ++end;
      } else if ((d == '\'' || d == '-') && end + 1 < t.size() &&
                 IsWordByte(static_cast<unsigned char>(t[end + 1]))) {
        w.push_back(d);
        ++end;
      } else if (d == '\xe2' && t.substr(end, 3) == "\xe2\x80\x99" && end + 3 < t.size() &&
                 IsWordByte(static_cast<unsigned char>(t[end + 3]))) {
        w.push_back('\'');  // a typographic apostrophe
        end += 3;
      } else {
        break;
      }
    }
    if (w == "u") w = "you";  // chat-speak
    if (w == "ur") w = "your";
    // French and Italian elision: "l'assistant" is "assistant".
    for (std::string_view e :
         {"l'", "d'", "qu'", "j'", "n'", "s'", "c'", "m'", "t'", "dell'", "all'"}) {
      if (w.size() > e.size() + 1 && w.starts_with(e)) {
        w.erase(0, e.size());
        break;
      }
    }
    // A dotfile (".env", ".ssh") keeps its dot: it names a file of secrets.
    if (i > 0 && t[i - 1] == '.' &&
        (i == 1 || IsSpace(t[i - 2]) || t[i - 2] == '/' || t[i - 2] == '~' || t[i - 2] == '`')) {
      w.insert(w.begin(), '.');
    }
    out.push_back({std::move(w), i, end, sentence, line_start});
    line_start = false;
    i = end;
  }
  // "assistant manager", "agent general": a person's job.
  for (size_t k = 0; k + 1 < out.size(); ++k) {
    if ((out[k].w == "assistant" || out[k].w == "agent") &&
        std::find(kJobCompounds.begin(), kJobCompounds.end(), out[k + 1].w) != kJobCompounds.end())
      out[k].w += "_job";
  }
  return out;
}

// ---- patterns (write/injection_patterns.h) ------------------------------------------

// Parsed slots: alternatives of words.
struct Alt {
  std::vector<std::string_view> words;
};
struct CompiledPattern {
  const Pattern* source;
  std::vector<std::vector<Alt>> slots;
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// A '|'-separated word list as a hash set (the lists start and end with '|').
class WordSet {
 public:
  explicit WordSet(std::string_view list) {
    for (std::string_view w : Split(list, '|')) words_.insert(w);
  }
  bool Has(std::string_view w) const { return words_.count(w) != 0; }

 private:
  std::unordered_set<std::string_view> words_;
};

const std::vector<CompiledPattern>& Compiled() {
  static const std::vector<CompiledPattern> kCompiled = [] {
    std::vector<CompiledPattern> out;
    for (const Pattern& p : InjectionPatterns()) {
      CompiledPattern c{&p, {}};
      for (const Slot& s : p.slots) {
        std::vector<Alt> alts;
        for (std::string_view a : Split(s.alts, '|')) alts.push_back({Split(a, ' ')});
        c.slots.push_back(std::move(alts));
      }
      out.push_back(std::move(c));
    }
    return out;
  }();
  return kCompiled;
}

// The patterns by the first word of their first slot: a text's word leads only to the
// patterns that can start there.
struct FirstWordIndex {
  std::unordered_map<std::string_view, std::vector<uint32_t>> by_word;
  std::vector<std::pair<std::string_view, uint32_t>> by_prefix;  // "instruct*"
};

const FirstWordIndex& FirstWords() {
  static const FirstWordIndex kIndex = [] {
    FirstWordIndex index;
    const auto& patterns = Compiled();
    for (uint32_t p = 0; p < patterns.size(); ++p) {
      for (const Alt& alt : patterns[p].slots[0]) {
        const std::string_view w = alt.words[0];
        if (!w.empty() && w.back() == '*') {
          index.by_prefix.emplace_back(w.substr(0, w.size() - 1), p);
        } else {
          auto& list = index.by_word[w];
          if (list.empty() || list.back() != p) list.push_back(p);
        }
      }
    }
    return index;
  }();
  return kIndex;
}

bool WordMatches(std::string_view pattern, const std::string& word) {
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return word.compare(0, prefix.size(), prefix) == 0;
  }
  return word == pattern;
}

// The end (one past) of `alt` matched at words[i], or 0.
size_t AltAt(const std::vector<Word>& words, size_t i, const Alt& alt) {
  if (i + alt.words.size() > words.size()) return 0;
  const uint32_t sentence = words[i].sentence;
  for (size_t k = 0; k < alt.words.size(); ++k) {
    const Word& w = words[i + k];
    if (w.sentence != sentence || !WordMatches(alt.words[k], w.w)) return 0;
  }
  return i + alt.words.size();
}

// Matches slots[s..] starting within [from, from + gap]; returns the end of the match or 0.
size_t MatchFrom(const std::vector<Word>& words, const CompiledPattern& p, size_t s, size_t from,
                 int gap, uint32_t sentence) {
  if (s == p.slots.size()) return from;
  for (size_t i = from; i < words.size() && i <= from + static_cast<size_t>(gap); ++i) {
    if (words[i].sentence != sentence) break;
    for (const Alt& alt : p.slots[s]) {
      const size_t end = AltAt(words, i, alt);
      if (end == 0) continue;
      const int next_gap = s + 1 < p.slots.size() ? p.source->slots[s + 1].gap : 0;
      const size_t done = MatchFrom(words, p, s + 1, end, next_gap, sentence);
      if (done != 0) return done;
    }
  }
  return 0;
}

// Every slot of `p` within words[from, to) (one sentence); returns the span's last word
// + 1, or 0, and sets *first to its first word.
size_t MatchAnyOrder(const std::vector<Word>& words, const CompiledPattern& p, size_t from,
                     size_t to, size_t* first) {
  size_t last = 0;
  *first = words.size();
  for (const auto& slot : p.slots) {
    size_t found = 0;
    for (size_t i = from; i < to && found == 0; ++i) {
      for (const Alt& alt : slot) {
        found = AltAt(words, i, alt);
        if (found != 0) {
          *first = std::min(*first, i);
          break;
        }
      }
    }
    if (found == 0) return 0;
    last = std::max(last, found);
  }
  return last;
}

struct Hit {
  std::string_view family;
  int weight = 0;
  size_t begin = 0, end = 0;  // byte span in the text
};

// ---- checks on the text itself ------------------------------------------------------------

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// Chat-template tokens and role markers no ordinary text contains.
std::optional<Hit> TemplateToken(const std::string& lower) {
  static constexpr std::array<std::string_view, 12> kTokens = {
      "<|im_start|>",  "<|im_end|>", "<|system|>",
      "<<sys>>",       "[inst]",     "[/inst]",
      "<|endoftext|>", "<|eot_id|>", "<|start_header_id|>",
      "</system>",     "<system>",   "[system message]"};
  for (std::string_view tok : kTokens) {
    const size_t at = lower.find(tok);
    if (at != std::string::npos) return Hit{"system role-play", 1, at, at + tok.size()};
  }
  return std::nullopt;
}

// A URL whose query leaves a value for the reader to fill in: empty ("?q=" followed by
// the data), a placeholder ({conversation}, [USER_DATA], <secret>, $VAR), or a name in
// capitals (?mem=ALL_STORED_MEMORIES). Weight 2 in an image (a markdown image or an
// <img src>, fetched as soon as the answer is shown: the data leaves without a click), or
// with words that say to fill it in; 1 otherwise.
std::optional<Hit> UrlExfiltration(std::string_view t) {
  static const WordSet kFill(
      "|append|appended|followed|fill|filled|insert|add|replace|substitute|encode|encoded|"
      "url-encoded|include|put|attach|");
  std::optional<Hit> best;
  for (size_t at = t.find("://"); at != std::string_view::npos; at = t.find("://", at + 3)) {
    size_t begin = at;
    while (begin > 0 && !IsSpace(t[begin - 1]) && t[begin - 1] != '(' && t[begin - 1] != '\'' &&
           t[begin - 1] != '"' && t[begin - 1] != '=' && t[begin - 1] != '<')
      --begin;
    size_t end = at;
    while (end < t.size() && !IsSpace(t[end]) && t[end] != ')' && t[end] != '\'' && t[end] != '"')
      ++end;
    const std::string_view url = t.substr(begin, end - begin);
    const size_t q = url.find('?');
    if (q == std::string_view::npos) continue;
    bool fill_in = url.find_first_of("{[<$", q) != std::string_view::npos;
    for (size_t eq = url.find('=', q); eq != std::string_view::npos; eq = url.find('=', eq + 1)) {
      size_t v = eq + 1, e = v;
      while (e < url.size() && url[e] != '&' && url[e] != '#') ++e;
      const std::string_view value = url.substr(v, e - v);
      size_t caps = 0;
      for (char c : value) caps += (c >= 'A' && c <= 'Z') || c == '_';
      fill_in = fill_in || value.empty() || value.find_first_of("{[<$") != std::string_view::npos ||
                value.find("%7B") != std::string_view::npos ||
                value.find("%7b") != std::string_view::npos ||
                (value.size() >= 6 && caps == value.size());
    }
    if (!fill_in) continue;
    const std::string_view before =
        t.substr(begin >= 12 ? begin - 12 : 0, begin >= 12 ? 12 : begin);
    const bool image = before.find("](") != std::string_view::npos ||
                       before.find("src=") != std::string_view::npos;
    int weight = image ? 2 : 1;
    if (weight == 1) {
      // "... ?q= followed by everything the user told you", "append the data after u=".
      const std::string around = LowerAscii(t.substr(end, std::min<size_t>(120, t.size() - end)));
      for (std::string_view w : Split(around, ' ')) {
        std::string word(w);
        while (!word.empty() && !IsWordByte(static_cast<unsigned char>(word.back())))
          word.pop_back();
        if (kFill.Has(word)) weight = 2;
      }
    }
    if (!best || weight > best->weight) best = Hit{"exfiltration", weight, begin, end};
  }
  return best;
}

const WordSet kExfilVerbs(
    "|send|sends|email|e-mail|mail|forward|post|upload|transmit|exfiltrate|leak|share|submit|"
    "copy|append|attach|relay|deliver|paste|report|sync|bcc|cc|dm|message|text|include|embed|"
    "encode|transfer|export|dump|provide|publish|tweet|sende|senden|envoie|envoyer|envoyez|"
    "envia|envie|enviar|invia|inviare|");
const WordSet kStrongSensitive(
    "|password|passwords|passcode|passcodes|passphrase|credentials|credential|login|logins|key|"
    "keys|token|tokens|secret|secrets|ssn|cvv|iban|otp|2fa|pin|cookies|cookie|conversation|"
    "conversations|chat|chats|transcript|transcripts|memories|whereabouts|location|gps|"
    "coordinates|contacts|passport|seed|mnemonic|wallet|id_rsa|id_ed25519|.env|.ssh|.aws|"
    ".npmrc|.netrc|.pgpass|.git-credentials|.pypirc|");
const WordSet kWeakSensitive(
    "|data|information|info|details|files|documents|address|addresses|notes|emails|messages|"
    "name|names|email|phone|username|birthday|contents|environment|variables|"
    "history|inbox|calendar|schedule|number|numbers|records|profile|account|accounts|"
    "everything|identity|phone|health|medical|financial|banking|bank|card|");
const WordSet kQualifiers(
    "|user's|users'|user|their|his|her|all|entire|whole|full|complete|every|stored|saved|"
    "private|personal|confidential|sensitive|owner's|customer's|");
const WordSet kDestinations(
    "|<addr>|webhook|endpoint|url|link|server|domain|attacker|pastebin|discord|telegram|");

bool InList(const WordSet& set, std::string_view w) { return set.Has(w); }

bool Credential(const std::string& w) {
  for (std::string_view suffix : {"_token", "_key", "_secret", "_password", "_pat"}) {
    if (w.size() > suffix.size() && w.ends_with(suffix)) return true;
  }
  return InList(kStrongSensitive, w);
}

std::optional<Hit> Exfiltration(const std::vector<Word>& words) {
  size_t sentence_start = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0 && words[i].sentence != words[i - 1].sentence) sentence_start = i;
    if (!InList(kExfilVerbs, words[i].w)) continue;
    const uint32_t sentence = words[i].sentence;
    bool sensitive = false, destination = false;
    for (size_t j = std::max(sentence_start, i >= 12 ? i - 12 : 0);
         j < words.size() && words[j].sentence == sentence && j <= i + 40; ++j) {
      if (j == i) continue;
      const std::string& w = words[j].w;
      if (Credential(w) && (j < 1 || words[j - 1].w != "your") &&
          (j < 2 || words[j - 2].w != "your"))
        sensitive = true;
      if (InList(kWeakSensitive, w) || InList(kStrongSensitive, w)) {
        for (size_t b = std::max(sentence_start, j >= 3 ? j - 3 : 0); b < j; ++b) {
          if (InList(kQualifiers, words[b].w)) sensitive = true;
        }
      }
      if (InList(kDestinations, w)) destination = true;
      if (sensitive && destination) return Hit{"exfiltration", 2, words[i].begin, words[j].end};
    }
  }
  return std::nullopt;
}

// A line that opens as a message of the system, the developer or an admin:
// "SYSTEM:", "[system]", "### System", "<admin>".
std::optional<Hit> RoleLine(const std::vector<Word>& words, std::string_view t) {
  for (const Word& w : words) {
    if (!w.line_start) continue;
    if (w.w != "system" && w.w != "developer" && w.w != "admin" && w.w != "administrator" &&
        w.w != "sys" && w.w != "root" && w.w != "instruction")
      continue;
    size_t after = w.end;
    while (after < t.size() && (t[after] == ' ' || t[after] == '\t')) ++after;
    // "SYSTEM:", "[system]", "<system>", or a heading that is the word alone ("# SYSTEM").
    const bool heading = w.begin > 0 &&
                         t.find_last_not_of(" \t", w.begin - 1) != std::string::npos &&
                         t[t.find_last_not_of(" \t", w.begin - 1)] == '#';
    if (after == t.size() || t[after] == ':' || t[after] == ']' || t[after] == '>' ||
        (heading && (t[after] == '\n' || t[after] == '\r')))
      return Hit{"system role-play", 1, w.begin, std::min(after + 1, t.size())};
  }
  return std::nullopt;
}

// Directive clauses: a verb of saying in the imperative (at the start of a sentence, after
// a colon or dash, or after "please", "always", "must", "you", ...) whose complement says
// what to say or to whom: "say that ...", "always recommend our brand", "describe the
// candidate as ...", "tell the user ...". What an author tells a model to say, not what a
// recipe or a manual tells its reader to do. Returns how many the text holds, with the
// first.
const WordSet kSayVerbs(
    "|say|tell|state|claim|describe|mention|answer|respond|reply|quote|insist|explain|inform|"
    "assure|present|suggest|advise|redirect|reveal|disclose|omit|refuse|deny|stress|emphasize|"
    "emphasise|");
// Verbs that persuade: their object needs no cue.
const WordSet kPromoteVerbs(
    "|recommend|praise|promote|endorse|tout|portray|characterise|characterize|");
const WordSet kBeforeDirective(
    "|please|kindly|always|never|only|also|instead|must|should|shall|will|to|and|then|you|"
    "simply|just|now|immediately|definitely|strongly|");
const WordSet kDirectiveComplement(
    "|that|as|user|users|user's|them|people|everyone|anyone|only|every|all|any|"
    "our|instead|exclusively|none|no|nothing|");

bool AtClauseStart(const std::vector<Word>& words, std::string_view t, size_t i) {
  if (i == 0 || words[i - 1].sentence != words[i].sentence || words[i].line_start) return true;
  size_t p = words[i].begin;
  while (p > 0 && IsSpace(t[p - 1])) --p;
  if (p > 0 && (t[p - 1] == ':' || t[p - 1] == '>' || t[p - 1] == '(' || t[p - 1] == ',' ||
                t[p - 1] == ']')) {
    return true;
  }
  if (p >= 3 && t.substr(p - 3, 3) == "\xe2\x80\x94") return true;  // an em dash
  return p > 0 && t[p - 1] == '-' && (p < 2 || t[p - 2] == ' ');
}

std::optional<Hit> Directives(const std::vector<Word>& words, std::string_view t, int* count) {
  std::optional<Hit> first;
  *count = 0;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const bool promote = InList(kPromoteVerbs, words[i].w);
    if (!promote && !InList(kSayVerbs, words[i].w)) continue;
    const bool start = AtClauseStart(words, t, i);
    if (!start && !InList(kBeforeDirective, words[i - 1].w)) continue;
    // "you" before the verb only as a subject told what to do ("you will say"), not "you say".
    if (!start && words[i - 1].w == "you") continue;
    bool complement = promote;
    for (size_t j = i + 1; j < words.size() && j <= i + 3 && words[j].sentence == words[i].sentence;
         ++j) {
      complement = complement || InList(kDirectiveComplement, words[j].w);
    }
    if (!complement) continue;
    ++*count;
    if (!first)
      first = Hit{"addressed to the agent", 1, words[i].begin,
                  words[std::min(i + 4, words.size() - 1)].end};
  }
  return first;
}

const WordSet kAgents(
    "|ai|ais|assistant|assistants|chatbot|chatbots|bot|bots|llm|llms|gpt|chatgpt|copilot|bard|"
    "gemini|claude|summarizer|summarizers|summariser|agent|agents|ki|ia|model|models|");

// A word naming an AI model or agent anywhere in the text ("model" and "agent" aside:
// too many other senses).
bool MentionsAnAgent(const std::vector<Word>& words) {
  for (const Word& w : words) {
    if (w.w != "model" && w.w != "models" && w.w != "agent" && InList(kAgents, w.w)) return true;
  }
  return false;
}

// Verbs an imperative clause starts with (the reader is told to act).
const WordSet kImperatives(
    "|approve|execute|run|call|delete|send|paste|read|fill|add|use|open|visit|cite|suggest|"
    "book|buy|purchase|pay|transfer|wire|update|change|set|enable|disable|grant|share|post|"
    "upload|forward|email|reply|respond|answer|say|tell|recommend|describe|remember|store|"
    "save|learn|commit|ignore|forget|disregard|comply|follow|obey|act|pretend|roleplay|"
    "imagine|switch|stay|stop|include|append|render|insert|replace|install|download|unlock|"
    "remove|drop|create|invite|accept|confirm|verify|sign|enter|type|copy|move|push|merge|"
    "deploy|print|output|display|show|list|translate|summarize|summarise|mention|praise|"
    "promote|rate|rank|refer|direct|redirect|escalate|flag|mark|reject|deny|refuse|cancel|"
    "subscribe|order|schedule|do|make|give|provide|write|treat|consider|begin|start|");

// An AI addressed as the reader: "Assistant, ...", "AI reviewer: ...", "Note for agents:
// ...", "AI coding assistants should ...". With an imperative in the next words, weight 2.
std::optional<Hit> AgentAddressed(const std::vector<Word>& words, std::string_view t) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (!InList(kAgents, words[i].w)) continue;
    // Where an address can begin: a clause, or after "the", "any", "dear", "for", ...
    static const WordSet kOpeners(
        "|the|any|all|every|each|our|your|dear|hey|hi|hello|attention|attn|for|to|automated|"
        "autonomous|ai|coding|browsing|");
    static const WordSet kAmbiguous("|model|models|agent|agents|");
    static const WordSet kModals("|should|must|shall|need|needs|are|will|have|may|can|");
    static const WordSet kAdverbs(
        "|please|kindly|now|then|just|simply|immediately|always|never|also|");
    const bool opening = AtClauseStart(words, t, i) || InList(kOpeners, words[i - 1].w);
    const bool ambiguous = InList(kAmbiguous, words[i].w);
    if (ambiguous && !opening) continue;
    // The address ends at ':' or ',' within the next three words, or the agent is the
    // subject of a modal ("assistants should", "the agent must").
    size_t end = 0;
    for (size_t j = i; j < words.size() && j <= i + 3 && words[j].sentence == words[i].sentence;
         ++j) {
      size_t p = words[j].end;
      while (p < t.size() && (t[p] == ' ' || t[p] == '\'' || t[p] == '"')) ++p;
      // "Assistant, ..." (the comma right after the name), "AI reviewer: ...".
      if (p < t.size() && (t[p] == ':' || (t[p] == ',' && j == i))) {
        end = j + 1;
        break;
      }
      if (opening && j + 1 < words.size() && j + 1 <= i + 3 && InList(kModals, words[j + 1].w) &&
          j + 2 < words.size() &&
          (InList(kImperatives, words[j + 2].w) || words[j + 2].w == "to" ||
           words[j + 2].w == "now" || words[j + 2].w == "always" || words[j + 2].w == "never")) {
        end = j + 2;
        break;
      }
    }
    if (end == 0) continue;
    Hit h{"addressed to the agent", 1, words[i].begin, words[end - 1].end};
    // "the assistant should forward ...", "the bot must include ...": an order already.
    static const WordSet kAgentActs(
        "|say|tell|state|claim|describe|mention|answer|respond|reply|quote|insist|recommend|"
        "include|append|add|send|forward|email|upload|post|share|paste|call|execute|run|use|cite|"
        "ignore|disregard|approve|book|buy|transfer|pay|delete|remember|store|save|refer|direct|"
        "redirect|always|never|only|now|praise|promote|suggest|reveal|disclose|omit|refuse|");
    if (end < words.size() && InList(kModals, words[end - 1].w) &&
        InList(kAgentActs, words[end].w)) {
      h.weight = 2;
      h.end = words[end].end;
      return h;
    }
    for (size_t k = end;
         k < words.size() && k <= end + 16 && words[k].sentence <= words[i].sentence + 1; ++k) {
      if (InList(kImperatives, words[k].w) &&
          (AtClauseStart(words, t, k) || InList(kAdverbs, words[k - 1].w))) {
        h.weight = 2;
        h.end = words[k].end;
        break;
      }
    }
    if (h.weight == 2) return h;
  }
  return std::nullopt;
}

// Signs in code and data: a function called by name ("call transfer_funds(...)"), a
// destructive command, a chat message of role system inside JSON, a memory operation.
void CodeSigns(const std::vector<Word>& words, std::string_view t, const std::string& lower,
               std::vector<Hit>* hits) {
  static const WordSet kCallVerbs("|call|invoke|run|execute|trigger|use|then|please|and|");
  for (size_t i = 0; i < words.size(); ++i) {
    const Word& w = words[i];
    const bool named = w.w.find('_') != std::string::npos || (w.begin > 0 && t[w.begin - 1] == '.');
    if (!named || w.end >= t.size() || t[w.end] != '(') continue;
    for (size_t b = i >= 3 ? i - 3 : 0; b < i; ++b) {
      if (InList(kCallVerbs, words[b].w)) {
        hits->push_back(Hit{"tool hijack", 1, words[b].begin, w.end});
        i = words.size();
        break;
      }
    }
  }
  static constexpr std::array<std::string_view, 14> kDestructive = {
      "chmod 777",       "rm -rf /",    "rm -rf ~",     "drop table",      "push --force",
      "powershell -enc", "/etc/passwd", "/etc/shadow",  "authorized_keys", "mkfs",
      "format c:",       "--no-verify", "requires_2fa", "disable 2fa"};
  for (std::string_view d : kDestructive) {
    if (const size_t at = lower.find(d); at != std::string::npos) {
      hits->push_back(Hit{"tool hijack", 1, at, at + d.size()});
      break;
    }
  }
  for (std::string_view role :
       {"\"role\": \"system\"", "\"role\":\"system\"", "'role': 'system'"}) {
    if (const size_t at = lower.find(role); at != std::string::npos) {
      hits->push_back(Hit{"system role-play", 1, at, at + role.size()});
      break;
    }
  }
  for (const Word& w : words) {
    if (w.w.find("memory") != std::string::npos && w.w.find('_') != std::string::npos) {
      hits->push_back(Hit{"memory manipulation", 1, w.begin, w.end});
      break;
    }
  }
}

// Quoted spans that a text mentions rather than uses: a quotation introduced as an example
// ("attackers write text like 'ignore previous instructions'", "the chorus 'forget the
// past, ignore the rules'"). A finding inside one does not count.
std::vector<std::pair<size_t, size_t>> MentionedQuotes(std::string_view t) {
  static constexpr std::array<std::string_view, 16> kCues = {
      "like",  "such as", "e.g.",   "example", "phrase", "sample", "string", "wrote",
      "write", "says",    "saying", "called",  "chorus", "lyric",  "quoted", "prompts"};
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < t.size(); ++i) {
    const char q = t[i];
    if (q != '\'' && q != '"') continue;
    // An opening quote follows a space or an opening bracket (not an apostrophe in a word).
    if (i > 0 && !IsSpace(t[i - 1]) && t[i - 1] != '(' && t[i - 1] != '[') continue;
    // A JSON value ("key": "value") is data, not a quotation.
    const size_t prev = i > 0 ? t.find_last_not_of(" \t", i - 1) : std::string_view::npos;
    if (prev != std::string_view::npos && t[prev] == ':') continue;
    size_t close = t.find(q, i + 1);
    while (close != std::string_view::npos && close + 1 < t.size() &&
           IsWordByte(static_cast<unsigned char>(t[close + 1]))) {
      close = t.find(q, close + 1);  // "it's" inside a quotation
    }
    if (close == std::string_view::npos || close - i > 300) continue;
    const std::string before = LowerAscii(t.substr(i >= 48 ? i - 48 : 0, i >= 48 ? 48 : i));
    bool cued = false;
    for (std::string_view cue : kCues) cued = cued || before.find(cue) != std::string::npos;
    if (cued) out.emplace_back(i, close);
    i = close;
  }
  return out;
}

std::string Excerpt(std::string_view t, size_t begin, size_t end) {
  end = std::min(end, t.size());
  if (end - begin > 80) {
    end = begin + 80;
    while (end > begin && (static_cast<unsigned char>(t[end]) & 0xC0) == 0x80) --end;
  }
  std::string out;
  for (char c : t.substr(begin, end - begin)) out.push_back(IsSpace(c) ? ' ' : c);
  return out;
}

}  // namespace

std::optional<InstructionFinding> FindInstructions(std::string_view text) {
  std::vector<Hit> hits;
  const std::string lower = LowerAscii(text);
  if (auto h = TemplateToken(lower)) hits.push_back(*h);
  if (auto h = UrlExfiltration(text)) hits.push_back(*h);
  const std::vector<Word> words = Words(text);
  if (auto h = Exfiltration(words)) hits.push_back(*h);
  if (auto h = RoleLine(words, text)) hits.push_back(*h);
  CodeSigns(words, text, lower, &hits);
  if (auto h = AgentAddressed(words, text)) hits.push_back(*h);
  int directives = 0;
  if (auto h = Directives(words, text, &directives)) {
    // In a text that speaks of an AI: instructions to a model (without, a script for
    // people, "tell the customer that ...", reads the same).
    if (MentionsAnAgent(words)) h->weight = 2;
    hits.push_back(*h);
  }
  const auto& patterns = Compiled();
  const FirstWordIndex& index = FirstWords();
  std::vector<bool> found(patterns.size(), false);  // each pattern counts once
  constexpr size_t kAnyOrderWindow = 40, kNever = ~size_t{0};
  std::vector<size_t> last_try(patterns.size(), kNever);
  std::vector<uint32_t> candidates;
  size_t sentence_start = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0 && words[i].sentence != words[i - 1].sentence) sentence_start = i;
    candidates.clear();
    if (auto it = index.by_word.find(words[i].w); it != index.by_word.end()) {
      candidates = it->second;
    }
    for (const auto& [prefix, p] : index.by_prefix) {
      if (words[i].w.starts_with(prefix)) candidates.push_back(p);
    }
    for (uint32_t pi : candidates) {
      if (found[pi]) continue;
      const CompiledPattern& p = patterns[pi];
      size_t first = i;
      // Any order: the words around the trigger, within its sentence (a "sentence" of
      // thousands of words is not one; this bounds the work).
      size_t from = std::max(sentence_start, i >= kAnyOrderWindow ? i - kAnyOrderWindow : 0);
      size_t to = i;
      while (to < words.size() && to < i + kAnyOrderWindow &&
             words[to].sentence == words[i].sentence)
        ++to;
      if (p.source->any_order) {
        if (last_try[pi] != kNever && i - last_try[pi] < kAnyOrderWindow / 2) continue;
        last_try[pi] = i;
      }
      const size_t end = p.source->any_order ? MatchAnyOrder(words, p, from, to, &first)
                                             : MatchFrom(words, p, 0, i, 0, words[i].sentence);
      if (end != 0) {
        found[pi] = true;
        hits.push_back(
            Hit{p.source->family, p.source->weight, words[first].begin, words[end - 1].end});
      }
    }
  }
  const auto quotes = MentionedQuotes(text);
  std::erase_if(hits, [&](const Hit& h) {
    for (const auto& [open, close] : quotes) {
      if (h.begin > open && h.end <= close + 1) return true;
    }
    return false;
  });
  int weight = 0;
  for (const Hit& h : hits) weight += h.weight;
  if (weight < 2) return std::nullopt;
  // The family with the most weight names the finding; among equals, the first in the
  // text. Its strongest hit is the excerpt.
  auto family_weight = [&](std::string_view family) {
    int w = 0;
    for (const Hit& h : hits) w += h.family == family ? h.weight : 0;
    return w;
  };
  const Hit* best = &hits[0];
  for (const Hit& h : hits) {
    const int a = family_weight(h.family), b = family_weight(best->family);
    if (a > b || (a == b && (h.weight > best->weight ||
                             (h.weight == best->weight && h.begin < best->begin)))) {
      best = &h;
    }
  }
  return InstructionFinding{std::string(best->family), Excerpt(text, best->begin, best->end)};
}

}  // namespace mnemo::write
