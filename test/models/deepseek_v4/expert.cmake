# The routed experts' GEMMs (models/deepseek_v4/kernels/expert.tl): the tiny config's 8 experts
# (hidden 256, top-2) and V4-Flash's defaults (256 experts, hidden 4096, top-6).
tlv4_test_kernel(expert_tiny ${v4kernels}/expert.tl E=8 K=2 D=256)
tlv4_test_kernel(expert_v4 ${v4kernels}/expert.tl)
# The decode steps' build (KernelSet.cpp expert_dec): 64-row tiles, 32-wide weight tiles.
tlv4_test_kernel(expert_v4_dec ${v4kernels}/expert.tl BM=64 BN=32)
