package dev.octet.data.tokenfile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A token file opened for reading: the header checked, the tokens memory-mapped.
 *
 * <p>One mapping holds at most 2 GiB, so the tokens are mapped in windows of {@link #DEFAULT_WINDOW_BYTES};
 * a window's size is a multiple of 4, so no token straddles two windows. Only pages that are read are
 * loaded, so opening a large file costs nothing until it is read.
 */
public final class TokenFile {

    /** 1 GiB: below the 2 GiB limit of one mapping, and a multiple of every token width. */
    public static final long DEFAULT_WINDOW_BYTES = 1L << 30;

    private final Path path;
    private final TokenFileHeader header;
    private final int tokenBytes;
    private final int tokensPerWindowShift;
    private final MappedByteBuffer[] windows;

    private TokenFile(Path path, TokenFileHeader header, long windowBytes, MappedByteBuffer[] windows) {
        this.path = path;
        this.header = header;
        this.tokenBytes = header.dtype().bytes;
        this.tokensPerWindowShift = Long.numberOfTrailingZeros(windowBytes / tokenBytes);
        this.windows = windows;
    }

    public static TokenFile open(Path path) throws IOException {
        return open(path, DEFAULT_WINDOW_BYTES);
    }

    /** With windows of {@code windowBytes}, a power of two of at least 4: small ones let tests cross windows. */
    static TokenFile open(Path path, long windowBytes) throws IOException {
        if (Long.bitCount(windowBytes) != 1 || windowBytes < 4 || windowBytes > DEFAULT_WINDOW_BYTES) {
            throw new IllegalArgumentException("window of " + windowBytes + " bytes");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            ByteBuffer head = ByteBuffer.allocate(TokenFileHeader.SIZE);
            while (head.hasRemaining() && channel.read(head) > 0) {
                // read until the header is complete or the file ends
            }
            TokenFileHeader header = TokenFileHeader.decode(path, head.flip(), size);
            long dataBytes = header.tokenCount() * header.dtype().bytes;
            int count = Math.toIntExact((dataBytes + windowBytes - 1) / windowBytes);
            MappedByteBuffer[] windows = new MappedByteBuffer[count];
            for (int w = 0; w < count; w++) {
                long from = (long) w * windowBytes;
                windows[w] = channel.map(FileChannel.MapMode.READ_ONLY, TokenFileHeader.SIZE + from, Math.min(windowBytes, dataBytes - from));
                windows[w].order(ByteOrder.LITTLE_ENDIAN);
            }
            return new TokenFile(path, header, windowBytes, windows);
        }
    }

    public Path path() {
        return path;
    }

    public TokenFileHeader header() {
        return header;
    }

    public long tokenCount() {
        return header.tokenCount();
    }

    /** The token at {@code index}; an id outside the header's vocabulary is a corrupted file. */
    public int token(long index) {
        if (index < 0 || index >= header.tokenCount()) {
            throw new IndexOutOfBoundsException("token " + index + " of " + header.tokenCount() + " in " + path);
        }
        MappedByteBuffer window = windows[(int) (index >>> tokensPerWindowShift)];
        int at = (int) (index & ((1L << tokensPerWindowShift) - 1)) * tokenBytes;
        int id = tokenBytes == 2 ? Short.toUnsignedInt(window.getShort(at)) : window.getInt(at);
        if (id < 0 || id >= header.vocabularySize()) {
            throw new IllegalStateException(path + ": corrupted: token " + index + " is " + Integer.toUnsignedString(id)
                    + ", outside the vocabulary of " + header.vocabularySize());
        }
        return id;
    }
}
