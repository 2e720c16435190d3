#include "eval/scratch_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "util/fs.h"

namespace mnemo::eval {

Result<std::unique_ptr<ScratchDir>> ScratchDir::Create(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string pattern = base + "/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Status::IOError("cannot create a temporary directory " + pattern + ": " +
                           std::strerror(errno) + " (set TMPDIR to a writable directory)");
  }
  return std::unique_ptr<ScratchDir>(new ScratchDir(buf.data()));
}

ScratchDir::~ScratchDir() {
  // Nothing to report to at this point: a leftover directory under $TMPDIR is harmless.
  (void)util::RemoveAll(path_);
}

}  // namespace mnemo::eval
