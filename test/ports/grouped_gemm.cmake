# grouped_gemm (kernels/grouped_gemm.tl): forward and backward grouped GEMM on the CPU.
# Default: the sm_100a code (BM = 128); sm90: the Hopper code, TileLang's tile sizes
# (BM = 64); small and odd: tiles far smaller than the groups, so ragged group edges
# meet many tiles.
tlc_port_kernel(grouped_gemm ${ports}/grouped_gemm.tl)
tlc_port_kernel(grouped_gemm_sm90 ${ports}/grouped_gemm.tl --arch=sm_90a)
tlc_port_kernel(grouped_gemm_small ${ports}/grouped_gemm.tl BM=16 BN=16 BK=16 threads=128)
tlc_port_kernel(grouped_gemm_odd ${ports}/grouped_gemm.tl BM=32 BN=48 BK=24 stages=3)
