// Shows why Octet's Hopper consumers never trap: a warpgroup that takes registers with setmaxnreg.inc gets them
// from ptxas only where no __trap() is reachable. Each consumer thread here keeps 200 floats live, more than the
// 168 registers a 384-thread block has at launch. Compare ptxas's report of the two builds:
//   nvcc -arch=sm_90a -cubin -Xptxas -v -o /dev/null compiler/src/test/cuda/setmaxnreg_trap_probe.cu
//       -> 0 bytes spill stores (the consumer code is allocated with setmaxnreg's 232 registers)
//   nvcc -arch=sm_90a -cubin -Xptxas -v -DWITH_TRAP -o /dev/null compiler/src/test/cuda/setmaxnreg_trap_probe.cu
//       -> hundreds of bytes of spill stores (allocated with the launch bound's 168)
// (docs/decisions.md, "Consumers have no trap path"; NVRTC 12.6 and CUDA 13's ptxas behave alike.)

constexpr int LIVE = 200;

// setmaxnreg exists on sm_90a only; nvcc also embeds PTX for compute_90, which compiles without it.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SETMAXNREG(action, count) asm volatile("setmaxnreg." #action ".sync.aligned.u32 " #count ";" ::: "memory")
#else
#define SETMAXNREG(action, count)
#endif

extern "C" __global__ void __launch_bounds__(384, 1) probe(const float* __restrict__ in, float* __restrict__ out, int n) {
    if (threadIdx.x / 128 == 0) {
        SETMAXNREG(dec, 40);
        if (threadIdx.x == 0) out[0] = 1.0f;
    } else {
        SETMAXNREG(inc, 232);
        float v[LIVE];
#pragma unroll
        for (int i = 0; i < LIVE; ++i) v[i] = in[threadIdx.x + i * 384];
        for (int it = 0; it < n; ++it) {
#ifdef WITH_TRAP
            if (in[it] == 12345.0f) __trap();
#endif
#pragma unroll
            for (int i = 0; i < LIVE; ++i) asm volatile("" : "+f"(v[i]));
#pragma unroll
            for (int i = 0; i < LIVE; ++i) v[i] = v[i] * 1.0001f + v[(i + 1) % LIVE];
        }
        float s = 0;
#pragma unroll
        for (int i = 0; i < LIVE; ++i) s += v[i];
        out[threadIdx.x] = s;
    }
}
