package dev.octet.compiler.cuda;

/**
 * Device helpers of the sm_90a kernels (TMA, mbarriers, wgmma, register reallocation), placed after
 * {@link CudaPrelude}'s. Written with inline PTX, since NVRTC 12.6 has no CUDA headers for them.
 *
 * <p>A ring stage is guarded by two mbarriers: "full" completes when the TMA copies into the stage have landed
 * (one producer arrival carrying the expected byte count), "empty" when every consumer warp is done reading it.
 * Phases alternate; a waiter passes the parity of the phase it waits for. A wait that has not completed
 * after about ten seconds traps, so a lost copy fails the launch instead of hanging the stream.
 */
public final class HopperPrelude {
    private HopperPrelude() {}

    private static final String SOURCE = """
            // A CUtensorMap as the driver encodes it (cuTensorMapEncodeTiled); passed by value as a __grid_constant__.
            struct __align__(64) tensor_map_t { unsigned long long opaque[16]; };

            __device__ __forceinline__ unsigned smem_u32(const void* p) {
                return (unsigned) __cvta_generic_to_shared(p);
            }

            // The first 1024-byte boundary at or after `raw` (the 128-byte swizzle's period), as an offset from `raw`
            // rather than through an integer, so that the compiler still knows every pointer derived from it is in
            // shared memory and reads through it with ld.shared instead of generic loads.
            __device__ __forceinline__ unsigned char* align_shared_1024(unsigned char* raw) {
                return raw + ((1024u - (smem_u32(raw) & 1023u)) & 1023u);
            }

            __device__ __forceinline__ void mbar_init(unsigned long long* bar, unsigned arrivals) {
                asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(smem_u32(bar)), "r"(arrivals) : "memory");
            }

            // Makes initialised barriers visible to the async proxy (TMA) and to the other threads after a __syncthreads.
            __device__ __forceinline__ void mbar_init_fence() {
                asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
                asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
            }

            __device__ __forceinline__ void mbar_arrive(unsigned long long* bar) {
                asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(smem_u32(bar)) : "memory");
            }

            // One arrival that also tells the barrier how many bytes of asynchronous copies will complete on it.
            __device__ __forceinline__ void mbar_arrive_expect_tx(unsigned long long* bar, unsigned bytes) {
                asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(smem_u32(bar)), "r"(bytes) : "memory");
            }

            __device__ __forceinline__ bool mbar_try_wait(unsigned addr, unsigned parity) {
                unsigned done;
                asm volatile("{\\n.reg .pred p;\\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\\nselp.u32 %0, 1, 0, p;\\n}"
                             : "=r"(done) : "r"(addr), "r"(parity) : "memory");
                return done != 0;
            }

            // Waits until the phase of parity `parity` has completed. Traps after ~10 s: a copy or an arrival was lost.
            // Also the producers' wait for the consumers of every block of a cluster: their arrivals follow their last
            // reads of the stage (wgmma.wait_group), which is all the ordering a refill by TMA needs.
            __device__ __forceinline__ void mbar_wait(unsigned long long* bar, unsigned parity) {
                const unsigned addr = smem_u32(bar);
                if (mbar_try_wait(addr, parity)) return;  // the common case reads no clock
                const long long start = clock64();
                while (!mbar_try_wait(addr, parity)) {
                    if (clock64() - start > 20000000000ll) __trap();
                }
            }

            // mbar_wait for the warpgroups that took registers with setmaxnreg.inc (the consumers): where a trap is
            // reachable, ptxas allocates with the launch bound's register count instead (168 for 384 threads), so
            // the wgmmas' accumulators spill or the wgmmas are serialised for want of registers (C7512). After ~10 s
            // this wait sets `late` and returns, later waits with `late` set return at once, and the caller has a
            // thread without accumulators (a producer) trap for it.
            __device__ __forceinline__ void mbar_wait_or_late(unsigned long long* bar, unsigned parity, bool& late) {
                const unsigned addr = smem_u32(bar);
                if (mbar_try_wait(addr, parity)) return;
                const long long start = clock64();
                while (!late && !mbar_try_wait(addr, parity)) {
                    if (clock64() - start > 20000000000ll) late = true;
                }
            }

            __device__ __forceinline__ unsigned cluster_cta_rank() {
                unsigned rank;
                asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
                return rank;
            }

            // Every thread of every block of the cluster: what one block wrote or initialised is visible to all.
            __device__ __forceinline__ void cluster_sync() {
                asm volatile("barrier.cluster.arrive.release.aligned;\\nbarrier.cluster.wait.acquire.aligned;" ::: "memory");
            }

            // Arrives on the mbarrier at bar's shared-memory offset in block `rank` of the cluster.
            __device__ __forceinline__ void mbar_arrive_cluster(unsigned long long* bar, unsigned rank) {
                unsigned remote;
                asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(smem_u32(bar)), "r"(rank));
                asm volatile("mbarrier.arrive.shared::cluster.b64 _, [%0];" :: "r"(remote) : "memory");
            }

            __device__ __forceinline__ void prefetch_tensor_map(const tensor_map_t* map) {
                asm volatile("prefetch.tensormap [%0];" :: "l"((unsigned long long) map) : "memory");
            }

            // TMA: the box at (c0 innermost, c1) of the tensor `map` describes, into shared memory at dst;
            // completes `bar`'s transaction count by the box's bytes (zero-filled past the tensor's edge).
            __device__ __forceinline__ void tma_load_2d(void* dst, const tensor_map_t* map, int c0, int c1,
                                                        unsigned long long* bar) {
                asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];"
                             :: "r"(smem_u32(dst)), "l"((unsigned long long) map), "r"(smem_u32(bar)), "r"(c0), "r"(c1)
                             : "memory");
            }

            // The same box written to dst in every block of the cluster that `mask` names, each block's `bar`
            // (same offsets) completing by the box's bytes.
            __device__ __forceinline__ void tma_load_2d_multicast(void* dst, const tensor_map_t* map, int c0, int c1,
                                                                  unsigned long long* bar, unsigned short mask) {
                asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%3, %4}], [%2], %5;"
                             :: "r"(smem_u32(dst)), "l"((unsigned long long) map), "r"(smem_u32(bar)), "r"(c0), "r"(c1), "h"(mask)
                             : "memory");
            }

            // TMA store: the box at (c0 innermost, c1) of the tensor `map` describes, from shared memory at src (laid out as
            // a load of the same box would write it); parts past the tensor's edge are not written. Asynchronous: src may
            // be reused once bulk_wait_read says the store has read it. Commit with bulk_commit.
            __device__ __forceinline__ void tma_store_2d(const tensor_map_t* map, const void* src, int c0, int c1) {
                asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%2, %3}], [%1];"
                             :: "l"((unsigned long long) map), "r"(smem_u32(src)), "r"(c0), "r"(c1) : "memory");
            }

            // The same box added into the tensor (FP32: global += src, each element once, rounded to nearest).
            __device__ __forceinline__ void tma_reduce_add_2d(const tensor_map_t* map, const void* src, int c0, int c1) {
                asm volatile("cp.reduce.async.bulk.tensor.2d.global.shared::cta.add.tile.bulk_group [%0, {%2, %3}], [%1];"
                             :: "l"((unsigned long long) map), "r"(smem_u32(src)), "r"(c0), "r"(c1) : "memory");
            }

            __device__ __forceinline__ void bulk_commit() {
                asm volatile("cp.async.bulk.commit_group;" ::: "memory");
            }

            // Waits until at most N of this thread's committed bulk stores still read their shared memory.
            template <int N>
            __device__ __forceinline__ void bulk_wait_read() {
                asm volatile("cp.async.bulk.wait_group.read %0;" :: "n"(N) : "memory");
            }

            // Waits until at most N of this thread's committed bulk stores are still incomplete.
            template <int N>
            __device__ __forceinline__ void bulk_wait() {
                asm volatile("cp.async.bulk.wait_group %0;" :: "n"(N) : "memory");
            }

            // 4 bytes from global to shared memory without a register (cp.async); those past src_bytes (0-4) are zero.
            __device__ __forceinline__ void cp_async_4(void* dst, const void* src, int src_bytes) {
                asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(smem_u32(dst)), "l"(src), "r"(src_bytes) : "memory");
            }

            // Waits for this thread's cp.async copies.
            __device__ __forceinline__ void cp_async_wait_all() {
                asm volatile("cp.async.wait_all;" ::: "memory");
            }

            // Makes this thread's ordinary shared-memory writes visible to the async proxy (TMA, wgmma).
            __device__ __forceinline__ void fence_proxy_async_shared() {
                asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
            }

            // A barrier among `threads` threads (whole warps) on hardware barrier `id` (0 is __syncthreads's).
            __device__ __forceinline__ void named_barrier_sync(int id, int threads) {
                asm volatile("bar.sync %0, %1;" :: "r"(id), "r"(threads) : "memory");
            }

            // Shared-memory matrix descriptor of wgmma for a K-major tile whose rows are 128 bytes, stored with
            // the 128-byte swizzle TMA writes: 8-row groups 1024 bytes apart, leading offset unused (encoded 1).
            __device__ __forceinline__ unsigned long long wgmma_desc_k128b(unsigned smem_address) {
                return (unsigned long long) ((smem_address & 0x3FFFF) >> 4) | (1ull << 16) | ((1024ull >> 4) << 32)
                       | (1ull << 62);
            }

            // The same for an MN-major tile (a B operand stored [K][N], N contiguous) in 64-element-wide panels of
            // 128-byte swizzled rows: 8-row groups along K 1024 bytes apart, panels along N `panel_bytes` apart.
            __device__ __forceinline__ unsigned long long wgmma_desc_mn128b(unsigned smem_address, unsigned panel_bytes) {
                return (unsigned long long) ((smem_address & 0x3FFFF) >> 4) | ((unsigned long long) ((panel_bytes & 0x3FFFF) >> 4) << 16)
                       | ((1024ull >> 4) << 32) | (1ull << 62);
            }

            __device__ __forceinline__ void wgmma_fence() {
                asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
            }

            __device__ __forceinline__ void wgmma_commit() {
                asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
            }

            // Waits until at most N of this warp's committed wgmma groups are still running (groups complete in order).
            template <int N>
            __device__ __forceinline__ void wgmma_wait() {
                asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(N) : "memory");
            }

            // Keeps the compiler from moving reads or writes of an accumulator register across a wgmma fence/wait.
            __device__ __forceinline__ void fence_register(float& r) {
                asm volatile("" : "+f"(r) :: "memory");
            }
            """;

    public static String source() {
        return SOURCE;
    }

    /** {@code setmaxnreg}: a warpgroup gives registers back ({@code dec}) or takes them ({@code inc}). */
    public static String setMaxRegisters(boolean increase, int registers) {
        if (registers % 8 != 0 || registers < 24 || registers > 256) {
            throw new IllegalArgumentException("setmaxnreg takes a multiple of 8 in 24..256, not " + registers);
        }
        return "asm volatile(\"setmaxnreg." + (increase ? "inc" : "dec") + ".sync.aligned.u32 " + registers + ";\" ::: \"memory\");";
    }
}
