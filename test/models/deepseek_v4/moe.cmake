# The MoE element-wise kernels (models/deepseek_v4/kernels/moe.tl): the tiny config's router
# (8 experts, top-2) and expert width 128, V4-Flash's (256 experts, top-6, width 2048), the
# router without normalisation, and SwiGLU with a limit that clamps most values (0.5) and with
# none (0).
tlv4_test_kernel(moe_tiny ${v4kernels}/moe.tl E=8 K=2 I=128)
tlv4_test_kernel(moe_tiny_nonorm ${v4kernels}/moe.tl E=8 K=2 I=128 NORM=0 SCALE=2.5)
tlv4_test_kernel(moe_tiny_limit05 ${v4kernels}/moe.tl E=8 K=2 I=256 LIMIT=0.5)
tlv4_test_kernel(moe_tiny_nolimit ${v4kernels}/moe.tl E=8 K=2 I=256 LIMIT=0.0)
tlv4_test_kernel(moe_v4 ${v4kernels}/moe.tl)
