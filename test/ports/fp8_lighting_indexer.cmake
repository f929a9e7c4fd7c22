# fp8_lighting_indexer (DeepSeek-V3.2 lightning indexer, FP8): the defaults (the CPU runs the
# sm_100a code, block_N = 128), the original's sm_90a tile (block_N = 256), and small tiles
# with few heads so that ragged key ranges and query counts cross many tiles and blocks.
tlc_port_kernel(fp8_lighting_indexer ${ports}/fp8_lighting_indexer.tl)
tlc_port_kernel(fp8_lighting_indexer_sm90 ${ports}/fp8_lighting_indexer.tl --arch=sm_90a)
tlc_port_kernel(fp8_lighting_indexer_small ${ports}/fp8_lighting_indexer.tl heads=8 index_dim=32 block_N=16 block_Q=3 num_stages=2 threads=64 block_K=128)
tlc_port_kernel(fp8_lighting_indexer_h16 ${ports}/fp8_lighting_indexer.tl heads=16 block_N=32 threads=128 block_K=256)
