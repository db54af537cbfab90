package dev.octet.compiler.cuda.loss;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * Softmax cross-entropy, forward and backward in one pass over the logits (llm.c's fused classifier): one
 * block per token row, FP32 math. Pass 1 keeps an online max and sum of exponentials per thread and merges
 * them across the block; pass 2 writes {@code dlogits = weight·(softmax − onehot(target))} in BF16 over the
 * logits, which are not needed afterwards. Where rows start on 16 bytes (the pitch a multiple of 8), both passes
 * move eight logits a load and pass 1 rescales its sum once per eight: two-byte loads and a rescale per logit held
 * the kernel at ~1 TB/s on Qwen2.5's 151,936-wide rows on the H200 (docs/benchmarks.md).
 *
 * <p>{@code weight = loss_weight[0]} is {@code dloss / (counted tokens of the whole optimizer step)}, computed
 * by the host, so micro-batches add up to {@code CrossEntropy}'s mean. A target below 0 is the mask (the
 * oracle's mask weight 0, e.g. ignore index −100): the row is not read, its loss is 0 and its dlogits are 0. A
 * target at or past the vocabulary (the oracle refuses it) gives a NaN loss and zero dlogits.
 *
 * <p>Buffers: {@code logits} (bf16[tokens, vocab], rows {@code pitch} elements apart: in: logits, out: dlogits), {@code targets} (i32[tokens]),
 * {@code loss_weight} (f32[1]), {@code losses} (f32[tokens]: weight·(logsumexp − logit[target]); their sum,
 * see {@link TokenLossSum}, is the mean loss).
 */
public record CrossEntropyFused(int tokens, int vocab, int pitch) implements KernelSpec {

    private static final int THREADS = 1024;

    /** Over logits whose rows lie back to back. */
    public CrossEntropyFused(int tokens, int vocab) {
        this(tokens, vocab, vocab);
    }

    public CrossEntropyFused {
        if (tokens <= 0) {
            throw new IllegalArgumentException("cross-entropy over no tokens: " + tokens);
        }
        if (vocab < 2) {
            throw new IllegalArgumentException("cross-entropy needs a vocabulary of at least 2, got " + vocab);
        }
        if (pitch < vocab) {
            throw new IllegalArgumentException("cross-entropy over rows of " + vocab + " logits " + pitch + " apart");
        }
        if ((long) tokens * pitch > Integer.MAX_VALUE) {
            // 32-bit row offsets keep the index math cheap; larger logits are split into several launches.
            throw new IllegalArgumentException("logits of " + tokens + "x" + pitch + " exceed 2^31 elements: split the tokens");
        }
    }

    @Override
    public String kernelName() {
        return "cross_entropy_fused_" + tokens + "x" + vocab + (pitch != vocab ? "_p" + pitch : "");
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = List.of(
                KernelParam.inOut("logits", DType.BF16),
                KernelParam.in("targets", DType.I32),
                KernelParam.in("loss_weight", DType.F32),
                KernelParam.out("losses", DType.F32));
        String body = """
                constexpr int V = %d, PITCH = %d, THREADS = %d;
                // Rows on 16-byte boundaries (the buffer is): logits are read and written eight at a time.
                constexpr bool VECTOR = PITCH %% 8 == 0;

                __device__ __forceinline__ void unpack8(uint4 raw, float (&x)[8]) {
                    const unsigned w[4] = {raw.x, raw.y, raw.z, raw.w};
                    #pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        x[2 * i] = __uint_as_float(w[i] << 16);
                        x[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
                    }
                }

                __device__ __forceinline__ unsigned pack2(float lo, float hi) {
                    return (unsigned) f32_to_bf16(lo) | ((unsigned) f32_to_bf16(hi) << 16);
                }

                __device__ __forceinline__ float neg_inf() {
                    return __uint_as_float(0xff800000u);
                }

                // Merges the running (max, sum of exp(x - max)) pair (m2, s2) into (m, s). A side that has seen no
                // finite logit adds nothing (exp(-inf - -inf) would be NaN).
                __device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
                    const float mm = fmaxf(m, m2);
                    const float a = m == neg_inf() ? 0.0f : s * expf(m - mm);
                    const float b = m2 == neg_inf() ? 0.0f : s2 * expf(m2 - mm);
                    m = mm;
                    s = a + b;
                }

                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    __shared__ float warp_m[THREADS / 32], warp_s[THREADS / 32];
                    const int row = blockIdx.x, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
                    bf16_t* __restrict__ z = logits + row * PITCH;
                    const int target = targets[row];
                    if (target < 0 || target >= V) {
                        if (VECTOR) {
                            for (int c = threadIdx.x; c < V / 8; c += THREADS) reinterpret_cast<uint4*>(z)[c] = make_uint4(0, 0, 0, 0);
                        }
                        for (int j = (VECTOR ? V / 8 * 8 : 0) + threadIdx.x; j < V; j += THREADS) z[j] = 0;
                        if (threadIdx.x == 0) losses[row] = target < 0 ? 0.0f : __uint_as_float(0x7fffffffu);
                        return;
                    }
                    const float weight = loss_weight[0];
                    // Read before pass 2 overwrites it; the barriers below order this read before any write.
                    const float target_logit = bf16_to_f32(z[target]);

                    // Pass 1: each thread's running (max, sum of exp(x - max)). Where rows start on 16 bytes, eight
                    // logits a load, the sum rescaled once per eight; the tail past the last whole eight one by one.
                    float m = neg_inf(), s = 0.0f;
                    if (VECTOR) {
                        #pragma unroll 2
                        for (int c = threadIdx.x; c < V / 8; c += THREADS) {
                            const uint4 raw = reinterpret_cast<const uint4*>(z)[c];
                            float x[8];
                            unpack8(raw, x);
                            float cm = x[0];
                            #pragma unroll
                            for (int e = 1; e < 8; ++e) cm = fmaxf(cm, x[e]);
                            const float mm = fmaxf(m, cm);
                            if (mm == neg_inf()) continue;  // nothing finite yet (exp(-inf - -inf) would be NaN)
                            float add = 0.0f;
                            #pragma unroll
                            for (int e = 0; e < 8; ++e) add += expf(x[e] - mm);
                            s = s * expf(m - mm) + add;
                            m = mm;
                        }
                    }
                    for (int j = (VECTOR ? V / 8 * 8 : 0) + threadIdx.x; j < V; j += THREADS) {
                        const float x = bf16_to_f32(z[j]);
                        if (x > m) {
                            s = s * expf(m - x) + 1.0f;
                            m = x;
                        } else if (x != neg_inf()) {
                            s += expf(x - m);
                        }
                    }
                    for (int o = 16; o > 0; o >>= 1) {
                        merge(m, s, __shfl_xor_sync(0xffffffffu, m, o), __shfl_xor_sync(0xffffffffu, s, o));
                    }
                    if (lane == 0) { warp_m[warp] = m; warp_s[warp] = s; }
                    __syncthreads();
                    m = lane < THREADS / 32 ? warp_m[lane] : neg_inf();
                    s = lane < THREADS / 32 ? warp_s[lane] : 0.0f;
                    for (int o = 16; o > 0; o >>= 1) {
                        merge(m, s, __shfl_xor_sync(0xffffffffu, m, o), __shfl_xor_sync(0xffffffffu, s, o));
                    }
                    const float lse = m + logf(s);
                    if (threadIdx.x == 0) losses[row] = weight * (lse - target_logit);

                    // Pass 2: dlogits over the logits, eight at a time where pass 1 read eight.
                    if (VECTOR) {
                        #pragma unroll 2
                        for (int c = threadIdx.x; c < V / 8; c += THREADS) {
                            uint4 raw = reinterpret_cast<const uint4*>(z)[c];
                            float x[8];
                            unpack8(raw, x);
                            float d[8];
                            #pragma unroll
                            for (int e = 0; e < 8; ++e) d[e] = expf(x[e] - lse) * weight;
                            if (target / 8 == c) d[target %% 8] -= weight;
                            raw.x = pack2(d[0], d[1]);
                            raw.y = pack2(d[2], d[3]);
                            raw.z = pack2(d[4], d[5]);
                            raw.w = pack2(d[6], d[7]);
                            reinterpret_cast<uint4*>(z)[c] = raw;
                        }
                    }
                    for (int j = (VECTOR ? V / 8 * 8 : 0) + threadIdx.x; j < V; j += THREADS) {
                        float d = expf(bf16_to_f32(z[j]) - lse) * weight;
                        if (j == target) d -= weight;
                        z[j] = f32_to_bf16(d);
                    }
                }
                """.formatted(vocab, pitch, THREADS, kernelName(), CudaKernel.signature(params));
        String description = "Fused softmax cross-entropy forward and backward, one block per row.\n"
                + "logits bf16[" + tokens + ", " + vocab + "]" + (pitch != vocab ? " (rows " + pitch + " apart)" : "") + " overwritten by dlogits = weight*(softmax - onehot);"
                + " targets i32[" + tokens + "] (< 0: masked); loss_weight f32[1]; losses f32[" + tokens + "].\n"
                + "Oracle: dev.octet.cpu.ops.CrossEntropy (mask weight 1 for target >= 0, 0 below).";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(tokens, THREADS, 0), params);
    }
}
