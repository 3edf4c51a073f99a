"""Inference engines for the enlargement network, and choosing the fastest one for this machine.

An engine turns an RRDBNet (its state dict, at the slider's blend) into a
callable with the network's image contract: RGB (N, 3, H, W) float32 in
[0, 1] -> (N, 3, 4H, 4W). Candidates (restorer.engines.catalog):

- torch fp32, channels-last (always available; the reference everything else is checked against);
- torch bf16 with fused oneDNN kernels (CPUs with AMX or AVX512-BF16);
- torch on CUDA or Apple's MPS, when present;
- ONNX Runtime on the CPU (the graph exported once, new blends swapped into its weights);
- int8 with one scale per channel, folded into the weights (restorer.engines.int8_scales), close enough
  to fp32 to be chosen automatically, on two runtimes:
  - OpenVINO (restorer.engines.openvino_int8): the fastest on large jobs, but each new blend compiles
    for seconds, so small jobs such as the slider's exact view go to the fastest other engine;
  - ONNX Runtime (restorer.engines.int8): its quantised operators, channels-last; a new blend builds
    in about half a second.

`select.best_engine` measures the candidates once on this machine (speed, and the
output's PSNR against torch fp32, which must stay above TOLERANCE_DB so eval
figures move by less than 0.1 dB) and remembers the choice in the user's cache.
"""

# Output PSNR against torch fp32 an engine must reach. The fused bf16 path measured 51 dB
# against fp32, and moved BSD100/Set5/Set14 by 0.003-0.013 dB (README); 45 dB keeps any
# engine's own error well under the 0.1 dB the figures may move.
TOLERANCE_DB = 45.0
