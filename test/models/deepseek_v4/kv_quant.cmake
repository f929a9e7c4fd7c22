# FP8 KV rows (models/deepseek_v4/kernels/kv_quant.tl): V4-Flash's 512-wide rows, the tiny
# config's 256 (192 + 64 RoPE), and an odd rows-per-block count so the last block is ragged.
tlv4_test_kernel(kv_quant_v4 ${v4kernels}/kv_quant.tl)
tlv4_test_kernel(kv_quant_256 ${v4kernels}/kv_quant.tl D=256)
tlv4_test_kernel(kv_quant_256_br3 ${v4kernels}/kv_quant.tl D=256 BR=3)
