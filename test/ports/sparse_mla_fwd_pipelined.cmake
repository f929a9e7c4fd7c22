# tilelang examples/deepseek_v32/sparse_mla_fwd_pipelined.py
# (sparse_mla_fwd_pipelined_test.cpp). The CPU runs the sm_100a block shape
# unless --arch=sm_90a.
tlc_port_kernel(sparse_mla_fwd_pipelined ${ports}/sparse_mla_fwd_pipelined.tl)
tlc_port_kernel(sparse_mla_fwd_pipelined_sm90 ${ports}/sparse_mla_fwd_pipelined.tl --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_pipelined_stride ${ports}/sparse_mla_fwd_pipelined.tl H=24 D=64 DT=32 topk=128 BI=32 KV_stride=4 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_pipelined_cp ${ports}/sparse_mla_fwd_pipelined.tl H=32 G=2 D=128 DT=64 topk=64 BI=16 KV_stride=2 CP0=False sm_scale=0.5 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_pipelined_rep ${ports}/sparse_mla_fwd_pipelined.tl H=128 D=64 DT=32 topk=96 BI=16 --arch=sm_90a)
tlc_port_kernel(sparse_mla_fwd_pipelined_small100 ${ports}/sparse_mla_fwd_pipelined.tl H=40 D=128 DT=64 topk=96 BI=32 KV_stride=2)
tlc_port_kernel(sparse_mla_fwd_pipelined_rep100 ${ports}/sparse_mla_fwd_pipelined.tl H=256 D=64 DT=32 topk=64 BI=16 sm_scale=0.5)
