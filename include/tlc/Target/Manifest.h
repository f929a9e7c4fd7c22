// The kernel manifest of docs/abi.md, built from a tl kernel function before
// any target lowering. Target independent: the CPU and GPU back ends share it.
#ifndef TLC_TARGET_MANIFEST_H
#define TLC_TARGET_MANIFEST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tlc {

/// One `tma` entry of a kernel (a tensor map appended to the parameters).
struct ManifestTma {
  int64_t param = 0;             // index into params
  std::string dtype;             // language dtype name
  std::vector<int64_t> box;      // outermost dimension first, in elements
  std::string swizzle = "none";  // none | 32B | 64B | 128B
};

struct KernelManifestOptions {
  /// Exported symbol / PTX .entry; the kernel's name when empty.
  std::string entry;
  /// Parameter names, one per function argument (from the .tl source). When
  /// empty, a NameLoc on the argument or "argN" is used.
  std::vector<std::string> paramNames;
  std::vector<ManifestTma> tma;
};

/// The language dtype name of a tl element type ("bfloat16", "ue8m0", ...),
/// or "" for a type with no .tl name.
std::string manifestDtypeName(mlir::Type type);

/// The manifest's kernel object for one tl kernel (`tl.kernel` func.func
/// holding its tl.launch). Errors (a grid that is not an expression over
/// dimensions and integer scalars, an unnamed dtype) are emitted at the
/// offending op and give failure().
mlir::FailureOr<llvm::json::Object> buildKernelManifest(mlir::func::FuncOp kernel,
                                                        const KernelManifestOptions &options = {});

/// The whole manifest document (pretty-printed JSON, trailing newline).
std::string renderManifest(llvm::StringRef target, llvm::StringRef module,
                           llvm::StringRef source, std::vector<llvm::json::Object> kernels);

/// Where the manifest of a code file goes: "dir/k.so" -> "dir/k.manifest.json".
std::string manifestPathFor(llvm::StringRef codePath);

} // namespace tlc

#endif // TLC_TARGET_MANIFEST_H
