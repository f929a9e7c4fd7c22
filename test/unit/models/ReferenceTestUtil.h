// ReferenceTestUtil: a random tiny DeepSeek-V4 checkpoint written once per
// test process in the official format (through the ckpt API) and the
// reference model loaded from it, shared by the Reference*/Generate tests.
#pragma once

#include "tlv4/Config.h"
#include "tlv4/ReferenceModel.h"
#include "tlv4/TinyCheckpoint.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace tlv4::reftest {

// A temporary directory removed when the test process exits.
class TempDir {
public:
  TempDir() {
    const char *tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tlv4-reference-XXXXXX";
    if (!mkdtemp(path_.data()))
      throw std::runtime_error("cannot create a temporary directory");
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

// Directory of the shared tiny checkpoint (seed 7, 2 shards).
inline const std::string &tinyCheckpointDir() {
  static const TempDir dir;
  static const bool written = [] {
    writeTinyCheckpoint(Config::tiny(), dir.path(), /*seed=*/7, /*numShards=*/2);
    return true;
  }();
  (void)written;
  return dir.path();
}

inline const ref::ReferenceModel &tinyModel() {
  static const std::unique_ptr<ref::ReferenceModel> model =
      ref::ReferenceModel::fromCheckpoint(tinyCheckpointDir());
  return *model;
}

} // namespace tlv4::reftest
