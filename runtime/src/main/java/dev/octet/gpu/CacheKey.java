package dev.octet.gpu;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The name of one compile-cache entry: SHA-256 of everything that decides the CUBIN (kernel name, source,
 * NVRTC options, NVRTC version, architecture). Each field is length-prefixed, so no two different inputs
 * can run together into the same bytes.
 */
public record CacheKey(String hex) {
    private static final String FORMAT = "octet-kernel-cache/1";

    public CacheKey {
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256 hex digest: " + hex);
        }
    }

    public static CacheKey of(String name, String source, List<String> options, NvrtcVersion version,
                              String arch) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        field(sha, FORMAT);
        field(sha, version.toString());
        field(sha, arch);
        field(sha, Integer.toString(options.size()));
        options.forEach(option -> field(sha, option));
        field(sha, name);
        field(sha, source);
        return new CacheKey(HexFormat.of().formatHex(sha.digest()));
    }

    private static void field(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(Long.BYTES).putLong(bytes.length).array());
        sha.update(bytes);
    }

    @Override
    public String toString() {
        return hex;
    }
}
