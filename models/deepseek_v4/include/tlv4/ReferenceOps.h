// ReferenceOps: the elementwise and small-vector operations of the
// DeepSeek-V4 reference forward pass (RMSNorm, RoPE with YaRN, softmax,
// Walsh-Hadamard transform, FP8/FP4 fake quantisation, activation
// quantisation, f32 linear layers). Plain f32 C++, written for clarity:
// every other Reference*.cpp builds on these, and the GPU kernels are
// checked against them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tlv4 {

struct Config;

namespace ref {

using Vec = std::vector<float>;

// ---------------------------------------------------------------- norms ---
// y = x * rsqrt(mean(x^2) + eps) * weight (weight empty = no weight).
Vec rmsNorm(const Vec &x, const Vec &weight, float eps);
// In-place RMSNorm of each consecutive `width` slice of x, without weight
// (the per-head q normalisation).
void rmsNormSlicesInPlace(Vec &x, int64_t width, float eps);

// -------------------------------------------------------------- softmax ---
// Numerically stable softmax in place.
void softmaxInPlace(Vec &x);
float sigmoid(float x);
float silu(float x);
// sqrt(softplus(x)), the V4 router scoring function.
float sqrtSoftplus(float x);

// ----------------------------------------------------------------- RoPE ---
// Rotation frequencies (radians per position) of the rotary part of a head.
// One frequency per pair: size ropeDim / 2. Built in f32 like the official
// code's tables (V4.md, settled): base frequencies, the YaRN ramp and the
// angles pos * freq are f32 arithmetic, cos/sin of the f32 angle.
struct RopeParams {
  double theta = 10000.0;
  int64_t ropeDim = 64;
  bool yarn = false;
  double factor = 1.0;
  double betaFast = 32.0;
  double betaSlow = 1.0;
  int64_t originalMaxPositions = 0;
};
std::vector<float> ropeFrequencies(const RopeParams &params);
// The RoPE a layer uses (V4.md): window-only layers rope_theta, no YaRN;
// compressed layers compress_rope_theta with YaRN from rope_scaling.
RopeParams ropeParamsForLayer(const Config &config, int64_t layer);

// Which dimensions form a rotation pair. The whole reference uses ONE
// pairing, chosen here (docs/v4-reference.md, Assumptions): interleaved
// (2i, 2i+1) pairs, as in the DeepSeek MLA reference. (verify)
enum class RopePairing { Interleaved, HalfSplit };
constexpr RopePairing kRopePairing = RopePairing::Interleaved;

// One entry of the RoPE table: cos and sin of the f32 angle float(pos) *
// freqs[i], each rounded to f32 (what torch.polar of the f32 outer product
// gives). Kernels that take cos/sin tables are fed these.
struct RopeCosSin {
  float cos, sin;
};
RopeCosSin ropeCosSin(const std::vector<float> &freqs, int64_t pos, int64_t i);

// Rotate x[offset, offset + 2 * freqs.size()) by angle pos * freq (or its
// inverse when inverse is true), with the table entries of ropeCosSin.
void applyRopeInPlace(float *x, const std::vector<float> &freqs, int64_t pos,
                      bool inverse = false,
                      RopePairing pairing = kRopePairing);

// ------------------------------------------------------------- Hadamard ---
// Orthonormal Walsh-Hadamard transform (scaled by n^-1/2, no random signs)
// of a power-of-two-length vector, in place.
void hadamardInPlace(float *x, int64_t n);

// ---------------------------------------------------------- fake quant ---
// Round to the nearest representable FP8 e4m3fn / FP4 e2m1 value (exact,
// via tlrt/LowPrecision.h).
float roundToE4M3(float x);
float roundToE2M1(float x);
// Quantise-dequantise each consecutive `group` of x[begin, end) with a
// power-of-two (ue8m0) scale 2^ceil(log2(amax / fmax)): FP8 e4m3 (fmax 448)
// or FP4 e2m1 (fmax 6). This is the reference's act_quant /
// fp4_act_quant seen from the consumer: the GEMM receives exactly these
// values.
void fakeQuantFp8InPlace(float *x, int64_t n, int64_t group);
void fakeQuantFp4InPlace(float *x, int64_t n, int64_t group);

// Per-token activation quantisation before an FP8/FP4 GEMM: 1 x 128 blocks,
// FP8 e4m3, ue8m0 (power-of-two) scales, or plain f32 scales amax / 448 when
// the checkpoint's scale_fmt is not ue8m0. Holds the codes and the
// per-block scales; dequantized() is what the GEMM effectively multiplies.
struct ActQuant {
  std::vector<uint8_t> codes; // e4m3 codes, one per element
  std::vector<float> scales;  // one power of two per block
  Vec dequantized() const;
  int64_t block = 128;
};
ActQuant actQuant(const Vec &x, int64_t block = 128, bool ue8m0Scales = true);
constexpr int64_t kActQuantBlock = 128;

// x rounded to the nearest bf16 (ties to even).
float roundToBf16(float x);

// --------------------------------------------------------------- linear ---
// A linear layer y = W x with W [out, in] in f32 (dequantised from the
// checkpoint). quantizedActivations: the checkpoint stores W in FP8/FP4, so
// the reference feeds it per-token FP8 activations (actQuant, 1 x 128).
struct Linear {
  std::string name;
  int64_t out = 0;
  int64_t in = 0;
  std::vector<float> weight; // row-major [out, in]
  bool quantizedActivations = false;
  bool ue8m0ActScales = true; // quantization_config.scale_fmt == "ue8m0"
  // A bf16 linear that reads its input rounded to bf16 (ActivationPolicy::DeviceBf16).
  bool bf16Input = false;

  Vec apply(const Vec &x) const;
  // Rows [rowBegin, rowBegin + rows) only (the grouped wo_a).
  Vec applyRows(const Vec &x, int64_t rowBegin, int64_t rows) const;
  bool empty() const { return weight.empty(); }
};

// How dot() sums. F32: four f32 partial sums in a fixed order (the reference's own). F64: in
// double, rounded once at the end (the more accurate of the two). Both are valid f32
// implementations of the same model; what separates their outputs is the model's noise floor
// under its precision policy: a last-bit difference moves an FP8 activation code a whole step
// and later layers carry it on (device_model_test measures the device against that floor).
enum class Accumulation { F32, F64 };

// Sets dot()'s accumulation on the calling thread until destroyed (then restores the
// previous one). ReferenceModel opens one around each call with its own setting.
class AccumulationScope {
public:
  explicit AccumulationScope(Accumulation a);
  ~AccumulationScope();
  AccumulationScope(const AccumulationScope &) = delete;
  AccumulationScope &operator=(const AccumulationScope &) = delete;

private:
  Accumulation previous_;
};

// Dot product with a fixed summation order (the thread's Accumulation).
float dot(const float *a, const float *b, int64_t n);

} // namespace ref
} // namespace tlv4
