package dev.octet.compiler.cuda.optim;

import java.util.List;

/**
 * The grid of a multi-tensor launch ({@link AdamWSteps}, {@link GradSquareSums}): member i's blocks are the ones its
 * own launch would have, after those of the members before it. In CUDA, {@code member_of(block)} gives the member of
 * a block (a binary search of the members' first blocks, in constant memory) and {@code FIRST_BLOCK[i]} member i's
 * first block.
 */
record MemberBlocks(List<Integer> blocks) {
    MemberBlocks {
        blocks = List.copyOf(blocks);
    }

    /** Blocks of the whole launch. */
    int total() {
        return blocks.stream().mapToInt(Integer::intValue).sum();
    }

    String source() {
        StringBuilder first = new StringBuilder();
        int block = 0;
        for (int b : blocks) {
            first.append(block).append(", ");
            block += b;
        }
        first.append(block);
        return """
                constexpr int MEMBERS = %d;
                // Member i's blocks are FIRST_BLOCK[i] .. FIRST_BLOCK[i + 1] - 1.
                __constant__ int FIRST_BLOCK[MEMBERS + 1] = {%s};

                __device__ __forceinline__ int member_of(int block) {
                    int lo = 0, hi = MEMBERS - 1;
                    while (lo < hi) {
                        const int mid = (lo + hi + 1) / 2;
                        if (FIRST_BLOCK[mid] <= block) lo = mid; else hi = mid - 1;
                    }
                    return lo;
                }
                """.formatted(blocks.size(), first);
    }
}
