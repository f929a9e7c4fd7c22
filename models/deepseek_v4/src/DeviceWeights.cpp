// DeviceWeights: memory on the kernels' side, the checkpoint's tensors
// uploaded in their stored formats, the caches, the RoPE tables
// (DeviceModelImpl.h).
#include "DeviceModelImpl.h"

#include "tlv4/ReferenceOps.h"
#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace tlv4 {

void Mem::Free::operator()(uint8_t *p) const { std::free(p); }

Mem::Mem(size_t bytes, bool gpu, int device) : gpu_(gpu), bytes_(bytes) {
  const size_t n = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  if (gpu) {
    dev_ = tlrt::DeviceBuffer(n, device);
  } else {
    host_.reset(static_cast<uint8_t *>(std::aligned_alloc(64, n)));
    if (!host_)
      throw std::runtime_error(fmt::format("out of host memory allocating {} bytes", n));
  }
}

Tensor Mem::view(DT dtype, std::vector<int64_t> shape, size_t offset) const {
  Tensor t(static_cast<uint8_t *>(data()) + offset, dtype, std::move(shape),
           gpu_ ? tlrt::Place::Device : tlrt::Place::Host);
  if (offset + size_t(t.nbytes()) > bytes_)
    throw std::logic_error(fmt::format("view {} at offset {} exceeds a buffer of {} bytes",
                                       t.str(), offset, bytes_));
  return t;
}

void Mem::upload(const void *src, size_t bytes, size_t offset) {
  if (gpu_)
    dev_.copyFromHost(src, bytes, offset);
  else
    std::memcpy(host_.get() + offset, src, bytes);
}

void Mem::download(void *dst, size_t bytes, size_t offset) const {
  if (gpu_)
    dev_.copyToHost(dst, bytes, offset);
  else
    std::memcpy(dst, host_.get() + offset, bytes);
}

void Mem::zero() {
  if (gpu_)
    dev_.memset(0);
  else
    std::memset(host_.get(), 0, bytes_);
}

Tensor rowsOf(const Tensor &t, int64_t row0, std::vector<int64_t> shape) {
  const int64_t rowBytes = t.shape.empty() || t.shape[0] == 0 ? 0 : t.nbytes() / t.shape[0];
  Tensor v(static_cast<uint8_t *>(t.data) + row0 * rowBytes, t.dtype, std::move(shape), t.place);
  if (row0 * rowBytes + v.nbytes() > t.nbytes())
    throw std::logic_error(fmt::format("rows from {} as {} exceed {}", row0, v.str(), t.str()));
  return v;
}

Tensor Scratch::get(const std::string &name, DT dtype, std::vector<int64_t> shape) {
  const size_t need = size_t(tlrt::dtypeStorageBytes(dtype, Tensor(nullptr, dtype, shape).numel()));
  auto it = bufs_.find(name);
  if (it == bufs_.end() || it->second.size() < need) {
    Mem m(std::max<size_t>(need, 64), gpu_, device_);
    m.zero(); // rows a kernel leaves unwritten (unplaced expert rows) hold zeros, not garbage
    it = bufs_.insert_or_assign(name, std::move(m)).first;
    ++generation_;
  }
  return it->second.view(dtype, std::move(shape));
}

Tensor Scratch::ints(const std::string &name, const std::vector<int32_t> &values,
                     std::vector<int64_t> shape) {
  if (shape.empty())
    shape = {int64_t(values.size())};
  Tensor t = get(name, DT::Int32, shape);
  bufs_.at(name).upload(values.data(), values.size() * 4);
  return t;
}

Tensor Scratch::floats(const std::string &name, const std::vector<float> &values) {
  Tensor t = get(name, DT::Float32, {int64_t(values.size())});
  bufs_.at(name).upload(values.data(), values.size() * 4);
  return t;
}

namespace {

struct Loader {
  const Checkpoint &ck;
  bool gpu;
  int device;
  size_t uploaded = 0;

  Mem bytes(const void *src, size_t n) {
    Mem m(n, gpu, device);
    m.upload(src, n);
    uploaded += n;
    return m;
  }
  template <typename T> Mem vec(const std::vector<T> &v) { return bytes(v.data(), v.size() * sizeof(T)); }
  // f32 values uploaded as bf16 (round to nearest even).
  Mem bf16Of(const std::vector<float> &f) {
    std::vector<uint16_t> b(f.size());
    for (size_t i = 0; i < f.size(); ++i)
      b[i] = tlrt::f32ToBF16(f[i]);
    return vec(b);
  }

