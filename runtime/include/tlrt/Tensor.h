// Tensor: a non-owning view of a dense, row-major tensor (docs/abi.md):
// base pointer, element type, shape in elements, and where it lives.
#pragma once

#include "tlrt/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tlrt {

enum class Place { Host, Device };
inline const char *placeName(Place p) { return p == Place::Host ? "host" : "device"; }

struct Tensor {
  void *data = nullptr;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  Place place = Place::Host;

  Tensor() = default;
  Tensor(void *data, DType dtype, std::vector<int64_t> shape, Place place = Place::Host)
      : data(data), dtype(dtype), shape(std::move(shape)), place(place) {}

  int rank() const { return static_cast<int>(shape.size()); }
  int64_t numel() const;
  // Bytes the elements occupy (float4_e2m1: two per byte).
  int64_t nbytes() const;
  // Row-major stride of dimension `dim` in bytes (for float4_e2m1 exact
  // for every dimension but the last, whose stride is half a byte: 0 here).
  int64_t strideBytes(int dim) const;
  // "bfloat16[128, 64] (device)"
  std::string str() const;
};

} // namespace tlrt
