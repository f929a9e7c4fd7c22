// config_fuzzer: libFuzzer target for tlv4::Config::fromJsonText. Any input
// must either parse into a config that passes validate() and round-trips
// through toJson(), or throw std::runtime_error; anything else is a bug.
#include "tlv4/Config.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    tlv4::Config c = tlv4::Config::fromJsonText(text, "<fuzz>");
    for (int64_t l = 0; l < c.numLayersWithMtp(); ++l)
      (void)c.layerKind(l);
    (void)c.summary();
    tlv4::Config again = tlv4::Config::fromJsonText(c.toJson(), "<again>");
    if (again.toJson() != c.toJson())
      std::abort(); // serialisation must round-trip
  } catch (const std::runtime_error &) {
  }
  return 0;
}
