// Credentials inside URLs: a provider's base_url may carry a user and password
// ("http://user:pw@host/v1") or a key in its query string ("...?api-key=..."), and such a
// URL must never reach a message, a log line, a job's last_error or a shown configuration.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mnemo::util {

// `url` with its user info replaced by "[redacted]", each query value by "[redacted]"
// (names stay: "?api-key=[redacted]"), and a fragment dropped. Text that is not a URL
// with a scheme comes back with only its query and fragment treated so.
std::string RedactUrl(std::string_view url);

// The parts RedactUrl hides (user, password, query values), for scrubbing messages in
// which the provider may echo them; only those of at least 4 bytes.
std::vector<std::string> UrlSecrets(std::string_view url);

}  // namespace mnemo::util
