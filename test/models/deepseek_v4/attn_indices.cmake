# Index lists for sparse attention (models/deepseek_v4/kernels/attn_indices.tl): V4-Flash's
# window (128) for CSA and HCA, and the tiny config's (16) with small blocks so that lists
# span several blocks.
tlv4_test_kernel(attn_indices_csa ${v4kernels}/attn_indices.tl)
tlv4_test_kernel(attn_indices_hca ${v4kernels}/attn_indices.tl HCA=True)
tlv4_test_kernel(attn_indices_tiny ${v4kernels}/attn_indices.tl W=16 threads=32)
tlv4_test_kernel(attn_indices_tiny_hca ${v4kernels}/attn_indices.tl W=16 RATIO=128 HCA=True threads=32)
