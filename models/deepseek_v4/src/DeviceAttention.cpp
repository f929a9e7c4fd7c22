// DeviceAttention: one attention sub-layer of the device model (window, CSA
// or HCA; ReferenceAttention.cpp AttentionLayer), from the normed input to
// the output projection, in prefill and in decode form. Prefill runs the
// per-token steps over all the call's tokens and the steps that see a
// sequence (compressor, indexer, index lists, attention) per sequence, on
// views of its rows; decode runs everything once over the slots.
#include "DeviceModelImpl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tlv4 {

namespace {
Tensor slotsOf(const Mem &m, DT dtype, int64_t slot, int64_t count, std::vector<int64_t> rest) {
  std::vector<int64_t> shape = {count};
  shape.insert(shape.end(), rest.begin(), rest.end());
  int64_t per = 1;
  for (int64_t r : rest)
    per *= r;
  return m.view(dtype, shape, size_t(tlrt::dtypeStorageBytes(dtype, slot * per)));
}
} // namespace

Tensor DeviceModel::Impl::attention(int64_t l, const Tensor &y, const Tensor &yq, const Tensor &ys,
                                    const CallInputs &in, int64_t n, const Batch &batch) {
  const Tensor &pos = in.pos, &ropePos = in.ropePos;
  const Config &c = config;
  const LayerWeights &w = layers[l];
  LayerCache &k = caches[l];
  const int64_t h = c.numAttentionHeads, hd = c.headDim, r = c.qkRopeHeadDim, win = c.slidingWindow;
  const Tensor cs = ropeCos(w.kind), sn = ropeSin(w.kind);
  Scratch &s = scratch;

  // Query: wq_a, q_norm (and its FP8 form for wq_b and the indexer), wq_b, per-head norm + RoPE.
  Tensor qa = linear8("qa", w.wqA, yq, ys);
  Tensor qan = s.get("qa_n", DT::Float32, {n, c.qLoraRank});
  Tensor qaq = s.get("qa_q", DT::Float8E4M3, {n, c.qLoraRank});
  Tensor qas = s.get("qa_s", DT::Float32, {n, c.qLoraRank / 128});
  launch("norm_q", "rmsnorm_quant", {qa, w.qNorm.t(), qan, qaq, qas});
  Tensor q = linear8("q", w.wqB, qaq, qas);
  Tensor qf = s.get("q_f", DT::Float32, {n, h * hd});
  Tensor qb = s.get("q_b", DT::BFloat16, {n, h * hd});
  launch("norm_q", "head_rope", {q, ropePos, cs, sn, qf, qb});

  // The token's KV row: wkv, kv_norm, RoPE, the FP8 cache form.
  Tensor kv = linear8("kv", w.wkv, yq, ys);
  Tensor kvn = s.get("kv_n", DT::Float32, {n, hd});
  launch("norm_kv", "rmsnorm_quant", {kv, w.kvNorm.t(), kvn, s.get("kv_nq", DT::Float8E4M3, {n, hd}),
                                      s.get("kv_ns", DT::Float32, {n, hd / 128})});
  Tensor kvr = s.get("kv_r", DT::Float32, {n, hd});
  launch("norm_kv", "head_rope", {kvn, ropePos, cs, sn, kvr, s.get("kv_rb", DT::BFloat16, {n, hd})});
  Tensor rq = s.get("row_q", DT::Float8E4M3, {n, hd - r});
  Tensor rs = s.get("row_s", DT::Float32, {n, (hd - r) / 64});
  Tensor rr = s.get("row_r", DT::BFloat16, {n, r});

  // bf16 input of the compressors' and the indexer's bf16 linears.
  const bool compressed = w.kind != LayerKind::Window, csa = w.kind == LayerKind::CSA;
  Tensor yb;
  Tensor kvp, score, ikvp, iscore, iqq, iqs, iw;
  if (compressed) {
    yb = s.get("y_b", DT::BFloat16, {n, c.hiddenSize});
    launch("linear", "cast_bf16", {y, yb});
    kvp = linear16("c_kv", w.comp.wkv, yb);
    score = linear16("c_score", w.comp.wgate, yb);
  }
  if (csa) {
    const int64_t ih = c.indexNHeads, di = c.indexHeadDim;
    Tensor iq = linear8("i_q", w.idxWqB, qaq, qas);
    iqq = s.get("i_qq", DT::Float8E4M3, {n, ih, di});
    iqs = s.get("i_qs", DT::Float32, {n, ih});
    launch("indexer", "indexer_q", {rowsOf(iq, 0, {n, ih, di}), ropePos, cs, sn, iqq, iqs});
    iw = linear16("i_w", w.idxWeights, yb, float(1.0 / std::sqrt(double(di)) / std::sqrt(double(ih))));
    ikvp = linear16("ic_kv", w.idxComp.wkv, yb);
    iscore = linear16("ic_score", w.idxComp.wgate, yb);
  }
  const std::string cmod = w.kind == LayerKind::CSA ? "compressor_csa" : "compressor_hca";
  const std::string imod = w.kind == LayerKind::CSA   ? "attn_indices_csa"
                           : w.kind == LayerKind::HCA ? "attn_indices_hca"
                                                      : "attn_indices_win";
  const int64_t topk = c.indexTopk;
  Tensor o = s.get("o_b", DT::BFloat16, {n, h * hd});

  if (!batch.decode) {
    for (size_t i = 0; i < batch.slot.size(); ++i) {
      const int64_t b = batch.slot[i], t0 = batch.start[i], len = batch.count[i];
      const int64_t ent = compressed ? std::min(len / w.ratio, k.entries) : 0;
      const Tensor &lens = in.seqLens[i];
      Tensor posb = rowsOf(pos, t0, {1, len});
      Tensor cq = slotsOf(k.cq, DT::Float8E4M3, b, 1, {k.rows, hd - r});
      Tensor csc = slotsOf(k.cs, DT::Float32, b, 1, {k.rows, (hd - r) / 64});
      Tensor cr = slotsOf(k.cr, DT::BFloat16, b, 1, {k.rows, r});
      // This sequence's attention buffer: [its raw rows (bf16) | its compressed entries]; the
      // raw rows' FP8 form goes to the window ring.
      Tensor buf = s.get(fmt::format("attn_kv{}", i), DT::BFloat16, {1, len + ent, hd});
      launch("kv_quant", "kv_quant", {rowsOf(kvr, t0, {1, len, hd}), rowsOf(buf, 0, {1, len, hd}),
                                      rowsOf(rq, t0, {1, len, hd - r}),
                                      rowsOf(rs, t0, {1, len, (hd - r) / 64}), rowsOf(rr, t0, {1, len, r})});
      launch("kv_quant", "kv_ring_store",
             {rowsOf(rq, t0, {1, len, hd - r}), rowsOf(rs, t0, {1, len, (hd - r) / 64}),
              rowsOf(rr, t0, {1, len, r}), posb, lens, cq, csc, cr});
      Tensor topkIdx = s.get(fmt::format("topk{}", i), DT::Int32, {1, len, csa ? topk : 1});
      if (compressed) {
        const int64_t cw = w.comp.overlap * hd, ring = w.comp.overlap * w.ratio;
        // Entries go to rows [len, len + ent) of the buffer.
        Tensor entb = ent > 0 ? rowsOf(rowsOf(buf, 0, {len + ent, hd}), len, {1, ent, hd})
                              : s.get("ent_dummy", DT::BFloat16, {1, 1, hd});
        launch(cmod, "compressor_prefill",
               {rowsOf(kvp, t0, {1, len, cw}), rowsOf(score, t0, {1, len, cw}), w.comp.ape.t(),
                w.comp.norm.t(), cs, sn, lens, entb, cq, csc, cr});
        launch(cmod, "compressor_state_init",
               {rowsOf(kvp, t0, {1, len, cw}), rowsOf(score, t0, {1, len, cw}), w.comp.ape.t(), lens,
                slotsOf(k.stKv, DT::Float32, b, 1, {ring, cw}),
                slotsOf(k.stScore, DT::Float32, b, 1, {ring, cw})});
      }
      if (csa) {
        const int64_t ih = c.indexNHeads, di = c.indexHeadDim, cw = 2 * di, ring = 2 * w.ratio;
        Tensor ixq = slotsOf(k.ixq, DT::Float8E4M3, b, 1, {k.entries, di});
        Tensor ixs = slotsOf(k.ixs, DT::Float32, b, 1, {k.entries});
        launch("compressor_idx", "compressor_prefill_indexer",
               {rowsOf(ikvp, t0, {1, len, cw}), rowsOf(iscore, t0, {1, len, cw}), w.idxComp.ape.t(),
                w.idxComp.norm.t(), cs, sn, lens, ixq, ixs});
        launch("compressor_idx", "compressor_state_init",
               {rowsOf(ikvp, t0, {1, len, cw}), rowsOf(iscore, t0, {1, len, cw}), w.idxComp.ape.t(),
                lens, slotsOf(k.ixStKv, DT::Float32, b, 1, {ring, cw}),
                slotsOf(k.ixStScore, DT::Float32, b, 1, {ring, cw})});
        if (ent > 0) {
          Tensor logits = s.get(fmt::format("i_logits{}", i), DT::Float32, {1, len, ent});
          launch("indexer", "indexer_logits",
                 {rowsOf(iqq, t0, {1, len, ih, di}), rowsOf(iqs, t0, {1, len, ih}),
                  rowsOf(iw, t0, {1, len, ih}), rowsOf(ixq, 0, {1, ent, di}),
                  rowsOf(ixs, 0, {1, ent}), posb, logits});
          launch("topk", "topk_select", {rowsOf(logits, 0, {len, ent}), in.seqVisible[i],
                                         rowsOf(topkIdx, 0, {len, topk})});
        } else {
          topkIdx = in.seqNoTopK[i]; // no entry yet: every top-k slot unused
        }
      }
      const int64_t lw = win + (csa ? topk : w.kind == LayerKind::HCA ? ent : 0);
      Tensor idx = s.get(fmt::format("idx{}", i), DT::Int32, {1, len, lw});
      launch(imod, "attn_indices_prefill", {posb, topkIdx, idx});
      launch("sparse_attn", "sparse_attn_prefill",
             {rowsOf(qb, t0, {1, len, h, hd}), buf, idx, w.sink.t(), rowsOf(o, t0, {1, len, h, hd}),
              s.get(fmt::format("lse{}", i), DT::Float32, {1, len, h})});
    }
  } else {
    // Decode: one row per slot (batch.slot = 0 .. n-1).
    const int64_t nb = n;
    Tensor posd = rowsOf(pos, 0, {nb});
    const Tensor &lens = in.slotLens;
    launch("kv_quant", "kv_quant", {rowsOf(kvr, 0, {nb, 1, hd}), s.get("d_rowb", DT::BFloat16, {nb, 1, hd}),
                                    rowsOf(rq, 0, {nb, 1, hd - r}), rowsOf(rs, 0, {nb, 1, (hd - r) / 64}),
                                    rowsOf(rr, 0, {nb, 1, r})});
    Tensor cq = slotsOf(k.cq, DT::Float8E4M3, 0, nb, {k.rows, hd - r});
    Tensor csc = slotsOf(k.cs, DT::Float32, 0, nb, {k.rows, (hd - r) / 64});
    Tensor cr = slotsOf(k.cr, DT::BFloat16, 0, nb, {k.rows, r});
    launch("kv_quant", "kv_ring_store", {rowsOf(rq, 0, {nb, 1, hd - r}), rowsOf(rs, 0, {nb, 1, (hd - r) / 64}),
                                         rowsOf(rr, 0, {nb, 1, r}), rowsOf(pos, 0, {nb, 1}), lens, cq, csc, cr});
    Tensor topkIdx = s.get("d_topk", DT::Int32, {nb, csa ? topk : 1});
    if (compressed) {
      const int64_t cw = w.comp.overlap * hd, ring = w.comp.overlap * w.ratio;
      launch(cmod, "compressor_decode",
             {kvp, score, w.comp.ape.t(), w.comp.norm.t(), cs, sn, posd,
              slotsOf(k.stKv, DT::Float32, 0, nb, {ring, cw}),
              slotsOf(k.stScore, DT::Float32, 0, nb, {ring, cw}),
              s.get("d_entb", DT::BFloat16, {nb, 1, hd}), cq, csc, cr});
    }
    if (csa) {
      const int64_t ih = c.indexNHeads, di = c.indexHeadDim, cw = 2 * di, ring = 2 * w.ratio;
      Tensor ixq = slotsOf(k.ixq, DT::Float8E4M3, 0, nb, {k.entries, di});
      Tensor ixs = slotsOf(k.ixs, DT::Float32, 0, nb, {k.entries});
      launch("compressor_idx", "compressor_decode_indexer",
             {ikvp, iscore, w.idxComp.ape.t(), w.idxComp.norm.t(), cs, sn, posd,
              slotsOf(k.ixStKv, DT::Float32, 0, nb, {ring, cw}),
              slotsOf(k.ixStScore, DT::Float32, 0, nb, {ring, cw}), ixq, ixs});
      Tensor logits = s.get("d_ilogits", DT::Float32, {nb, k.entries});
      launch("indexer", "indexer_logits_decode",
             {rowsOf(iqq, 0, {nb, ih, di}), rowsOf(iqs, 0, {nb, ih}), rowsOf(iw, 0, {nb, ih}), ixq, ixs,
              posd, logits});
      launch("topk", "topk_select", {logits, in.slotVisible, topkIdx});
    }
    const int64_t lw = win + (csa ? topk : w.kind == LayerKind::HCA ? k.entries : 0);
    Tensor idx = s.get("d_idx", DT::Int32, {nb, lw});
    launch(imod, "attn_indices_decode", {posd, topkIdx, idx});
    // Splits over the slot list: deterministic mode takes them from the list's width only
    // (never the batch), so decode stays batch-invariant; otherwise as many as fill one wave
    // of blocks for this batch, each with at least 64 slots (sparse_attn.tl).
    int64_t ns = std::clamp<int64_t>(lw / 256, 1, 16);
    if (!options.deterministic && gpu) {
      const int64_t sms = tlrt::Context::get(options.device).multiprocessorCount();
      ns = std::clamp<int64_t>((sms + nb - 1) / nb, 1, std::max<int64_t>(1, lw / 64));
    }
    Tensor op = s.get("d_op", DT::Float32, {nb, ns, h, hd});
    Tensor lp = s.get("d_lp", DT::Float32, {nb, ns, h});
    launch("sparse_attn", "sparse_attn_decode", {rowsOf(qb, 0, {nb, h, hd}), cq, csc, cr, idx, op, lp});
    launch("sparse_attn", "sparse_attn_combine",
           {op, lp, w.sink.t(), rowsOf(o, 0, {nb, h, hd}), s.get("d_lse", DT::Float32, {nb, h})});
  }

  // Output: inverse RoPE on each head, the grouped wo_a, wo_b.
  Tensor of = s.get("o_f", DT::Float32, {n, h * hd});
  launch("linear", "cast_f32", {o, of});
  // head_rope's bf16 copy is the rounding of its f32 output: wo_a's input as it is.
  Tensor ob = s.get("o_rotb", DT::BFloat16, {n, h * hd});
  launch("norm_o", "head_rope", {of, ropePos, cs, sn, s.get("o_rot", DT::Float32, {n, h * hd}), ob});
  Tensor mid = linear16("mid", w.woA, ob, 1.0f, /*grouped=*/true);
  const int64_t mw = c.oGroups * c.oLoraRank;
  Tensor mq = s.get("mid_q", DT::Float8E4M3, {n, mw});
  Tensor ms = s.get("mid_s", DT::Float32, {n, mw / 128});
  launch("norm_mid", "act_quant", {mid, mq, ms});
  return linear8("attn_out", w.woB, mq, ms);
}

} // namespace tlv4