  F32Vec f32(const std::string &name) {
    TensorView t = ck.tensor(name);
    return {vec(decodeToFloat(t)), t.shape};
  }
  Fp8Linear fp8(const std::string &stem) {
    TensorView w = ck.tensor(stem + ".weight");
    if (w.dtype != tlv4::DType::F8E4M3)
      throw std::runtime_error(fmt::format(
          "{}.weight is {}: the device model runs FP8 checkpoints (F8_E4M3 with 128x128 scales)",
          stem, tlv4::dtypeName(w.dtype)));
    Fp8Linear l;
    l.out = w.rows();
    l.in = w.cols();
    if (l.in % 128)
      throw std::runtime_error(fmt::format("{}.weight: {} inputs, not a multiple of 128", stem, l.in));
    l.w = bytes(w.data, w.byteSize);
    l.s = vec(decodeToFloat(ck.tensor(stem + ".scale")));
    return l;
  }
  Bf16Linear bf16(const std::string &name) {
    TensorView w = ck.tensor(name);
    Bf16Linear l;
    l.out = w.rows();
    l.in = w.cols();
    l.w = w.dtype == tlv4::DType::BF16 ? bytes(w.data, w.byteSize) : bf16Of(decodeToFloat(w));
    return l;
  }
  HcWeights hc(const std::string &prefix, const char *which) {
    return {f32(fmt::format("{}hc_{}_fn", prefix, which)), f32(fmt::format("{}hc_{}_base", prefix, which)),
            f32(fmt::format("{}hc_{}_scale", prefix, which))};
  }
  CompressorW compressor(const std::string &p, int64_t ratio, int64_t overlap, int64_t width) {
    CompressorW c;
    c.wkv = bf16(p + "wkv.weight");
    c.wgate = bf16(p + "wgate.weight");
    c.ape = f32(p + "ape");
    c.norm = f32(p + "norm.weight");
    c.ratio = ratio;
    c.overlap = overlap;
    c.width = width;
    return c;
  }
  // Experts 0 .. E-1 of "<p>experts.<e>.<which>", stacked.
  ExpertsW experts(const std::string &p, const char *which, int64_t e) {
    ExpertsW x;
    std::vector<uint8_t> w, s;
    for (int64_t i = 0; i < e; ++i) {
      const std::string stem = fmt::format("{}experts.{}.{}", p, i, which);
      TensorView tw = ck.tensor(stem + ".weight");
      if (tw.dtype != tlv4::DType::F4)
        throw std::runtime_error(fmt::format("{}.weight is {}: the device model runs FP4 experts",
                                             stem, tlv4::dtypeName(tw.dtype)));
      x.out = tw.rows();
      x.in = tw.cols();
      w.insert(w.end(), tw.data, tw.data + tw.byteSize);
      TensorView ts = ck.tensor(stem + ".scale");
      if (ts.dtype == tlv4::DType::F8E8M0) {
        s.insert(s.end(), ts.data, ts.data + ts.byteSize);
      } else {
        for (float v : decodeToFloat(ts))
          s.push_back(tlrt::f32ToUE8M0Ceil(v));
      }
    }
    x.w = vec(w);
    // The scales transposed to [in / 32, E * out]: a k-step's scales for a tile of rows are
    // then one contiguous TMA tile (expert.tl).
    const int64_t rows = e * x.out, groups = x.in / 32;
    std::vector<uint8_t> t(s.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g)
        t[g * rows + r] = s[r * groups + g];
    x.s = vec(t);
    return x;
  }
};

} // namespace

