# Row-wise steps (models/deepseek_v4/kernels/norm.tl): RMSNorm + FP8 activation quantisation
# at the tiny config's hidden size (256), its q_lora rank (128) and V4-Flash's (4096); the
# query's per-head norm + RoPE at the tiny shape (4 heads of 256, RoPE 64) and V4-Flash's
# (64 x 512), and the output's inverse RoPE without the norm.
tlv4_test_kernel(norm_tiny ${v4kernels}/norm.tl D=256 G=4 HD=256)
tlv4_test_kernel(norm_tiny_q ${v4kernels}/norm.tl D=128 BR=3 G=4 HD=256 NORM=0 INVERSE=1)
tlv4_test_kernel(norm_v4 ${v4kernels}/norm.tl)
