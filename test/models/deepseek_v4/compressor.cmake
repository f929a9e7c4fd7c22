# V4 compressor (models/deepseek_v4/kernels/compressor.tl): the tiny config's 256-wide entries
# (192 + 64 RoPE) as CSA (ratio 4, overlap) and HCA (ratio 128), the V4-Flash sizes (512, CSA
# by default and HCA), and the indexer's 128-wide compressor (its module also runs the main
# form with a single 64-dim FP8 group).
tlv4_test_kernel(compressor_csa256 ${v4kernels}/compressor.tl D=256)
tlv4_test_kernel(compressor_hca256 ${v4kernels}/compressor.tl D=256 RATIO=128 OVERLAP=1)
tlv4_test_kernel(compressor_v4 ${v4kernels}/compressor.tl)
tlv4_test_kernel(compressor_v4_hca ${v4kernels}/compressor.tl RATIO=128 OVERLAP=1)
tlv4_test_kernel(compressor_idx128 ${v4kernels}/compressor.tl D=128)
