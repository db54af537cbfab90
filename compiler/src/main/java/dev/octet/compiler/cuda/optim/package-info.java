/**
 * Optimizer kernels: the global gradient norm with its clip factor, and AdamW.
 *
 * <p><b>Layouts.</b> FP32 master weights, FP32 gradients (accumulated over micro-batches) and moments (FP32 or
 * BF16) are flat arrays of one parameter's elements; the optional BF16 shadow has the same length. The
 * per-step scalars live in device memory, in {@link dev.octet.compiler.cuda.optim.AdamWScalarSlot} order.
 *
 * <p><b>Order in a step.</b> {@link dev.octet.compiler.cuda.optim.GradSquareSum} per gradient buffer (into
 * its slot range of one partials buffer, see {@link dev.octet.compiler.cuda.optim.GradNormPlan}) →
 * {@link dev.octet.compiler.cuda.optim.GradNormFinalize} (norm, and the clip factor into the scalar buffer) →
 * {@link dev.octet.compiler.cuda.optim.AdamWStep} per parameter, which also zeroes the gradient. Every sum has
 * a fixed order, so the norm has the same bits every run.
 *
 * <p><b>Oracles</b>: {@code dev.octet.cpu.ops.GradientClipping} (clip factor {@code min(1, maxNorm/norm)}, 1
 * for a zero or non-finite norm, no eps) and {@code dev.octet.cpu.ops.AdamW} (bit for bit with FP32 moments
 * and a clip factor of 1; with clipping the oracle scales the gradient in double, the kernel by the float
 * factor, which may differ in the last bit).
 */
package dev.octet.compiler.cuda.optim;
