package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One AdamW step over one FP32 parameter buffer, in AdamW.java's order of float operations (no FMA
 * contraction: every product and sum is an explicitly rounded intrinsic), so with FP32 moments and a clip
 * factor of 1 it matches the oracle bit for bit. Each thread updates four consecutive elements with 16-byte
 * loads and stores (a memory-bound kernel needs the bytes in flight), the last {@code elements % 4} one by one. The gradient is first multiplied by the clip factor, and is
 * zeroed after the update so the next step's accumulation starts from 0. When the scalars' skip slot is set
 * (a non-finite gradient norm) nothing is written: the host names the bad tensor and zeroes the gradients.
 *
 * <p>{@code momentType} BF16 stores m and v as BF16 (recipes with {@code optimizer_states = bf16}): they are
 * widened, updated in FP32 and rounded to nearest even on store. {@code bf16Shadow} also writes the updated
 * weight rounded to BF16, the copy that BF16 GEMMs and embeddings read. Without {@code decay} the weight-decay
 * term is compiled with 0, as the oracle is called with {@code weightDecay = 0}.
 *
 * <p>Buffers: {@code param} (f32[elements]), {@code grad} (f32, zeroed), {@code m}, {@code v}
 * ({@code momentType}), {@code scalars} (f32[{@link AdamWScalarSlot#count()}]), [{@code param_bf16}].
 */
public record AdamWStep(int elements, AdamWHyperparameters hyper, boolean decay, DType momentType, boolean bf16Shadow)
        implements KernelSpec {

    private static final int THREADS = 256;

    public AdamWStep {
        Objects.requireNonNull(hyper, "hyper");
        Objects.requireNonNull(momentType, "momentType");
        if (elements <= 0) {
            throw new IllegalArgumentException("AdamW over " + elements + " elements");
        }
        if (momentType != DType.F32 && momentType != DType.BF16) {
            throw new IllegalArgumentException("AdamW moments are f32 or bf16, not " + momentType.irName());
        }
    }

    @Override
    public String kernelName() {
        return "adamw_" + elements + "_m" + momentType.irName() + (decay ? "_decay" : "_no_decay")
                + (bf16Shadow ? "_bf16_shadow" : "");
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>(List.of(
                KernelParam.inOut("param", DType.F32),
                KernelParam.inOut("grad", DType.F32),
                KernelParam.inOut("m", momentType),
                KernelParam.inOut("v", momentType),
                KernelParam.in("scalars", DType.F32)));
        if (bf16Shadow) {
            params.add(KernelParam.out("param_bf16", DType.BF16));
        }
        boolean bf16Moments = momentType == DType.BF16;
        double weightDecay = decay ? hyper.weightDecay() : 0.0;
        String body = """
                constexpr int N = %d, THREADS = %d, QUADS = N / 4;
                // Rounded from double as AdamW.java rounds them: 1 - beta is formed in double (0.1f, not 1f - 0.9f).
                constexpr float BETA1 = %s, BETA2 = %s, ONE_MINUS_BETA1 = %s, ONE_MINUS_BETA2 = %s;
                constexpr float EPS = %s, WEIGHT_DECAY = %s;

                // Four consecutive elements from 16 (FP32) or 8 (BF16) aligned bytes: quad q of the buffer.
                __device__ __forceinline__ void load4(const float* __restrict__ a, int q, float (&x)[4]) {
                    const float4 t = reinterpret_cast<const float4*>(a)[q];
                    x[0] = t.x; x[1] = t.y; x[2] = t.z; x[3] = t.w;
                }
                __device__ __forceinline__ void load4(const bf16_t* __restrict__ a, int q, float (&x)[4]) {
                    const uint2 t = reinterpret_cast<const uint2*>(a)[q];
                    x[0] = __uint_as_float(t.x << 16); x[1] = __uint_as_float(t.x & 0xffff0000u);
                    x[2] = __uint_as_float(t.y << 16); x[3] = __uint_as_float(t.y & 0xffff0000u);
                }
                __device__ __forceinline__ void store4(float* __restrict__ a, int q, const float (&x)[4]) {
                    reinterpret_cast<float4*>(a)[q] = make_float4(x[0], x[1], x[2], x[3]);
                }
                __device__ __forceinline__ void store4(bf16_t* __restrict__ a, int q, const float (&x)[4]) {
                    reinterpret_cast<uint2*>(a)[q] = make_uint2(
                            (unsigned) f32_to_bf16(x[0]) | ((unsigned) f32_to_bf16(x[1]) << 16),
                            (unsigned) f32_to_bf16(x[2]) | ((unsigned) f32_to_bf16(x[3]) << 16));
                }
                __device__ __forceinline__ float load1(const float* __restrict__ a, int i) { return a[i]; }
                __device__ __forceinline__ float load1(const bf16_t* __restrict__ a, int i) { return bf16_to_f32(a[i]); }
                __device__ __forceinline__ void store1(float* __restrict__ a, int i, float x) { a[i] = x; }
                __device__ __forceinline__ void store1(bf16_t* __restrict__ a, int i, float x) { a[i] = f32_to_bf16(x); }

                // One element in AdamW.java's order; p, m, v are updated in place (m and v as the moments store them).
                __device__ __forceinline__ void adamw(float& p, float grad, float& m, float& v, float lr, float c1, float c2,
                                                      float clip) {
                    const float g = __fmul_rn(grad, clip);
                    const float mi = __fadd_rn(__fmul_rn(BETA1, m), __fmul_rn(ONE_MINUS_BETA1, g));
                    const float vi = __fadd_rn(__fmul_rn(BETA2, v), __fmul_rn(__fmul_rn(ONE_MINUS_BETA2, g), g));
                    const float m_hat = __fdiv_rn(mi, c1), v_hat = __fdiv_rn(vi, c2);
                    const float step = __fadd_rn(__fdiv_rn(m_hat, __fadd_rn(__fsqrt_rn(v_hat), EPS)), __fmul_rn(WEIGHT_DECAY, p));
                    p = __fsub_rn(p, __fmul_rn(lr, step));
                    m = mi;
                    v = vi;
                }

                // A thread per four elements, loaded and stored 16 bytes at a time (8 for BF16); the last N %% 4
                // elements by the thread after the last quad, one at a time.
                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int q = blockIdx.x * THREADS + threadIdx.x;
                    if (q > QUADS || scalars[%d] != 0.0f) return;
                    const float lr = scalars[%d], c1 = scalars[%d], c2 = scalars[%d], clip = scalars[%d];
                    if (q < QUADS) {
                        float p[4], g[4], mv[4], vv[4];
                        load4(param, q, p);
                        load4(grad, q, g);
                        load4(m, q, mv);
                        load4(v, q, vv);
                        #pragma unroll
                        for (int j = 0; j < 4; j++) adamw(p[j], g[j], mv[j], vv[j], lr, c1, c2, clip);
                        store4(m, q, mv);
                        store4(v, q, vv);
                        store4(param, q, p);
                        reinterpret_cast<float4*>(grad)[q] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);%s
                    } else {
                        for (int i = 4 * QUADS; i < N; i++) {
                            float p = param[i], mi = load1(m, i), vi = load1(v, i);
                            adamw(p, grad[i], mi, vi, lr, c1, c2, clip);
                            store1(m, i, mi);
                            store1(v, i, vi);
                            param[i] = p;
                            grad[i] = 0.0f;%s
                        }
                    }
                }
                """.formatted(elements, THREADS,
                CudaLiteral.f32((float) hyper.beta1()), CudaLiteral.f32((float) hyper.beta2()),
                CudaLiteral.f32((float) (1 - hyper.beta1())), CudaLiteral.f32((float) (1 - hyper.beta2())),
                CudaLiteral.f32((float) hyper.eps()), CudaLiteral.f32((float) weightDecay),
                kernelName(), CudaKernel.signature(params), AdamWScalarSlot.SKIP.index(),
                AdamWScalarSlot.LEARNING_RATE.index(), AdamWScalarSlot.BIAS_CORRECTION1.index(),
                AdamWScalarSlot.BIAS_CORRECTION2.index(), AdamWScalarSlot.CLIP_FACTOR.index(),
                bf16Shadow ? "\n            store4(param_bf16, q, p);" : "",
                bf16Shadow ? "\n                param_bf16[i] = f32_to_bf16(p);" : "");
        String description = "AdamW step over f32[" + elements + "], moments " + momentType.irName()
                + ", beta1 " + hyper.beta1() + ", beta2 " + hyper.beta2() + ", eps " + hyper.eps()
                + ", weight decay " + weightDecay + (bf16Shadow ? ", bf16 shadow of the weight" : "")
                + ".\nscalars f32[" + AdamWScalarSlot.count() + "]: lr, 1-beta1^t, 1-beta2^t, clip factor, skip."
                + " Oracle: dev.octet.cpu.ops.AdamW.step; grad zeroed afterwards.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(elements / 4 / THREADS + 1, THREADS, 0), params);
    }
}
