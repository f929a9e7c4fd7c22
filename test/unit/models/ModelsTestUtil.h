// Small helpers shared by the checkpoint-format tests (Config, Safetensors,
// Checkpoint): a fresh temporary directory and V4-Flash's layer layout.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlv4::modeltest {

/// A new, empty directory under gtest's temporary folder; `tag` names the
/// test file so leftovers can be told apart.
inline std::string makeTempDir(const std::string &tag) {
  std::string tmpl = ::testing::TempDir() + "tlv4" + tag + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp failed");
  return std::string(buf.data());
}

/// V4-Flash's `compress_ratios`: [0, 0] + [4, 128] * 20 + [4, 0] (43 layers
/// and the MTP layer).
inline std::vector<int> flashCompressRatios() {
  std::vector<int> ratios = {0, 0};
  for (int i = 0; i < 20; ++i) {
    ratios.push_back(4);
    ratios.push_back(128);
  }
  ratios.push_back(4);
  ratios.push_back(0);
  return ratios;
}

} // namespace tlv4::modeltest
