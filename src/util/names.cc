// String names of the public enums. These names are part of the storage and wire
// formats: never rename one, only add.
#include <array>
#include <string>

#include "mnemo/engine.h"
#include "mnemo/memory.h"

namespace mnemo {
namespace {

template <typename E, size_t N>
Result<E> ParseName(std::string_view name, const std::array<std::string_view, N>& names,
                    std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  std::string valid;
  for (size_t i = 0; i < N; ++i) {
    if (i) valid += ", ";
    valid += names[i];
  }
  return Status::InvalidArgument("unknown " + std::string(what) + " \"" + std::string(name) +
                                 "\" (valid: " + valid + ")");
}

constexpr std::array<std::string_view, 5> kKinds = {"episode", "fact", "preference", "procedure",
                                                    "summary"};
constexpr std::array<std::string_view, 6> kOrigins = {"user",   "assistant", "tool",
                                                      "import", "derived",   "web"};
constexpr std::array<std::string_view, kLabelCount> kLabels = {
    "health",  "sexuality", "religion", "politics",   "ethnicity",
    "finance", "location",  "identity", "credentials"};
constexpr std::array<std::string_view, 3> kTrusts = {"low", "medium", "high"};
constexpr std::array<std::string_view, 3> kQuarantineFilters = {"exclude", "include", "only"};
constexpr std::array<std::string_view, 4> kTiers = {"working", "short_term", "long_term",
                                                    "archived"};
constexpr std::array<std::string_view, 2> kStates = {"active", "retired"};
constexpr std::array<std::string_view, 4> kJobKinds = {"extract", "embed", "reembed", "summarize"};
constexpr std::array<std::string_view, 3> kJobStates = {"pending", "done", "dead"};
constexpr std::array<std::string_view, 4> kOps = {"add", "update", "remove", "purge"};
constexpr std::array<std::string_view, 5> kLinks = {"derived_from", "supersedes", "related",
                                                    "same_entity", "next"};

}  // namespace

std::string_view KindName(Kind k) { return kKinds[static_cast<size_t>(k)]; }
std::string_view OriginName(Origin o) { return kOrigins[static_cast<size_t>(o)]; }
std::string_view LabelName(Label l) { return kLabels[static_cast<size_t>(l)]; }
Result<Label> ParseLabel(std::string_view n) { return ParseName<Label>(n, kLabels, "label"); }
std::vector<std::string> LabelNames(LabelSet labels) {
  std::vector<std::string> out;
  for (int i = 0; i < kLabelCount; ++i) {
    if (labels & (LabelSet{1} << i)) out.emplace_back(kLabels[static_cast<size_t>(i)]);
  }
  return out;
}
Result<LabelSet> ParseLabels(const std::vector<std::string>& names) {
  LabelSet out = 0;
  for (const auto& n : names) {
    MNEMO_ASSIGN_OR_RETURN(Label l, ParseLabel(n));
    out |= LabelBit(l);
  }
  return out;
}
std::string_view TrustName(Trust t) { return kTrusts[static_cast<size_t>(t)]; }
Trust TrustOf(Origin o) {
  switch (o) {
    case Origin::kUser:
    case Origin::kDerived:
      return Trust::kHigh;
    case Origin::kAssistant:
    case Origin::kImport:
      return Trust::kMedium;
    case Origin::kTool:
    case Origin::kWeb:
      return Trust::kLow;
  }
  return Trust::kLow;
}
std::string_view QuarantineFilterName(QuarantineFilter q) {
  return kQuarantineFilters[static_cast<size_t>(q)];
}
Result<QuarantineFilter> ParseQuarantineFilter(std::string_view n) {
  return ParseName<QuarantineFilter>(n, kQuarantineFilters, "quarantined value");
}
std::string_view TierName(Tier t) { return kTiers[static_cast<size_t>(t)]; }
std::string_view StateName(State s) { return kStates[static_cast<size_t>(s)]; }
std::string_view HistoryOpName(HistoryOp op) { return kOps[static_cast<size_t>(op)]; }
std::string_view LinkTypeName(LinkType t) { return kLinks[static_cast<size_t>(t)]; }

Result<Kind> ParseKind(std::string_view n) { return ParseName<Kind>(n, kKinds, "kind"); }
Result<Origin> ParseOrigin(std::string_view n) { return ParseName<Origin>(n, kOrigins, "origin"); }
Result<Tier> ParseTier(std::string_view n) { return ParseName<Tier>(n, kTiers, "tier"); }
Result<State> ParseState(std::string_view n) { return ParseName<State>(n, kStates, "state"); }
std::string_view JobKindName(JobKind k) { return kJobKinds[static_cast<size_t>(k)]; }
std::string_view JobStateName(JobState s) { return kJobStates[static_cast<size_t>(s)]; }
Result<JobState> ParseJobState(std::string_view n) {
  return ParseName<JobState>(n, kJobStates, "job state");
}
Result<HistoryOp> ParseHistoryOp(std::string_view n) {
  return ParseName<HistoryOp>(n, kOps, "history op");
}
Result<LinkType> ParseLinkType(std::string_view n) {
  return ParseName<LinkType>(n, kLinks, "link type");
}

}  // namespace mnemo
