# Top-k selector (kernels/topk_selector.tl): the original's parameters
# (topk 2048, 1024 threads), and smaller blocks with smaller k so that rows
# span many block-strided passes and ragged last passes.
tlc_port_kernel(topk_selector ${ports}/topk_selector.tl)
tlc_port_kernel(topk_selector_k64_b256 ${ports}/topk_selector.tl topk=64 BLOCK_SIZE=256)
tlc_port_kernel(topk_selector_k300_b512 ${ports}/topk_selector.tl topk=300 BLOCK_SIZE=512)
