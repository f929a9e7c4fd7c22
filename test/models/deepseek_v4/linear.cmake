# The dense linears (models/deepseek_v4/kernels/linear.tl): the plain FP8 linear and the bf16
# one at their defaults, the grouped wo_a of the tiny config (2 groups of 64 rows: 64-row
# tiles), and V4-Flash's (8 groups of 1024).
tlv4_test_kernel(linear_v4 ${v4kernels}/linear.tl)
tlv4_test_kernel(linear_g2 ${v4kernels}/linear.tl G=2 BN=64)
tlv4_test_kernel(linear_g8 ${v4kernels}/linear.tl G=8)
