/**
 * CPU reference ops: the oracle for every GPU kernel and the trainer used when there is no GPU.
 *
 * <p>llm.c style: one file per op family, each with static {@code forward} and {@code backward} methods over plain
 * row-major {@code double[]} arrays and explicit int shapes. Activations are {@code [rows, dim]} with
 * {@code rows = B*T}. Everything is computed in double; {@link dev.octet.cpu.ops.Rounding} says whether the values
 * the GPU would store in BF16 are rounded to BF16 ({@code GPU}) or left exact ({@code EXACT}, used by the
 * finite-difference gradient checks).
 *
 * <p>Conventions every op follows, so an autodiff can call them uniformly:
 * <ul>
 *   <li>Outputs are written ({@code =}), never accumulated, and are distinct arrays from the inputs
 *       (unless an op's documentation says aliasing is allowed).
 *   <li>Gradients with respect to inputs (activations) are written ({@code =}). Where a tensor feeds several
 *       consumers the autodiff sums the per-consumer gradients itself (e.g. with {@link dev.octet.cpu.ops.Residual}).
 *   <li>Gradients with respect to parameters are accumulated ({@code +=}) into the array given, so gradient
 *       accumulation over micro-batches and weight sharing (tied embeddings) need no extra work. Zero them
 *       before the first micro-batch.
 *   <li>Under {@code Rounding.GPU} forward outputs and input gradients (both BF16 tensors on the GPU) are rounded
 *       to BF16 after high-precision accumulation; parameter gradients are FP32 on the GPU and are kept unrounded
 *       here (the trainer converts them to {@code float[]} for the optimizer). Saved statistics (norm rstd/mean,
 *       attention logsumexp) are FP32 on the GPU and are kept unrounded.
 *   <li>The optimizer ({@link dev.octet.cpu.ops.AdamW}, {@link dev.octet.cpu.ops.GradientClipping}) works on FP32
 *       {@code float[]} master weights, gradients and moments, as the recipe says.
 * </ul>
 */
package dev.octet.cpu.ops;
