// Error: the one exception type libtlrt throws. Its message is complete and
// meant for the user: it names the file and field (manifest), the kernel and
// parameter (arguments), or the CUDA error name and kernel (driver calls).
#pragma once

#include <stdexcept>
#include <string>

namespace tlrt {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace tlrt
