# Sparse attention with sink (models/deepseek_v4/kernels/sparse_attn.tl): the tiny config's
# heads (4 x 256, RoPE 64) and V4-Flash's (64 x 512), each with the sm_100a block shape (the
# CPU default: 128 padded heads, O in two column halves) and the sm_90a one (64 heads, O
# whole); 128 heads take two head blocks on sm_90a.
tlv4_test_kernel(sparse_attn_tiny ${v4kernels}/sparse_attn.tl H=4 D=256)
tlv4_test_kernel(sparse_attn_tiny90 ${v4kernels}/sparse_attn.tl H=4 D=256 --arch=sm_90a)
tlv4_test_kernel(sparse_attn_v4 ${v4kernels}/sparse_attn.tl)
tlv4_test_kernel(sparse_attn_v4_90 ${v4kernels}/sparse_attn.tl --arch=sm_90a)
tlv4_test_kernel(sparse_attn_h128_90 ${v4kernels}/sparse_attn.tl H=128 D=128 sm_scale=0.125 --arch=sm_90a)
