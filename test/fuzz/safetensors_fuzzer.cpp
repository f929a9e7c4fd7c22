// safetensors_fuzzer: libFuzzer target for the safetensors header parser.
// Feeds the input buffer through SafetensorsFile::fromBuffer (the same code
// path as mmapped files); a clean std::runtime_error is the expected outcome
// for bad input, anything else (crash, sanitizer report, other exception)
// is a bug. Parsed tensors are read end to end so out-of-bounds offsets
// would trip AddressSanitizer.
#include "tlv4/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    tlv4::SafetensorsFile file =
        tlv4::SafetensorsFile::fromBuffer(data, size, "<fuzz>");
    unsigned sum = 0;
    for (const tlv4::SafetensorsTensor &t : file.tensors()) {
      const uint8_t *p = file.data(t);
      for (uint64_t i = 0; i < t.byteSize(); ++i)
        sum += p[i];
      (void)t.numElements();
      (void)t.logicalShape();
    }
    volatile unsigned sink = sum;
    (void)sink;
  } catch (const std::runtime_error &) {
  }
  return 0;
}
