#include "util/url.h"

namespace mnemo::util {
namespace {

constexpr std::string_view kRedacted = "[redacted]";
constexpr size_t kMinSecretBytes = 4;

struct UrlParts {
  std::string_view head;      // scheme:// (or "")
  std::string_view userinfo;  // before '@' in the authority (or "")
  std::string_view rest;      // host, port and path
  std::string_view query;     // after '?', without it (or "")
  bool has_query = false;
  bool has_fragment = false;
};

UrlParts Split(std::string_view url) {
  UrlParts p;
  if (size_t hash = url.find('#'); hash != std::string_view::npos) {
    url = url.substr(0, hash);
    p.has_fragment = true;
  }
  if (size_t q = url.find('?'); q != std::string_view::npos) {
    p.query = url.substr(q + 1);
    p.has_query = true;
    url = url.substr(0, q);
  }
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    p.head = url.substr(0, scheme + 3);
    url = url.substr(scheme + 3);
    const size_t slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
      p.userinfo = authority.substr(0, at);
      url = url.substr(at + 1);
    }
  }
  p.rest = url;
  return p;
}

template <typename Fn>
void ForEachQueryValue(std::string_view query, Fn fn) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    fn(eq == std::string_view::npos ? std::string_view() : pair.substr(0, eq),
       eq == std::string_view::npos ? pair : pair.substr(eq + 1), eq != std::string_view::npos);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const UrlParts p = Split(url);
  std::string out(p.head);
  if (!p.userinfo.empty()) out.append(kRedacted).append("@");
  out.append(p.rest);
  if (p.has_query) {
    out += '?';
    bool first = true;
    ForEachQueryValue(p.query, [&](std::string_view name, std::string_view value, bool named) {
      if (!first) out += '&';
      first = false;
      if (named) {
        out.append(name).append("=");
        if (!value.empty()) out.append(kRedacted);
      } else if (!value.empty()) {
        out.append(kRedacted);
      }
    });
  }
  if (p.has_fragment) out.append("#").append(kRedacted);
  return out;
}

std::vector<std::string> UrlSecrets(std::string_view url) {
  const UrlParts p = Split(url);
  std::vector<std::string> out;
  auto keep = [&](std::string_view s) {
    if (s.size() >= kMinSecretBytes) out.emplace_back(s);
  };
  if (size_t colon = p.userinfo.find(':'); colon != std::string_view::npos) {
    keep(p.userinfo.substr(0, colon));
    keep(p.userinfo.substr(colon + 1));
  } else {
    keep(p.userinfo);
  }
  ForEachQueryValue(p.query, [&](std::string_view, std::string_view value, bool) { keep(value); });
  return out;
}

}  // namespace mnemo::util
