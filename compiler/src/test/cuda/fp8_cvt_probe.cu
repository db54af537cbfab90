// Records what the GPU's cvt.rn.satfinite.{e4m3x2,e5m2x2}.f32 produce for a structured set of float32
// inputs (every exponent, every top-6 mantissa pattern, sticky-bit patterns, specials), so the CPU encoder in
// dev.octet.numerics.Fp8Format can be checked bit for bit. Output: records of (u32 input bits, u8 e4m3, u8 e5m2).
#include <cstdio>
#include <cstdint>
#include <vector>
#include <cuda_runtime.h>

__global__ void convert(const float* in, uint8_t* e4m3, uint8_t* e5m2, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = in[i];
    unsigned short a, b;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(a) : "f"(x), "f"(0.0f));
    asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(b) : "f"(x), "f"(0.0f));
    e4m3[i] = (uint8_t)(a >> 8);  // input a lands in the upper byte
    e5m2[i] = (uint8_t)(b >> 8);
}

int main(int argc, char** argv) {
    std::vector<uint32_t> bits;
    const uint32_t lows[] = {0u, 1u, 0x8000u, 0xffffu, 0x10000u, 0x1ffffu};
    for (uint32_t sign = 0; sign < 2; sign++)
        for (uint32_t e = 0; e < 256; e++)
            for (uint32_t top = 0; top < 64; top++)
                for (uint32_t low : lows)
                    bits.push_back((sign << 31) | (e << 23) | (top << 17) | low);
    int n = (int)bits.size();
    float* d_in; uint8_t* d_a; uint8_t* d_b;
    cudaMalloc(&d_in, n * 4); cudaMalloc(&d_a, n); cudaMalloc(&d_b, n);
    cudaMemcpy(d_in, bits.data(), n * 4, cudaMemcpyHostToDevice);
    convert<<<(n + 255) / 256, 256>>>(d_in, d_a, d_b, n);
    std::vector<uint8_t> a(n), b(n);
    cudaMemcpy(a.data(), d_a, n, cudaMemcpyDeviceToHost);
    cudaMemcpy(b.data(), d_b, n, cudaMemcpyDeviceToHost);
    if (cudaGetLastError() != cudaSuccess) { fprintf(stderr, "cuda error\n"); return 1; }
    FILE* f = fopen(argv[1], "wb");
    for (int i = 0; i < n; i++) { fwrite(&bits[i], 4, 1, f); fwrite(&a[i], 1, 1, f); fwrite(&b[i], 1, 1, f); }
    fclose(f);
    printf("%d inputs\n", n);
    return 0;
}
