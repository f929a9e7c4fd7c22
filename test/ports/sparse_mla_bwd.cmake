# sparse_mla_bwd (kernels/sparse_mla_bwd.tl): preprocess, main backward and postprocess as one
# kernel sequence. Default: D = 64, D_tail = 32, the sm_100a tiles (block_H = BS = 128, what the
# CPU target's default T.arch picks); sm90: the Hopper tiles (64); small: 16-row tiles so
# ragged head counts, topk and sequence lengths cross many tiles; orig: the original's BS = 32
# and block_H = 32 (its choice for 32 heads) with D = 128, D_tail = 64.
tlc_port_kernel(sparse_mla_bwd ${ports}/sparse_mla_bwd.tl)
tlc_port_kernel(sparse_mla_bwd_sm90 ${ports}/sparse_mla_bwd.tl --arch=sm_90a)
tlc_port_kernel(sparse_mla_bwd_small ${ports}/sparse_mla_bwd.tl block_H=16 BS=16 block_ND=16 block_N=32)
tlc_port_kernel(sparse_mla_bwd_orig ${ports}/sparse_mla_bwd.tl D=128 D_tail=64 block_H=32 BS=32)
