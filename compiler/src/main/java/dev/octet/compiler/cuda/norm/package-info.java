/**
 * RMSNorm and LayerNorm kernels, forward with optional fused residual add and quantized output, backward
 * with deterministic parameter gradients.
 *
 * <p>Layouts: rows = T tokens; x, y, dy, dx bf16[T, D] row-major; weight and bias read as the FP32 masters
 * f32[D]; saved statistics rstd (and mean for LayerNorm) f32[T]; quantized y: codes fp8[T, D] and scales
 * f32[T, D/g] (1×g groups along D, see {@link dev.octet.compiler.cuda.GroupQuantization}).
 *
 * <p>Semantics and CPU oracles (dev.octet.cpu.ops), all arithmetic in FP32, BF16 only where stored:
 * <ul>
 *   <li>{@link dev.octet.compiler.cuda.norm.NormForward} RMS: {@code RmsNorm.forward}
 *       ({@code rstd = 1/sqrt(mean(x²) + eps)}, {@code y = x·rstd·w}); LAYER: {@code LayerNorm.forward}
 *       (two-pass biased variance, {@code y = (x − mean)·rstd·w + b}). With the residual add, first
 *       {@code Residual.forward} ({@code s = bf16(residual + branch)}, written as the new residual stream),
 *       then the norm of s. The quantized y is {@code Quantizer.quantize} of the BF16-rounded y with
 *       {@code Granularity.group(g)} along D, bit-identical to a separate quantize kernel reading y.</li>
 *   <li>{@link dev.octet.compiler.cuda.norm.NormBackward}: {@code RmsNorm.backward} /
 *       {@code LayerNorm.backward}; dx written (plus the residual stream's gradient, added in FP32 before
 *       rounding), the parameter gradients in two deterministic stages: per-block partial sums
 *       f32[partialRows, D], then {@link dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate} into the
 *       FP32 gradients ({@code +=}).</li>
 * </ul>
 */
package dev.octet.compiler.cuda.norm;
