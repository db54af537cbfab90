package dev.octet.data.tokenfile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * A token file opened for reading: the header checked, the tokens memory-mapped and checked once, at open, in
 * one streaming pass: every id inside the vocabulary, as many end-of-document tokens as the header counts
 * documents, and (version 2) the CRC32C of the tokens equal to the header's. A damaged file is refused here,
 * with one line naming it, rather than when a sampled sequence happens to reach the damage, and the pass is
 * the only time a run reads the whole file.
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
            verify(path, header, windows);
            return new TokenFile(path, header, windowBytes, windows);
        }
    }

    /** Whether {@code path} starts with a token file's magic: what may be replaced by a new token file without asking. */
    public static boolean looksLikeOne(Path path) {
        try (var in = Files.newInputStream(path)) {
            return Arrays.equals(in.readNBytes(8), "OCTETTOK".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    /** Bytes checked at a time: small enough to stay in cache between the checksum and the id scan. */
    private static final int CHUNK_BYTES = 1 << 18;

    private static void verify(Path path, TokenFileHeader header, MappedByteBuffer[] windows) throws TokenFileException {
        int vocabulary = header.vocabularySize();
        int endOfDocument = header.endOfDocumentId();
        boolean u16 = header.dtype() == TokenDtype.U16;
        int tokenBytes = header.dtype().bytes;
        CRC32C crc = new CRC32C();
        long documents = 0;
        long index = 0;
        for (MappedByteBuffer window : windows) {
            for (int from = 0; from < window.limit(); from += CHUNK_BYTES) {
                int to = Math.min(window.limit(), from + CHUNK_BYTES);
                if (header.hasChecksum()) {
                    crc.update(window.slice(from, to - from));
                }
                for (int at = from; at < to; at += tokenBytes, index++) {
                    int id = u16 ? Short.toUnsignedInt(window.getShort(at)) : window.getInt(at);
                    if (id == endOfDocument) {
                        documents++;
                    } else if (id < 0 || id >= vocabulary) {
                        throw new TokenFileException(path, "corrupted: token " + index + " is " + Integer.toUnsignedString(id)
                                + ", outside the vocabulary of " + vocabulary + "; tokenize the text again");
                    }
                }
            }
        }
        if (documents != header.documentCount()) {
            throw new TokenFileException(path, "corrupted: the header counts " + header.documentCount() + " documents but the tokens hold "
                    + documents + " end-of-document tokens; tokenize the text again");
        }
        if (header.hasChecksum() && (int) crc.getValue() != header.tokensChecksum()) {
            throw new TokenFileException(path, String.format(Locale.ROOT,
                    "corrupted: the tokens' checksum is %08x, the header records %08x; the file changed after it was written,"
                            + " tokenize the text again", (int) crc.getValue(), header.tokensChecksum()));
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

    /** The token at {@code index}; ids were checked at open, so one outside the vocabulary means the file changed since. */
    public int token(long index) {
        if (index < 0 || index >= header.tokenCount()) {
            throw new IndexOutOfBoundsException("token " + index + " of " + header.tokenCount() + " in " + path);
        }
        MappedByteBuffer window = windows[(int) (index >>> tokensPerWindowShift)];
        int at = (int) (index & ((1L << tokensPerWindowShift) - 1)) * tokenBytes;
        int id = tokenBytes == 2 ? Short.toUnsignedInt(window.getShort(at)) : window.getInt(at);
        if (id < 0 || id >= header.vocabularySize()) {
            throw new IllegalStateException(path + ": changed while open: token " + index + " is " + Integer.toUnsignedString(id)
                    + ", outside the vocabulary of " + header.vocabularySize());
        }
        return id;
    }
}
