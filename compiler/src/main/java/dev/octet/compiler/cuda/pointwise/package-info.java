/**
 * Pointwise kernels over BF16 activations and the column sums behind bias and norm parameter gradients.
 *
 * <p>Layouts: tensors bf16[rows, cols] row-major (rows = T tokens, cols = D or the FFN width F); quantized
 * outputs fp8[rows, cols] plus f32[rows, cols/g] scales (1×g groups along cols); parameter gradients f32,
 * accumulated ({@code +=}).
 *
 * <p>Semantics and CPU oracles (dev.octet.cpu.ops): every element computed in FP32 from the BF16 inputs and
 * rounded once to BF16 (round to nearest even), as {@code Rounding.GPU} does in double:
 * <ul>
 *   <li>{@link dev.octet.compiler.cuda.pointwise.SwiGluForward}, {@link dev.octet.compiler.cuda.pointwise.SwiGluBackward}:
 *       {@code SwiGlu.forward/backward} (the same overflow-free sigmoid).</li>
 *   <li>{@link dev.octet.compiler.cuda.pointwise.GeluForward}, {@link dev.octet.compiler.cuda.pointwise.GeluBackward}:
 *       {@code Gelu.forward/backward}, tanh approximation.</li>
 *   <li>{@link dev.octet.compiler.cuda.pointwise.ResidualAdd}: {@code Residual.forward}; its in-place form adds
 *       a branch's input gradient into the residual stream's gradient (the autodiff's sum of two consumers'
 *       gradients).</li>
 *   <li>{@link dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate}: a linear layer's bias gradient
 *       ({@code db[n] += Σ_t dy[t, n]}), and the second stage of the norm parameter gradients; deterministic.</li>
 * </ul>
 * Forward activations may carry a fused quantized copy ({@link dev.octet.compiler.cuda.GroupQuantization}),
 * computed from the BF16-rounded values so fused and separate quantization agree bit for bit.
 */
package dev.octet.compiler.cuda.pointwise;
