// The web UI (src/server/ui/: HTML, CSS and JavaScript modules), compiled into the
// binary at build time and served by `mnemo serve` at /ui/ (docs/ui.md). Nothing is
// fetched at run time.
#pragma once

#include <string_view>

namespace mnemo::server {

struct UiFile {
  std::string_view name;          // "index.html", "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// The file called `name`, or null.
const UiFile* FindUiFile(std::string_view name);

}  // namespace mnemo::server
