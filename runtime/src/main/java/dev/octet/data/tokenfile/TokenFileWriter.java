package dev.octet.data.tokenfile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes a token file one document at a time. Tokens go to {@code FILE.partial} behind a blank header; {@link
 * #finish} writes the header, now that the counts and the tokens' checksum (CRC32C, taken as the tokens are
 * written) are known, and renames the file into place, so a reader never sees a file whose header does not
 * match its tokens. {@link #close} without finish deletes the partial file.
 */
public final class TokenFileWriter implements AutoCloseable {

    private final Path target;
    private final Path partial;
    private final String tokenizer;
    private final int vocabularySize;
    private final int endOfDocumentId;
    private final TokenDtype dtype;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C checksum = new CRC32C();
    private long tokens;
    private long documents;
    private boolean finished;

    public TokenFileWriter(Path target, String tokenizer, int vocabularySize, int endOfDocumentId) throws IOException {
        // Checks the fields now rather than after the whole corpus is written.
        new TokenFileHeader(tokenizer, vocabularySize, endOfDocumentId, 0, 0, 0).encode();
        this.target = target;
        this.partial = target.resolveSibling(target.getFileName() + ".partial");
        this.tokenizer = tokenizer;
        this.vocabularySize = vocabularySize;
        this.endOfDocumentId = endOfDocumentId;
        this.dtype = TokenDtype.forVocabulary(vocabularySize);
        this.channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        channel.write(ByteBuffer.allocate(TokenFileHeader.SIZE));
    }

    /** Appends one document's tokens and the end-of-document token after them. */
    public void appendDocument(int[] ids) throws IOException {
        for (int id : ids) {
            put(id);
        }
        put(endOfDocumentId);
        documents++;
    }

    private void put(int id) throws IOException {
        if (id < 0 || id >= vocabularySize) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocabularySize);
        }
        if (buffer.remaining() < dtype.bytes) {
            drain();
        }
        if (dtype == TokenDtype.U16) {
            buffer.putShort((short) id);
        } else {
            buffer.putInt(id);
        }
        tokens++;
    }

    private void drain() throws IOException {
        buffer.flip();
        checksum.update(buffer.duplicate());
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    public long tokenCount() {
        return tokens;
    }

    public long documentCount() {
        return documents;
    }

    /** Writes the header, forces the file to disk and moves it to its name; returns the header. */
    public TokenFileHeader finish() throws IOException {
        drain();
        TokenFileHeader header = new TokenFileHeader(tokenizer, vocabularySize, endOfDocumentId, tokens, documents,
                (int) checksum.getValue());
        ByteBuffer head = header.encode();
        long at = 0;
        while (head.hasRemaining()) {
            at += channel.write(head, at);
        }
        channel.force(true);
        channel.close();
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        finished = true;
        return header;
    }

    @Override
    public void close() throws IOException {
        if (!finished) {
            channel.close();
            Files.deleteIfExists(partial);
        }
    }
}
