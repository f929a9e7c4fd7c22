# Embedding and sampling (models/deepseek_v4/kernels/sample.tl): the tiny config's vocabulary
# (1024) and hidden size (256) with 256-wide chunks (several, the last one ragged when V is
# not a multiple), an 8-token vocabulary for the sampling statistics, and V4-Flash's sizes.
tlv4_test_kernel(sample_tiny ${v4kernels}/sample.tl V=1000 CH=256 D=256)
tlv4_test_kernel(sample_v8 ${v4kernels}/sample.tl V=8 CH=256 D=256)
tlv4_test_kernel(sample_v4 ${v4kernels}/sample.tl)
