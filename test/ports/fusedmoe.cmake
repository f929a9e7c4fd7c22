# test/ports/kernels/fusedmoe.tl: the original's tiles (128 x 128 x 128, f16),
# small tiles so ragged edges and per-expert padding meet many tiles, and bf16
# with mid-size tiles and a two-stage pipeline.
tlc_port_kernel(fusedmoe ${ports}/fusedmoe.tl)
tlc_port_kernel(fusedmoe_small ${ports}/fusedmoe.tl BT=16 BH=32 BF=32 NT=128)
tlc_port_kernel(fusedmoe_bf16 ${ports}/fusedmoe.tl BT=32 BH=64 BF=64 NT=128 stages=2 dt=bfloat16)
