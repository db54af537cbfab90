/**
 * FP8 quantize kernels: BF16 or FP32 values in, FP8 codes and FP32 scales out, for the GEMM operands of the
 * recipe.
 *
 * <p><b>Layouts.</b> The input is row-major {@code [rows, cols]}. The output is the matrix the GEMM reads
 * K-major: the input itself, or with {@code transpose} the input's transpose {@code [cols, rows]} (wgrad
 * operands, reduced over tokens, so grouped along what were the input's rows). Codes are row-major over the
 * output; scales are row-major over {@code ScaleGrid.of(granularity, Axis.COLS, outputRows, outputCols)}:
 * group(g) = 1×g tiles along each output row, block(b) = b×b, channel/token = one per output row, tensor = one.
 * A partial tail tile gets its own scale from its own elements.
 *
 * <p><b>Semantics.</b> A scale is the dequantization multiplier ({@code x ≈ decode(code)·s}); codes are
 * {@code encode(x / s)}, IEEE division, round-to-nearest-even with saturation ({@code cvt.rn.satfinite}).
 * Scales follow {@code ScaleType} (UE8M0: smallest power of two with amax/s ≤ fmax; FP32: amax/fmax, at least
 * 2^-126; amax 0 gives 1). Amaxes are maxima of magnitude bits, exact and NaN-keeping; a tile holding inf or
 * NaN, which the oracle refuses, gets a NaN scale.
 *
 * <p><b>Kernels.</b> {@link dev.octet.compiler.cuda.quant.QuantizeGroups}: 1×g groups, a warp per group, or
 * transposed through a staged tile (optionally writing the input's own row groups from the same read);
 * {@link dev.octet.compiler.cuda.quant.QuantizeTiled}: group, block, channel, token, amax in the same kernel,
 * blocks of 64 and 128 through the same staged tile. Tensor-wise current scaling: {@link dev.octet.compiler.cuda.quant.AmaxReduce} (block
 * partials) then {@link dev.octet.compiler.cuda.quant.QuantizeTensorwise}. Tensor-wise delayed scaling:
 * {@code AmaxReduce} (first step only) → {@link dev.octet.compiler.cuda.quant.QuantizeDelayed} →
 * {@link dev.octet.compiler.cuda.quant.AmaxHistoryUpdate}, with the history and a counter of recorded amaxes
 * in device memory. Channel or token scales of a transposed output (one per input column):
 * {@link dev.octet.compiler.cuda.quant.ColumnAmax} (row-range partials) then
 * {@link dev.octet.compiler.cuda.quant.QuantizeColumns}. The tensor-scaled and column-scaled kernels write a
 * transposed output through {@link dev.octet.compiler.cuda.quant.TransposedTiles}.
 *
 * <p><b>Oracles</b> (bit for bit): {@code dev.octet.numerics.Quantizer.quantize} of the (transposed) matrix
 * with {@code Axis.COLS}, and {@code DelayedScaling.quantize}.
 */
package dev.octet.compiler.cuda.quant;
