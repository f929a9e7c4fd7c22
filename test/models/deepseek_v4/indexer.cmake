# Lightning indexer (models/deepseek_v4/kernels/indexer.tl): the V4-Flash sizes (IH = 64,
# DI = 128, BN = 128, BQ = 4) for both GPU code paths the CPU can run (T.arch sm_100a: weights
# from shared memory; sm_90a: from registers), and small head counts with small key tiles
# (BN 16 / 32) and odd query blocks (BQ = 3, 1) so that ragged S and N cross many tiles; one
# without the -inf stores past the visited tiles (FILL_INVISIBLE = False); and the other head
# dims the kernels take (DI = 64: RoPE over the whole row; DI = 256).
tlv4_test_kernel(indexer_v4 ${v4kernels}/indexer.tl)
tlv4_test_kernel(indexer_v4_sm90 ${v4kernels}/indexer.tl --arch=sm_90a)
tlv4_test_kernel(indexer_h8 ${v4kernels}/indexer.tl IH=8 HB=4 BN=16 BQ=3 TPB=2)
tlv4_test_kernel(indexer_h4_sm90 ${v4kernels}/indexer.tl IH=4 HB=2 BN=32 BQ=2 TPB=3 --arch=sm_90a)
tlv4_test_kernel(indexer_h8_bq1 ${v4kernels}/indexer.tl IH=8 HB=8 BN=16 BQ=1 TPB=1 stages=1)
tlv4_test_kernel(indexer_h8_nofill ${v4kernels}/indexer.tl IH=8 HB=8 BN=16 BQ=2 TPB=2 FILL_INVISIBLE=False)
tlv4_test_kernel(indexer_h4_d64 ${v4kernels}/indexer.tl IH=4 HB=4 DI=64 BN=16 BQ=2 TPB=2)
tlv4_test_kernel(indexer_h4_d256 ${v4kernels}/indexer.tl IH=4 HB=2 DI=256 BN=32 BQ=3 TPB=1 --arch=sm_90a)
