# MoE dispatch / combine (models/deepseek_v4/kernels/moe_dispatch.tl): the tiny config's
# router (8 experts, top-2, 256 wide) with blocks of 16 tokens, and V4-Flash's (256 experts,
# top-6, 4096 wide).
tlv4_test_kernel(moe_dispatch_tiny ${v4kernels}/moe_dispatch.tl E=8 K=2 D=256 BD=128)
tlv4_test_kernel(moe_dispatch_v4 ${v4kernels}/moe_dispatch.tl)
