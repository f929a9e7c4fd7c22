// Linear layouts (see LinearLayout.h): bases, GF(2) algebra and the layouts
// of the hardware.
#include "tl/IR/LinearLayout.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>

namespace mlir::tl {

namespace {

unsigned log2Exact(int64_t n) { return llvm::Log2_64(static_cast<uint64_t>(n)); }

/// Incremental GF(2) elimination: vectors (bit masks) with the combination of
/// inputs that produced each, keyed by the pivot (highest set bit).
struct Eliminator {
  llvm::SmallVector<std::pair<uint64_t, uint64_t>> rows; // (vector, combination)

  /// Reduces `v` by the rows; returns the residue and the combination used.
  std::pair<uint64_t, uint64_t> reduce(uint64_t v) const {
    uint64_t comb = 0;
    for (auto [row, c] : rows) {
      uint64_t pivot = uint64_t{1} << (63 - llvm::countl_zero(row));
      if (v & pivot) {
        v ^= row;
        comb ^= c;
      }
    }
    return {v, comb};
  }
  /// Adds input `index` with vector `v`; false if it is dependent.
  bool add(uint64_t v, unsigned index) {
    auto [res, comb] = reduce(v);
    if (!res)
      return false;
    comb ^= uint64_t{1} << index;
    // Keep rows sorted by decreasing pivot so reduce() sees high pivots
    // first, and keep earlier rows free of the new pivot.
    uint64_t pivot = uint64_t{1} << (63 - llvm::countl_zero(res));
    for (auto &[row, c] : rows)
      if (row & pivot) {
        row ^= res;
        c ^= comb;
      }
    rows.push_back({res, comb});
    llvm::sort(rows, [](auto &a, auto &b) { return a.first > b.first; });
    return true;
  }
};

} // namespace

const char *stringifyInDim(LinearLayout::InDim d) {
  switch (d) {
  case LinearLayout::Register:
    return "reg";
  case LinearLayout::Lane:
    return "lane";
  case LinearLayout::Warp:
    return "warp";
  case LinearLayout::Offset:
    return "offset";
  }
  return "?";
}

int64_t LinearLayout::padPow2(int64_t n) {
  return n <= 1 ? 1 : static_cast<int64_t>(llvm::PowerOf2Ceil(static_cast<uint64_t>(n)));
}

llvm::SmallVector<int64_t> LinearLayout::padShape(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> p;
  for (int64_t s : shape)
    p.push_back(padPow2(s));
  return p;
}

LinearLayout::LinearLayout(llvm::ArrayRef<int64_t> shape) : outShape(shape.begin(), shape.end()) {
  for ([[maybe_unused]] int64_t s : shape)
    assert(s >= 1 && llvm::isPowerOf2_64(s) && "layout tile dimensions are powers of two");
}

void LinearLayout::addBasis(InDim d, llvm::ArrayRef<int64_t> coords) {
  assert(coords.size() == outShape.size());
  bases[d].push_back(Coords(coords.begin(), coords.end()));
}

LinearLayout::Coords LinearLayout::xorCoords(llvm::ArrayRef<int64_t> a,
                                             llvm::ArrayRef<int64_t> b) {
  Coords r(a.begin(), a.end());
  for (size_t i = 0; i < r.size(); ++i)
    r[i] ^= b[i];
  return r;
}

LinearLayout::Coords LinearLayout::apply(InDim d, int64_t index) const {
  Coords c(outShape.size(), 0);
  for (unsigned b = 0; b < bases[d].size(); ++b)
    if ((index >> b) & 1)
      c = xorCoords(c, bases[d][b]);
  return c;
}

LinearLayout::Coords LinearLayout::apply(int64_t reg, int64_t lane, int64_t warp) const {
  return xorCoords(xorCoords(apply(Register, reg), apply(Lane, lane)), apply(Warp, warp));
}

unsigned LinearLayout::getOutBits() const {
  unsigned n = 0;
  for (int64_t s : outShape)
    n += log2Exact(s);
  return n;
}

uint64_t LinearLayout::flatten(llvm::ArrayRef<int64_t> coords) const {
  uint64_t bits = 0;
  unsigned shift = 0;
  for (int64_t d = static_cast<int64_t>(outShape.size()) - 1; d >= 0; --d) {
    bits |= static_cast<uint64_t>(coords[d]) << shift;
    shift += log2Exact(outShape[d]);
  }
  return bits;
}

LinearLayout::Coords LinearLayout::unflatten(uint64_t bits) const {
  Coords c(outShape.size(), 0);
  for (int64_t d = static_cast<int64_t>(outShape.size()) - 1; d >= 0; --d) {
    unsigned w = log2Exact(outShape[d]);
    c[d] = static_cast<int64_t>(bits & ((uint64_t{1} << w) - 1));
    bits >>= w;
  }
  return c;
}

LinearLayout::Coords LinearLayout::getThreadVaryingBits() const {
  Coords m(outShape.size(), 0);
  for (InDim d : {Lane, Warp})
    for (const Coords &b : bases[d])
      for (size_t i = 0; i < m.size(); ++i)
        m[i] |= b[i];
  return m;
}

std::optional<int64_t> LinearLayout::solveRegister(llvm::ArrayRef<int64_t> coords) const {
  Eliminator e;
  for (auto [i, b] : llvm::enumerate(bases[Register]))
    e.add(flatten(b), i);
  auto [res, comb] = e.reduce(flatten(coords));
  if (res)
    return std::nullopt;
  return static_cast<int64_t>(comb);
}

LinearLayout LinearLayout::dropOutDim(unsigned dim) const {
  llvm::SmallVector<int64_t> shape(outShape.begin(), outShape.end());
  shape.erase(shape.begin() + dim);
  LinearLayout r(shape);
  for (unsigned d = 0; d < kNumInDims; ++d)
    for (const Coords &b : bases[d]) {
      Coords nb(b.begin(), b.end());
      nb.erase(nb.begin() + dim);
      r.addBasis(static_cast<InDim>(d), nb);
    }
  return r;
}

LinearLayout LinearLayout::withoutRedundantRegisters() const {
  LinearLayout r(outShape);
  Eliminator e;
  unsigned kept = 0;
  for (const Coords &b : bases[Register])
    if (e.add(flatten(b), kept)) {
      r.addBasis(Register, b);
      ++kept;
    }
  for (InDim d : {Lane, Warp, Offset})
    for (const Coords &b : bases[d])
      r.addBasis(d, b);
  return r;
}

llvm::SmallVector<uint64_t> LinearLayout::invertOffsets() const {
  unsigned n = getOutBits();
  if (bases[Offset].size() != n)
    return {};
  Eliminator e;
  for (auto [i, b] : llvm::enumerate(bases[Offset]))
    if (!e.add(flatten(b), i))
      return {};
  llvm::SmallVector<uint64_t> inv(n);
  for (unsigned j = 0; j < n; ++j)
    inv[j] = e.reduce(uint64_t{1} << j).second;
  return inv;
}

std::optional<int64_t> LinearLayout::offsetOf(llvm::ArrayRef<int64_t> coords) const {
  llvm::SmallVector<uint64_t> inv = invertOffsets();
  if (inv.empty() && getOutBits() != 0)
    return std::nullopt;
  uint64_t bits = flatten(coords), off = 0;
  for (unsigned j = 0; j < inv.size(); ++j)
    if ((bits >> j) & 1)
      off ^= inv[j];
  return static_cast<int64_t>(off);
}

std::string LinearLayout::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(outShape, os);
  os << "]";
  for (unsigned d = 0; d < kNumInDims; ++d) {
    if (bases[d].empty() && !(d == Lane && !bases[Warp].empty()))
      continue;
    os << ", " << stringifyInDim(static_cast<InDim>(d)) << " = [";
    llvm::interleaveComma(bases[d], os, [&](const Coords &c) {
      os << "(";
      llvm::interleaveComma(c, os);
      os << ")";
    });
    os << "]";
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Layouts of the hardware
//===----------------------------------------------------------------------===//

std::optional<LinearLayout> LinearLayout::wgmmaAccumulator(int64_t M, int64_t N,
                                                           int64_t warpgroups,
                                                           int64_t wgAlongM) {
  if (warpgroups < 1 || !llvm::isPowerOf2_64(warpgroups) || wgAlongM < 1 ||
      warpgroups % wgAlongM != 0 || M % wgAlongM != 0)
    return std::nullopt;
  int64_t wgAlongN = warpgroups / wgAlongM;
  int64_t mw = M / wgAlongM;
  if (N % wgAlongN != 0)
    return std::nullopt;
  int64_t nw = N / wgAlongN;
  if (mw % 64 != 0 || !llvm::isPowerOf2_64(mw) || nw % 8 != 0 || nw > 256 ||
      (wgAlongN > 1 && !llvm::isPowerOf2_64(nw)))
    return std::nullopt;
  LinearLayout l({M, padPow2(N)});
  l.addBasis(Register, {0, 1});
  l.addBasis(Register, {8, 0});
  for (int64_t c = 8; c < padPow2(nw); c *= 2)
    l.addBasis(Register, {0, c});
  for (int64_t r = 64; r < mw; r *= 2)
    l.addBasis(Register, {r, 0});
  l.addBasis(Lane, {0, 2});
  l.addBasis(Lane, {0, 4});
  l.addBasis(Lane, {1, 0});
  l.addBasis(Lane, {2, 0});
  l.addBasis(Lane, {4, 0});
  l.addBasis(Warp, {16, 0});
  l.addBasis(Warp, {32, 0});
  for (int64_t g = 1; g < wgAlongM; g *= 2)
    l.addBasis(Warp, {mw * g, 0});
  for (int64_t g = 1; g < wgAlongN; g *= 2)
    l.addBasis(Warp, {0, nw * g});
  return l;
}

std::optional<LinearLayout> LinearLayout::tmem32x32b(int64_t M, int64_t N, int64_t warpgroups) {
  if (M != 128 || warpgroups < 1 || !llvm::isPowerOf2_64(warpgroups) || N % warpgroups != 0)
    return std::nullopt;
  int64_t nw = N / warpgroups;
  if (warpgroups > 1 && !llvm::isPowerOf2_64(nw))
    return std::nullopt;
  LinearLayout l({128, padPow2(N)});
  for (int64_t c = 1; c < padPow2(nw); c *= 2)
    l.addBasis(Register, {0, c});
  for (int64_t r = 1; r < 32; r *= 2)
    l.addBasis(Lane, {r, 0});
  l.addBasis(Warp, {32, 0});
  l.addBasis(Warp, {64, 0});
  for (int64_t g = 1; g < warpgroups; g *= 2)
    l.addBasis(Warp, {0, nw * g});
  return l;
}

LinearLayout LinearLayout::blocked(llvm::ArrayRef<int64_t> shape, int64_t threads, int64_t vec) {
  LinearLayout l(padShape(shape));
  unsigned total = l.getOutBits();
  unsigned vecBits = log2Exact(vec);
  unsigned warpBits = log2Exact(padPow2(std::max<int64_t>(threads / 32, 1)));
  unsigned next = 0;
  auto flatBit = [&]() -> Coords {
    if (next >= total)
      return Coords(l.getRank(), 0);
    return l.unflatten(uint64_t{1} << next++);
  };
  for (unsigned i = 0; i < vecBits && next < total; ++i)
    l.addBasis(Register, flatBit());
  for (unsigned i = 0; i < 5; ++i)
    l.addBasis(Lane, flatBit());
  for (unsigned i = 0; i < warpBits; ++i)
    l.addBasis(Warp, flatBit());
  while (next < total)
    l.addBasis(Register, flatBit());
  return l;
}

LinearLayout LinearLayout::replicated(llvm::ArrayRef<int64_t> shape, int64_t threads) {
  LinearLayout l(padShape(shape));
  unsigned total = l.getOutBits();
  for (unsigned i = 0; i < total; ++i)
    l.addBasis(Register, l.unflatten(uint64_t{1} << i));
  Coords zero(l.getRank(), 0);
  for (unsigned i = 0; i < 5; ++i)
    l.addBasis(Lane, zero);
  unsigned warpBits = log2Exact(padPow2(std::max<int64_t>(threads / 32, 1)));
  for (unsigned i = 0; i < warpBits; ++i)
    l.addBasis(Warp, zero);
  return l;
}

std::optional<LinearLayout> LinearLayout::swizzledShared(int64_t rows, int64_t cols,
                                                         int64_t elemBits, int64_t swizzleBytes) {
  if (elemBits < 8 || elemBits % 8 != 0 || !llvm::isPowerOf2_64(elemBits) ||
      !llvm::isPowerOf2_64(rows) || !llvm::isPowerOf2_64(cols) ||
      !llvm::is_contained({int64_t{16}, int64_t{32}, int64_t{64}, int64_t{128}}, swizzleBytes))
    return std::nullopt;
  int64_t eb = elemBits / 8;
  if ((cols * eb) % swizzleBytes != 0 || rows % 8 != 0)
    return std::nullopt;
  uint64_t mask = static_cast<uint64_t>(swizzleBytes / 16 - 1);
  LinearLayout l({rows, cols});
  unsigned bits = l.getOutBits();
  for (unsigned k = 0; k < bits; ++k) {
    uint64_t p = (uint64_t{1} << k) * static_cast<uint64_t>(eb);
    uint64_t a = p ^ (((p >> 7) & mask) << 4);
    uint64_t sw = static_cast<uint64_t>(swizzleBytes);
    uint64_t colByte = a % sw + (a / (sw * rows)) * sw;
    uint64_t row = (a / sw) % rows;
    l.addBasis(Offset, {static_cast<int64_t>(row), static_cast<int64_t>(colByte / eb)});
  }
  return l;
}

std::optional<LinearLayout> LinearLayout::tcgen05ScaleStaging(int64_t rows, int64_t chunks) {
  if (rows < 128 || chunks < 4 || !llvm::isPowerOf2_64(rows) || !llvm::isPowerOf2_64(chunks))
    return std::nullopt;
  LinearLayout l({rows, chunks});
  // Offset bits, lowest first: the chunk within a word (bytes 0-3), the
  // 32-row quarter of a 128-row block (words of a 16-byte row), the row in
  // the quarter (16-byte rows), the 128-row block (512 bytes), the word.
  l.addBasis(Offset, {0, 1});
  l.addBasis(Offset, {0, 2});
  l.addBasis(Offset, {32, 0});
  l.addBasis(Offset, {64, 0});
  for (int64_t r = 1; r < 32; r *= 2)
    l.addBasis(Offset, {r, 0});
  for (int64_t r = 128; r < rows; r *= 2)
    l.addBasis(Offset, {r, 0});
  for (int64_t c = 4; c < chunks; c *= 2)
    l.addBasis(Offset, {0, c});
  return l;
}

std::optional<llvm::SmallVector<int64_t>> alignAlongLoop(const LinearLayout &driver,
                                                         llvm::ArrayRef<unsigned> kept,
                                                         llvm::ArrayRef<unsigned> at,
                                                         const LinearLayout &buf) {
  auto toBuffer = [&](llvm::ArrayRef<int64_t> c) {
    LinearLayout::Coords r(buf.getRank(), 0);
    for (auto [k, p] : llvm::zip(kept, at))
      r[p] = c[k];
    return r;
  };
  for (LinearLayout::InDim d : {LinearLayout::Lane, LinearLayout::Warp}) {
    if (driver.getInBits(d) != buf.getInBits(d))
      return std::nullopt;
    for (auto [a, b] : llvm::zip(driver.getBases(d), buf.getBases(d)))
      if (toBuffer(a) != llvm::ArrayRef<int64_t>(b))
        return std::nullopt;
  }
  for (const LinearLayout::Coords &b : driver.getBases(LinearLayout::Register))
    if (!buf.solveRegister(toBuffer(b)))
      return std::nullopt;
  llvm::SmallVector<int64_t> shift(buf.getRank(), -1);
  for (unsigned p = 0; p < buf.getRank(); ++p) {
    if (llvm::is_contained(at, p))
      continue;
    int64_t bits = llvm::Log2_64(LinearLayout::padPow2(buf.getOutShape()[p])), first = 0;
    for (int64_t k = 0; k < bits; ++k) {
      LinearLayout::Coords c(buf.getRank(), 0);
      c[p] = int64_t{1} << k;
      std::optional<int64_t> slot = buf.solveRegister(c);
      if (!slot || !llvm::isPowerOf2_64(*slot))
        return std::nullopt;
      int64_t bit = llvm::Log2_64(*slot);
      if (k == 0)
        first = bit;
      else if (bit != first + k)
        return std::nullopt;
    }
    shift[p] = first;
  }
  return shift;
}

} // namespace mlir::tl
