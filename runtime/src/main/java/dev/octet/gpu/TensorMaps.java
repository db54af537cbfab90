package dev.octet.gpu;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encoded tensor maps, one per distinct spec (a buffer's address, shape and box): a step binds its arena
 * once, so each operand is encoded once and every later launch and graph capture reuses the bytes.
 */
public final class TensorMaps {
    private static final Map<TensorMapSpec, TensorMap> ENCODED = new ConcurrentHashMap<>();

    private TensorMaps() {}

    static TensorMap encoded(TensorMapSpec spec) {
        return ENCODED.computeIfAbsent(spec, s -> Driver.INSTANCE.encodeTiled(s));
    }

    /** The driver binding, opened on first use (never where there is no GPU). */
    private static final class Driver {
        static final ForeignDriver INSTANCE = ForeignDriver.open();
    }
}
