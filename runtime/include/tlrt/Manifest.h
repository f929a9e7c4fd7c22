// Manifest: the parsed, validated form of a kernel manifest (docs/abi.md,
// version 1). Loading checks every field; a malformed one throws Error
// "<file>: kernels[0].params[1].dtype: unknown dtype 'bf16' (...)".
#pragma once

#include "tlrt/DType.h"
#include "tlrt/ShapeExpr.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlrt {

enum class Target { SM90a, SM100a, CPU };
const char *targetName(Target t);
inline bool isGpuTarget(Target t) { return t != Target::CPU; }

// One entry of a tensor's "shape": an integer fixed at compile time, or an
// expression over dimension symbols (passed as an int64 at launch).
struct DimSpec {
  bool fixed = true;
  int64_t value = 0;             // when fixed
  std::optional<ShapeExpr> expr; // when not fixed
  std::string text() const;      // "4096" or the expression text
};

enum class ParamKind { Tensor, Scalar };

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::Tensor;
  DType dtype = DType::Float32;
  std::vector<DimSpec> shape; // tensors only
  int rank() const { return static_cast<int>(shape.size()); }
  // Number of non-fixed dimensions (each is an int64 parameter).
  int dynamicDims() const;
};

// A grid expression (JSON form, docs/abi.md).
struct GridExpr {
  enum Kind { Const, Dim, Scalar, Add, Sub, Mul, FloorDiv, CeilDiv, Rem, Max, Min };
  Kind kind = Const;
  int64_t value = 0; // Const
  int param = 0;     // Dim, Scalar
  int dim = 0;       // Dim
  std::shared_ptr<const GridExpr> lhs, rhs;
  std::string str() const; // readable form, for messages
};

enum class Swizzle { None, B32, B64, B128 };
const char *swizzleName(Swizzle s);

struct TmaSpec {
  int param = 0;
  DType dtype = DType::Float32;
  std::vector<int64_t> box; // tensor dimension order, outermost first
  Swizzle swizzle = Swizzle::None;
  // float4_e2m1 only: 16 packed values per 16 bytes of shared memory
  // (CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B), the layout tcgen05 reads.
  bool unpackFP4 = false;
};

struct KernelSpec {
  std::string name;
  std::string entry;
  std::map<std::string, int64_t> constants;     // integer and bool constants
  std::map<std::string, double> floatConstants; // the others
  std::vector<ParamSpec> params;
  std::array<int64_t, 3> threads{1, 1, 1};
  std::array<GridExpr, 3> grid;
  std::array<int64_t, 3> cluster{1, 1, 1};
  int64_t sharedBytes = 0;
  // Persistent kernel: launched with min(grid blocks, SMs) blocks along x,
  // each looping over the logical grid (docs/abi.md).
  bool persistent = false;
  std::vector<TmaSpec> tma;
  // Where each dimension symbol is first bound: symbol -> (param, dim).
  std::map<std::string, std::pair<int, int>> symbolSites;

  int paramIndex(const std::string &name) const; // -1 when absent
  bool hasCluster() const { return cluster[0] * cluster[1] * cluster[2] != 1; }
};

struct Manifest {
  std::string path;      // the manifest file ("<string>" when parsed from text)
  std::string directory; // directory of `path`; the module is relative to it
  int version = 1;
  Target target = Target::CPU;
  std::string module;     // as written
  std::string modulePath; // directory + module
  std::string source;
  std::vector<KernelSpec> kernels;
  // "sequence": kernel names, launched in this order by
  // Module::launchSequence (a multi-kernel operator); empty when absent.
  std::vector<std::string> sequence;

  // Reads and validates a manifest file.
  static Manifest load(const std::string &path);
  // Validates manifest JSON text; `path` names it in messages and gives the
  // directory the module is relative to.
  static Manifest parse(const std::string &jsonText, const std::string &path);

  const KernelSpec *findKernel(const std::string &name) const;
};

} // namespace tlrt
