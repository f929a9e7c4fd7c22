# mHC (models/deepseek_v4/kernels/hc.tl): the tiny config's hidden size (256) and V4-Flash's
# (4096), both with 4 copies and 20 Sinkhorn rounds; the tiny one also with 64-wide chunks
# and hc_post blocks of 128 columns, so D spans several of each.
tlv4_test_kernel(hc_tiny ${v4kernels}/hc.tl D=256)
tlv4_test_kernel(hc_tiny_ch64 ${v4kernels}/hc.tl D=256 CH=64 BD=128)
tlv4_test_kernel(hc_v4 ${v4kernels}/hc.tl)
