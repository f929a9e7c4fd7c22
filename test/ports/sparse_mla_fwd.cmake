# tilelang examples/deepseek_v32/sparse_mla_fwd.py (sparse_mla_fwd_test.cpp).
# The CPU runs the sm_100a block shape unless --arch=sm_90a.
tlc_port_kernel(sparse_mla_fwd ${ports}/sparse_mla_fwd.tl)
tlc_port_kernel(sparse_mla_fwd_sm90 ${ports}/sparse_mla_fwd.tl --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_small ${ports}/sparse_mla_fwd.tl H=20 D=64 DT=32 topk=128 BI=16 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_groups ${ports}/sparse_mla_fwd.tl H=32 G=2 D=128 DT=64 topk=192 BI=64 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_rep ${ports}/sparse_mla_fwd.tl H=256 G=2 D=64 DT=32 topk=64 BI=32 sm_scale=0.5 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_small100 ${ports}/sparse_mla_fwd.tl H=40 D=128 DT=64 topk=96 BI=32)
tlc_port_kernel(sparse_mla_fwd_rep100 ${ports}/sparse_mla_fwd.tl H=256 D=64 DT=32 topk=64 BI=16 sm_scale=0.5)
