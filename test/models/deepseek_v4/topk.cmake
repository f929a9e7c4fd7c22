# Top-k selector (models/deepseek_v4/kernels/topk.tl; topk_test.cpp):
# V4-Flash's K = 512 with the default block, list and sample; the tiny
# config's K = 8 with one warp, a list of 128, a sample of 64 and one load
# per thread per chunk; K = 64 with two warps and a list no larger than K (so
# tie-heavy rows run their rounds on the row itself), two loads per thread
# per chunk and an odd split of the column word (17 bits: 9 + 8); K = 256
# with two warps, so that the sort keeps four elements per thread, and three
# loads per thread per chunk. (The CPU build of a variant takes about 1 s
# per load per thread per chunk: keep UNROLL small here.)
tlv4_test_kernel(topk ${v4kernels}/topk.tl)
tlv4_test_kernel(topk_k8_b32 ${v4kernels}/topk.tl K=8 BLOCK=32 CAP=128 SAMPLE=64 UNROLL=1)
tlv4_test_kernel(topk_k64_b64_cap64 ${v4kernels}/topk.tl K=64 BLOCK=64 CAP=64 SAMPLE=32 UNROLL=2 IDX_BITS=17)
tlv4_test_kernel(topk_k256_b64 ${v4kernels}/topk.tl K=256 BLOCK=64 CAP=1024 SAMPLE=512 UNROLL=3)
