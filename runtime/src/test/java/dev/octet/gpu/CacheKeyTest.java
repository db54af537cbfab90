package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class CacheKeyTest {
    private static final NvrtcVersion V126 = new NvrtcVersion(12, 6);

    private static CacheKey key(String name, String source, List<String> options, NvrtcVersion version, String arch) {
        return CacheKey.of(name, source, options, version, arch);
    }

    @Test
    void equalInputsGiveEqualKeys() {
        assertEquals(key("k", "src", List.of("-O3"), V126, "sm_90a"), key("k", "src", List.of("-O3"), V126, "sm_90a"));
    }

    @Test
    void everyInputChangesTheKey() {
        CacheKey base = key("k", "src", List.of("-O3"), V126, "sm_90a");
        Set<CacheKey> variants = Set.of(
                key("k2", "src", List.of("-O3"), V126, "sm_90a"),
                key("k", "src ", List.of("-O3"), V126, "sm_90a"),
                key("k", "src", List.of("-O2"), V126, "sm_90a"),
                key("k", "src", List.of(), V126, "sm_90a"),
                key("k", "src", List.of("-O3"), new NvrtcVersion(13, 0), "sm_90a"),
                key("k", "src", List.of("-O3"), new NvrtcVersion(12, 8), "sm_90a"),
                key("k", "src", List.of("-O3"), V126, "sm_90"));
        assertEquals(7, variants.size());
        variants.forEach(v -> assertNotEquals(base, v));
    }

    @Test
    void fieldsCannotRunTogether() {
        assertNotEquals(key("k", "src", List.of("-a", "-b"), V126, "sm_90a"),
                key("k", "src", List.of("-a-b"), V126, "sm_90a"));
        assertNotEquals(key("ab", "c", List.of(), V126, "sm_90a"), key("a", "bc", List.of(), V126, "sm_90a"));
    }

    @Test
    void keysAreSha256Hex() {
        assertEquals(64, key("k", "src", List.of(), V126, "sm_90a").hex().length());
    }
}
