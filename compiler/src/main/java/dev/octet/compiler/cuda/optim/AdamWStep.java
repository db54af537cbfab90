package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One AdamW step over one FP32 parameter buffer, in AdamW.java's order of float operations (no FMA
 * contraction: every product and sum is an explicitly rounded intrinsic), so with FP32 moments and a clip
 * factor of 1 it matches the oracle bit for bit. Each thread updates four consecutive elements with 16-byte
 * loads and stores (a memory-bound kernel needs the bytes in flight), the last {@code elements % 4} one by one.
 * {@link AdamWSteps} runs the same update over several buffers in one launch. The gradient is first multiplied by the clip factor, and is
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
        implements MultiTensorKernel {

    static final int THREADS = 256;

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

    /** Blocks of one launch over {@code elements}: a thread per four elements, and one more for the last {@code elements % 4}. */
    static int blocks(int elements) {
        return elements / 4 / THREADS + 1;
    }

    /**
     * What a single AdamW launch and a batched one ({@link AdamWSteps}) share: the hyperparameters as constants, the
     * per-element update in AdamW.java's order, and {@code adamw_span<SHADOW>(param, grad, m, v, shadow, n, q, scalars)},
     * thread {@code q}'s share of one buffer of {@code n} elements ({@link #blocks} blocks of {@code THREADS}).
     */
    static String deviceFunctions(AdamWHyperparameters hyper, boolean decay) {
        double weightDecay = decay ? hyper.weightDecay() : 0.0;
        return """
                constexpr int THREADS = %d, SKIP = %d, LEARNING_RATE = %d, BIAS_CORRECTION1 = %d, BIAS_CORRECTION2 = %d, CLIP = %d;
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

                // Thread q of a buffer of n elements: the four elements of quad q, loaded and stored 16 bytes at a time (8 for
                // BF16), or (q == n / 4) the last n %% 4 one at a time; the gradient zeroed, the BF16 copy written with SHADOW.
                template <bool SHADOW, typename M>
                __device__ __forceinline__ void adamw_span(float* __restrict__ param, float* __restrict__ grad, M* __restrict__ m,
                                                           M* __restrict__ v, bf16_t* __restrict__ shadow, int n, int q,
                                                           const float* __restrict__ scalars) {
                    const int quads = n / 4;
                    if (q > quads) return;
                    const float lr = scalars[LEARNING_RATE], c1 = scalars[BIAS_CORRECTION1], c2 = scalars[BIAS_CORRECTION2];
                    const float clip = scalars[CLIP];
                    if (q < quads) {
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
                        reinterpret_cast<float4*>(grad)[q] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                        if (SHADOW) store4(shadow, q, p);
                    } else {
                        for (int i = 4 * quads; i < n; i++) {
                            float p = param[i], mi = load1(m, i), vi = load1(v, i);
                            adamw(p, grad[i], mi, vi, lr, c1, c2, clip);
                            store1(m, i, mi);
                            store1(v, i, vi);
                            param[i] = p;
                            grad[i] = 0.0f;
                            if (SHADOW) shadow[i] = f32_to_bf16(p);
                        }
                    }
                }
                """.formatted(THREADS, AdamWScalarSlot.SKIP.index(), AdamWScalarSlot.LEARNING_RATE.index(),
                AdamWScalarSlot.BIAS_CORRECTION1.index(), AdamWScalarSlot.BIAS_CORRECTION2.index(),
                AdamWScalarSlot.CLIP_FACTOR.index(),
                CudaLiteral.f32((float) hyper.beta1()), CudaLiteral.f32((float) hyper.beta2()),
                CudaLiteral.f32((float) (1 - hyper.beta1())), CudaLiteral.f32((float) (1 - hyper.beta2())),
                CudaLiteral.f32((float) hyper.eps()), CudaLiteral.f32((float) weightDecay));
    }

    @Override
    public Object batchKey() {
        return List.of("adamw", hyper, decay, momentType, bf16Shadow);
    }

    @Override
    public Set<String> memberParams() {
        return bf16Shadow ? Set.of("param", "grad", "m", "v", "param_bf16") : Set.of("param", "grad", "m", "v");
    }

    @Override
    public KernelSpec batch(List<? extends MultiTensorKernel> members) {
        return new AdamWSteps(members.stream().map(k -> ((AdamWStep) k).elements()).toList(), hyper, decay, momentType,
                bf16Shadow);
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
        String body = deviceFunctions(hyper, decay) + """

                constexpr int N = %d;

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    if (scalars[SKIP] != 0.0f) return;
                    adamw_span<%b>(param, grad, m, v, %s, N, blockIdx.x * THREADS + threadIdx.x, scalars);
                }
                """.formatted(elements, kernelName(), CudaKernel.signature(params), bf16Shadow, bf16Shadow ? "param_bf16" : "nullptr");
        double weightDecay = decay ? hyper.weightDecay() : 0.0;
        String description = "AdamW step over f32[" + elements + "], moments " + momentType.irName()
                + ", beta1 " + hyper.beta1() + ", beta2 " + hyper.beta2() + ", eps " + hyper.eps()
                + ", weight decay " + weightDecay + (bf16Shadow ? ", bf16 shadow of the weight" : "")
                + ".\nscalars f32[" + AdamWScalarSlot.count() + "]: lr, 1-beta1^t, 1-beta2^t, clip factor, skip."
                + " Oracle: dev.octet.cpu.ops.AdamW.step; grad zeroed afterwards.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(blocks(elements), THREADS, 0), params);
    }
}
