package dev.octet.gpu;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The bytes of one cache file: magic, format version, the compiled kernel's fields, and a CRC-32 of all
 * that. Atomic renames already keep readers from seeing half-written files; the checksum turns what is left
 * (a disk error, a crash on a filesystem that reorders writes) into a miss instead of a bad CUBIN.
 */
final class CompileCacheEntry {
    private CompileCacheEntry() {}

    private static final int MAGIC = 0x4F43544B; // "OCTK"
    private static final int VERSION = 1;

    static byte[] encode(CompiledKernel kernel) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            writeString(out, kernel.name());
            writeString(out, kernel.arch());
            PtxasUsage usage = kernel.usage();
            out.writeInt(usage.registers());
            out.writeInt(usage.stackFrameBytes());
            out.writeInt(usage.spillStoreBytes());
            out.writeInt(usage.spillLoadBytes());
            out.writeLong(kernel.compileMillis());
            writeString(out, kernel.log());
            byte[] cubin = kernel.cubin();
            out.writeInt(cubin.length);
            out.write(cubin);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] body = bytes.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(body);
        byte[] entry = Arrays.copyOf(body, body.length + Long.BYTES);
        long sum = crc.getValue();
        for (int i = 0; i < Long.BYTES; i++) {
            entry[body.length + i] = (byte) (sum >>> (56 - 8 * i));
        }
        return entry;
    }

    /** The kernel, or empty when the bytes are not a whole, intact entry of this format. */
    static Optional<CompiledKernel> decode(byte[] entry) {
        if (entry.length < 8 + Long.BYTES) {
            return Optional.empty();
        }
        int bodyLength = entry.length - Long.BYTES;
        CRC32 crc = new CRC32();
        crc.update(entry, 0, bodyLength);
        long stored = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            stored = (stored << 8) | (entry[bodyLength + i] & 0xff);
        }
        if (stored != crc.getValue()) {
            return Optional.empty();
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry, 0, bodyLength))) {
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                return Optional.empty();
            }
            String name = readString(in);
            String arch = readString(in);
            PtxasUsage usage = new PtxasUsage(in.readInt(), in.readInt(), in.readInt(), in.readInt());
            long millis = in.readLong();
            String log = readString(in);
            byte[] cubin = in.readNBytes(in.readInt());
            return Optional.of(new CompiledKernel(name, arch, cubin, log, usage, millis));
        } catch (IOException | RuntimeException malformed) {
            return Optional.empty();
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new IOException("truncated");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
