package dev.octet.compiler.cuda.attention;

/**
 * Device helpers for the BF16 tensor-core MMA {@code m16n8k16} (FP32 accumulate) that the attention kernels
 * are built from. With {@code g = lane / 4} and {@code c = 2·(lane % 4)}, a thread holds (PTX ISA, "Matrix
 * fragments for mma.m16n8k16"):
 * <pre>
 *   A 16×16 (row): a0 = A[g][c, c+1]   a1 = A[g+8][c, c+1]   a2 = A[g][c+8, c+9]   a3 = A[g+8][c+8, c+9]
 *   B 16×8  (col): b0 = B[c, c+1][g]   b1 = B[c+8, c+9][g]
 *   C 16×8  (f32): c0, c1 = C[g][c, c+1]   c2, c3 = C[g+8][c, c+1]
 * </pre>
 * each 32-bit register holding two BF16 with the lower index in the low half. So the C fragments of two
 * adjacent n-tiles, packed to BF16, are exactly the A fragment of the next MMA over those 16 columns: the
 * probabilities never leave registers. Fragments are loaded with plain 32-bit loads from row-major tiles
 * ({@code load_pair}), or from two 16-bit loads where the operand is read transposed ({@code gather_pair}):
 * simple and obviously correct, at some cost in shared-memory bandwidth against ldmatrix.
 */
final class TensorCoreFragments {
    private TensorCoreFragments() {}

    static final String SOURCE = """
            __device__ __forceinline__ float negative_infinity() {
                return __int_as_float(0xff800000);
            }

            // Two floats to two BF16 (round to nearest even) in one register, lo in the low half.
            __device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi) {
                unsigned r;
                asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
                return r;
            }

            // Two adjacent BF16 of a row-major tile, p[0] in the low half; p must be 4-byte aligned.
            __device__ __forceinline__ unsigned load_pair(const bf16_t* p) {
                return *reinterpret_cast<const unsigned*>(p);
            }

            // Two BF16 from anywhere, lo in the low half: a fragment of an operand read transposed.
            __device__ __forceinline__ unsigned gather_pair(const bf16_t* lo, const bf16_t* hi) {
                return (unsigned) *lo | ((unsigned) *hi << 16);
            }

            // c += a·b over one 16×8×16 tile, FP32 accumulation.
            __device__ __forceinline__ void mma_bf16(float c[4], const unsigned a[4], unsigned b0, unsigned b1) {
                asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                             "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
            }

            // The A fragment at (row0, col0) of a row-major BF16 matrix with the given row stride (elements).
            __device__ __forceinline__ void load_a(unsigned a[4], const bf16_t* m, int stride, int row0, int col0) {
                const int g = (threadIdx.x % 32) / 4, c = 2 * (threadIdx.x % 4);
                a[0] = load_pair(m + (row0 + g) * stride + col0 + c);
                a[1] = load_pair(m + (row0 + g + 8) * stride + col0 + c);
                a[2] = load_pair(m + (row0 + g) * stride + col0 + c + 8);
                a[3] = load_pair(m + (row0 + g + 8) * stride + col0 + c + 8);
            }

            // B fragment (k0.., n0..) where B[k][n] = m[n][k], m row-major: B is m transposed, pairs contiguous.
            __device__ __forceinline__ void load_b_from_rows(unsigned& b0, unsigned& b1, const bf16_t* m, int stride,
                                                             int k0, int n0) {
                const int g = (threadIdx.x % 32) / 4, c = 2 * (threadIdx.x % 4);
                b0 = load_pair(m + (n0 + g) * stride + k0 + c);
                b1 = load_pair(m + (n0 + g) * stride + k0 + c + 8);
            }

            // B fragment (k0.., n0..) where B[k][n] = m[k][n], m row-major: pairs gathered down a column.
            __device__ __forceinline__ void load_b_from_columns(unsigned& b0, unsigned& b1, const bf16_t* m, int stride,
                                                                int k0, int n0) {
                const int g = (threadIdx.x % 32) / 4, c = 2 * (threadIdx.x % 4);
                b0 = gather_pair(m + (k0 + c) * stride + n0 + g, m + (k0 + c + 1) * stride + n0 + g);
                b1 = gather_pair(m + (k0 + c + 8) * stride + n0 + g, m + (k0 + c + 9) * stride + n0 + g);
            }

            // The A fragment of columns 16·kk.. from the FP32 C fragments of n-tiles 2kk and 2kk+1, rounded to BF16.
            __device__ __forceinline__ void a_from_accumulators(unsigned a[4], const float lo[4], const float hi[4]) {
                a[0] = pack_bf16x2(lo[0], lo[1]);
                a[1] = pack_bf16x2(lo[2], lo[3]);
                a[2] = pack_bf16x2(hi[0], hi[1]);
                a[3] = pack_bf16x2(hi[2], hi[3]);
            }

            // Copies rows [row0, row0 + ROWS) of one head (HEAD_DIM wide, `stride` between tokens) into a
            // shared tile with row pitch PITCH, 16 bytes per load, all threads of the block taking part.
            template <int ROWS, int PITCH, int THREADS>
            __device__ __forceinline__ void copy_rows(bf16_t* tile, const bf16_t* head, int stride, long row0) {
                constexpr int CHUNKS = HEAD_DIM / 8;
                for (int i = threadIdx.x; i < ROWS * CHUNKS; i += THREADS) {
                    const int r = i / CHUNKS, d = (i % CHUNKS) * 8;
                    *reinterpret_cast<uint4*>(tile + r * PITCH + d) =
                            *reinterpret_cast<const uint4*>(head + (row0 + r) * stride + d);
                }
            }
            """;
}
