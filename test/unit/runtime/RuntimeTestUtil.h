// Helpers shared by the runtime tests: temporary directories, writing
// files, and checking that a call throws tlrt::Error with an exact message.
#pragma once

#include "tlrt/Error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace tlrt_test {

// A fresh directory under $TMPDIR, removed at destruction.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tlrt-test-XXXXXX";
    char *p = mkdtemp(tmpl.data());
    if (p)
      path_ = p;
  }
  ~TempDir() {
    if (!path_.empty())
      std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  std::string write(const std::string &name, const std::string &text) const {
    std::ofstream out(file(name), std::ios::binary);
    out << text;
    return file(name);
  }
  void copyFrom(const std::string &src, const std::string &name) const {
    std::ifstream in(src, std::ios::binary);
    std::ofstream out(file(name), std::ios::binary);
    out << in.rdbuf();
  }

private:
  std::string path_;
};

// The message of the tlrt::Error `f` throws ("<no error>" if none).
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const tlrt::Error &e) {
    return e.what();
  }
  return "<no error>";
}

} // namespace tlrt_test