void DeviceModel::Impl::loadWeights() {
  const Config &c = config;
  Loader ld{*checkpoint, gpu, options.device};
  TensorView emb = checkpoint->tensor("embed.weight");
  if (emb.dtype != tlv4::DType::BF16)
    throw std::runtime_error("embed.weight must be bf16");
  embed = ld.bytes(emb.data, emb.byteSize);
  head = ld.bf16(c.tieWordEmbeddings ? "embed.weight" : "head.weight");
  norm = ld.f32("norm.weight");
  hcHead = {ld.f32("hc_head_fn"), ld.f32("hc_head_base"), ld.f32("hc_head_scale")};
  layers.resize(c.numHiddenLayers);
  for (int64_t l = 0; l < c.numHiddenLayers; ++l) {
    LayerWeights &w = layers[l];
    const std::string p = fmt::format("layers.{}.", l), a = p + "attn.", f = p + "ffn.";
    w.kind = c.layerKind(l);
    w.hash = c.isHashLayer(l);
    w.attnNorm = ld.f32(p + "attn_norm.weight");
    w.ffnNorm = ld.f32(p + "ffn_norm.weight");
    w.hcAttn = ld.hc(p, "attn");
    w.hcFfn = ld.hc(p, "ffn");
    w.wqA = ld.fp8(a + "wq_a");
    w.qNorm = ld.f32(a + "q_norm.weight");
    w.wqB = ld.fp8(a + "wq_b");
    w.wkv = ld.fp8(a + "wkv");
    w.kvNorm = ld.f32(a + "kv_norm.weight");
    {
      // wo_a: the FP8 weight dequantised to bf16 (code * power-of-two scale: exact).
      TensorView t = checkpoint->tensor(a + "wo_a.weight");
      w.woA.out = t.rows();
      w.woA.in = t.cols();
      w.woA.w = ld.bf16Of(checkpoint->dequantize(a + "wo_a.weight"));
    }
    w.woB = ld.fp8(a + "wo_b");
    w.sink = ld.f32(a + "attn_sink");
    if (w.kind != LayerKind::Window) {
      w.ratio = c.compressRatio(l);
      w.comp = ld.compressor(a + "compressor.", w.ratio, c.compressorOverlap(l), c.headDim);
    }
    if (w.kind == LayerKind::CSA) {
      w.idxWqB = ld.fp8(a + "indexer.wq_b");
      w.idxWeights = ld.bf16(a + "indexer.weights_proj.weight");
      w.idxComp = ld.compressor(a + "indexer.compressor.", w.ratio, 2, c.indexHeadDim);
    }
    w.gate = ld.bf16(f + "gate.weight");
    if (w.hash) {
      std::vector<float> t = decodeToFloat(checkpoint->tensor(f + "gate.tid2eid"));
      std::vector<int32_t> ids(t.begin(), t.end());
      w.tid2eid = ld.vec(ids);
    } else {
      w.bias = ld.f32(f + "gate.bias");
    }
    w.w1 = ld.experts(f, "w1", c.nRoutedExperts);
    w.w2 = ld.experts(f, "w2", c.nRoutedExperts);
    w.w3 = ld.experts(f, "w3", c.nRoutedExperts);
    w.sh1 = ld.fp8(f + "shared_experts.w1");
    w.sh2 = ld.fp8(f + "shared_experts.w2");
    w.sh3 = ld.fp8(f + "shared_experts.w3");
  }

  // RoPE tables: the window layers' (rope_theta) and the compressed layers' (YaRN), in f32
  // as the reference builds them (ropeCosSin), maxLength positions.
  auto table = [&](const ref::RopeParams &rp, Mem &cosM, Mem &sinM) {
    const std::vector<float> freqs = ref::ropeFrequencies(rp);
    const int64_t half = int64_t(freqs.size());
    std::vector<float> cs(maxLength * half), sn(maxLength * half);
    for (int64_t q = 0; q < maxLength; ++q)
      for (int64_t i = 0; i < half; ++i) {
        ref::RopeCosSin t = ref::ropeCosSin(freqs, q, i);
        cs[q * half + i] = t.cos;
        sn[q * half + i] = t.sin;
      }
    cosM = ld.vec(cs);
    sinM = ld.vec(sn);
  };
  int64_t winLayer = -1, compLayer = -1;
  for (int64_t l = 0; l < c.numHiddenLayers; ++l)
    (c.layerKind(l) == LayerKind::Window ? winLayer : compLayer) = l;
  table(ref::ropeParamsForLayer(c, winLayer >= 0 ? winLayer : 0), cosWin, sinWin);
  table(ref::ropeParamsForLayer(c, compLayer >= 0 ? compLayer : 0), cosComp, sinComp);
}

Tensor DeviceModel::Impl::ropeCos(LayerKind kind) const {
  const Mem &m = kind == LayerKind::Window ? cosWin : cosComp;
  return m.view(DT::Float32, {maxLength, config.qkRopeHeadDim / 2});
}
Tensor DeviceModel::Impl::ropeSin(LayerKind kind) const {
  const Mem &m = kind == LayerKind::Window ? sinWin : sinComp;
  return m.view(DT::Float32, {maxLength, config.qkRopeHeadDim / 2});
}

void DeviceModel::Impl::allocateCaches() {
  const Config &c = config;
  const int64_t hd = c.headDim, r = c.qkRopeHeadDim, w = c.slidingWindow;
  caches.resize(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights &lw = layers[l];
    LayerCache &k = caches[l];
    // Entries rounded up to 16, so every slot's rows start 16-byte aligned whatever a row's
    // width (the kernels' tensor arguments must be).
    k.entries = lw.kind == LayerKind::Window ? 0 : (maxLength / lw.ratio + 15) / 16 * 16;
    k.rows = w + k.entries;
    k.cq = Mem(slots * k.rows * (hd - r), gpu, options.device);
    k.cs = Mem(slots * k.rows * ((hd - r) / 64) * 4, gpu, options.device);
    k.cr = Mem(slots * k.rows * r * 2, gpu, options.device);
    if (lw.kind != LayerKind::Window) {
      const int64_t cw = lw.comp.overlap * hd, ring = lw.comp.overlap * lw.ratio;
      k.stKv = Mem(slots * ring * cw * 4, gpu, options.device);
      k.stScore = Mem(slots * ring * cw * 4, gpu, options.device);
    }
    if (lw.kind == LayerKind::CSA) {
      const int64_t di = c.indexHeadDim, cw = 2 * di, ring = 2 * lw.ratio;
      k.ixq = Mem(slots * k.entries * di, gpu, options.device);
      k.ixs = Mem(slots * k.entries * 4, gpu, options.device);
      k.ixStKv = Mem(slots * ring * cw * 4, gpu, options.device);
      k.ixStScore = Mem(slots * ring * cw * 4, gpu, options.device);
    }
    for (Mem *m : {&k.cq, &k.cs, &k.cr, &k.stKv, &k.stScore, &k.ixq, &k.ixs, &k.ixStKv, &k.ixStScore})
      if (m->size())
        m->zero();
  }
  lengths.assign(slots, 0);
}

} // namespace tlv4
