package dev.octet.compiler.cuda.quant;

/** Device helpers shared by the quantize and amax kernels: exact, NaN-keeping maxima of magnitudes. */
final class AmaxDevice {
    private AmaxDevice() {}

    static final String SOURCE = """

            // |v| as bits. Unsigned order is magnitude order for finite values, with inf above them and NaN above
            // inf, so an integer max is an exact amax that keeps a NaN (fmaxf would drop it).
            __device__ __forceinline__ unsigned abs_bits(float v) {
                return __float_as_uint(v) & 0x7fffffffu;
            }

            __device__ __forceinline__ unsigned warp_max_bits(unsigned b) {
                for (int o = 16; o > 0; o >>= 1) b = max(b, __shfl_xor_sync(0xffffffffu, b, o));
                return b;
            }

            // The block's max, returned to every thread; blockDim.x is a multiple of 32. Ends with a barrier so
            // that a second call cannot overwrite warp_maxes while a slow warp still reads them.
            __device__ __forceinline__ unsigned block_max_bits(unsigned b) {
                __shared__ unsigned warp_maxes[32];
                const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
                b = warp_max_bits(b);
                if (lane == 0) warp_maxes[warp] = b;
                __syncthreads();
                b = warp_max_bits(lane < (int) (blockDim.x >> 5) ? warp_maxes[lane] : 0u);
                __syncthreads();
                return b;
            }

            // The max of per-block amaxes written by an earlier kernel, reduced by the whole block. Max is exact
            // and order-free, so every block that reads the same partials gets the same bits.
            __device__ __forceinline__ unsigned max_of_partials(const float* __restrict__ partials, int count) {
                unsigned b = 0;
                for (int i = threadIdx.x; i < count; i += blockDim.x) b = max(b, __float_as_uint(partials[i]));
                return block_max_bits(b);
            }

            // A tile holding inf or NaN has no finite scale (the CPU oracle refuses it); a NaN scale marks it and
            // turns its codes into NaN, so the step cannot silently go on with a wrong scale.
            __device__ __forceinline__ bool amax_is_finite(unsigned bits) {
                return bits < 0x7f800000u;
            }

            __device__ __forceinline__ float nan_scale() {
                return __uint_as_float(0x7fffffffu);
            }
            """;
}
