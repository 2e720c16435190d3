// A fresh temporary directory (mkdtemp under $TMPDIR, else /tmp), removed with
// everything in it when the object is destroyed. `mnemo eval` builds its throwaway
// data directory in one, so an evaluation never touches the user's memories.
//
// Thread safety: not shared; one owner.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "mnemo/status.h"

namespace mnemo::eval {

class ScratchDir {
 public:
  // `prefix` becomes the start of the directory name, e.g. "mnemo-eval-".
  static Result<std::unique_ptr<ScratchDir>> Create(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace mnemo::eval
