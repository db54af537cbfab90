/**
 * GEMM kernel templates: {@code C[M,N] = A[M,K] · B[N,K]ᵀ} followed by an epilogue, with M, N and K compiled
 * in as constants. Start at {@link dev.octet.compiler.cuda.gemm.GemmKernels#forProblem}: it takes a
 * {@link dev.octet.compiler.cuda.gemm.GemmProblem} and returns the kernel spec.
 *
 * <h2>What each kernel computes</h2>
 * <ul>
 *   <li>{@link dev.octet.compiler.cuda.gemm.Fp8WgmmaGemm}: A and B are FP8 (E4M3 or E5M2, mixed allowed), both
 *       K-major: A's codes are {@code [M,K]} row-major, B's {@code [N,K]} row-major, both read through TMA
 *       tensor maps. Each has FP32 dequantization scales laid out as
 *       {@code ScaleGrid.ofOperand(granularity, rows, K, transposed)} (row-major, except the 1×g groups of an
 *       operand written by a fused transpose, which lie K block by K block). Products are summed per promotion
 *       chunk ({@code gcd(128, scale tile widths along K)}), each chunk sum scaled by {@code sA·sB} and added
 *       into FP32. Oracle: {@code dev.octet.numerics.Fp8Gemm.multiply}, then the epilogue (to ~1e-4: the tensor
 *       cores' chunk sums are narrower than FP32). Parameters: {@code a, a_scales, b, b_scales, [bias],
 *       [residual], c}.
 *   <li>{@link dev.octet.compiler.cuda.gemm.Bf16MmaGemm}: A and B are BF16, each K-major ({@code [rows,K]}) or
 *       MN-major ({@code [K,rows]}), so dgrad reads W and wgrad reads dY and X as they are. FP32
 *       accumulation. Oracle: {@code dev.octet.cpu.ops.Linear} (double accumulation). Parameters:
 *       {@code a, b, [bias], [residual], c}.
 * </ul>
 * The epilogue ({@link dev.octet.compiler.cuda.gemm.GemmEpilogue}) adds {@code bias: bf16[N]} (the working copy), then
 * {@code residual: bf16[M,N]}, then (accumulate) the old {@code c: f32[M,N]}, and stores BF16 or FP32; C is
 * always {@code [M,N]} row-major.
 *
 * <h2>Contract with the launcher</h2>
 * Buffers are 16-byte aligned. A parameter with a {@code KernelParam.tensorMap()} view is passed as a TMA
 * descriptor the runtime encodes over the bound buffer's address. The FP8 grid is persistent (one block per
 * SM at most); the BF16 grid is {@code (ceil(N/blockN), ceil(M/blockM))}. The dynamic shared memory is
 * {@code LaunchGeometry.sharedBytes()}, above 48 KiB, so the launcher sets
 * {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES} to it before the first launch.
 */
package dev.octet.compiler.cuda.gemm;
