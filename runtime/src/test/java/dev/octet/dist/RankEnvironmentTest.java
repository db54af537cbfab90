package dev.octet.dist;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RankEnvironmentTest {

    @Test
    void withoutLauncherVariablesTheRunIsOneProcess() {
        assertEquals(RankEnvironment.single(), RankEnvironment.from(Map.of("PATH", "/usr/bin")));
    }

    @Test
    void readsTheLaunchersVariables() {
        assertEquals(new RankEnvironment(3, 4, 1, "10.0.0.7", 29600), RankEnvironment.from(Map.of(
                "RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.7", "MASTER_PORT", "29600")));
        // One host: the local rank is the rank, rank 0 is here, the port is torchrun's.
        assertEquals(new RankEnvironment(1, 2, 1, "127.0.0.1", 29500), RankEnvironment.from(Map.of("RANK", "1", "WORLD_SIZE", "2")));
        assertEquals(RankEnvironment.from(RankEnvironment.forLocalRank(1, 2, 29511)), new RankEnvironment(1, 2, 1, "127.0.0.1", 29511));
    }

    @Test
    void malformedVariablesAreRefusedWithTheirName() {
        assertMessage("WORLD_SIZE is set but RANK is not: a data-parallel process needs both", Map.of("WORLD_SIZE", "2"));
        assertMessage("RANK=2 is not one of 0..1 (WORLD_SIZE=2)", Map.of("RANK", "2", "WORLD_SIZE", "2"));
        assertMessage("WORLD_SIZE=two is not a whole number", Map.of("RANK", "0", "WORLD_SIZE", "two"));
        assertMessage("MASTER_PORT must be a TCP port (1..65535), not 70000",
                Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "70000"));
    }

    private static void assertMessage(String message, Map<String, String> environment) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> RankEnvironment.from(environment)).getMessage());
    }
}
